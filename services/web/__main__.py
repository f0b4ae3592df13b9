"""``python -m services.web``: the web front (pages for every kind of user)."""

from __future__ import annotations

import argparse

import uvicorn

from contracts import logs
from services.web.app import build_app
from services.web.settings import WebSettings


def main() -> None:
    argparse.ArgumentParser(
        prog="python -m services.web",
        description="Talkoot's web front: pages for residents, provider members, city officers "
        "and admins, calling the services' APIs with the signed-in person's token. Configured "
        "from the environment: TALKOOT_WEB_SECRET (required, at least 32 characters: the "
        "session and CSRF cookies), TALKOOT_HOST, TALKOOT_WEB_PORT (8100), TALKOOT_WEB_URL "
        "(the address people use; https makes cookies Secure), TALKOOT_<SERVICE>_URL or "
        "TALKOOT_<SERVICE>_PORT (where each service is), TALKOOT_OIDC_ISSUER, "
        "TALKOOT_OIDC_CLIENT_ID, TALKOOT_OIDC_CLIENT_SECRET, TALKOOT_OIDC_REDIRECT_URL, "
        "TALKOOT_OIDC_SCOPES (signing in with the city's identity provider), "
        "TALKOOT_DEMO_SIGNIN (a file of demo people to sign in as; off unless set), "
        "TALKOOT_MAP_TILES (a tile server under the request form's map), TALKOOT_LOG_LEVEL.",
    ).parse_args()
    logs.configure()  # httpx's line per call to a service only from WARNING up
    settings = WebSettings.from_env()
    uvicorn.run(
        build_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,  # configured above, with TALKOOT_LOG_LEVEL
        access_log=False,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
