"""The web front: server-rendered pages for residents, provider members, city officers and
admins, calling the services' APIs with the signed-in person's token. No business rule and no
database of its own."""
