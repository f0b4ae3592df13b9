"""How Talkoot runs: the embedded local stack (PostgreSQL, nats-server) and its processes."""
