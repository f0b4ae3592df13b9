"""The web front's configuration, from ``TALKOOT_*``: where the services are, its cookie key,
and how people sign in (the city's OpenID Connect provider, or the local demo's list)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from services import registry


@dataclass(frozen=True)
class Oidc:
    """The city's identity provider: an OpenID Connect issuer and this front as its client."""

    issuer: str
    client_id: str
    client_secret: str | None = None
    # Where the provider sends people back to: <this front>/signin/callback by default.
    redirect_url: str | None = None
    scopes: str = "openid profile"


@dataclass(frozen=True)
class WebSettings:
    # The services' URLs, by name.
    services: dict[str, str]
    # Signs and encrypts the session cookie and the CSRF cookie.
    secret: str
    host: str = "127.0.0.1"
    port: int = registry.WEB.port or 8100
    # The address people reach the front at; its scheme decides whether cookies are Secure.
    public_url: str = ""
    oidc: Oidc | None = None
    # The local demo's people (``talkoot up --demo`` writes them): listed on the sign-in page.
    demo_people: Path | None = None
    # A tile server under the request form's map, ``https://…/{z}/{x}/{y}.png``; none: the
    # regions' outlines alone.
    map_tiles: str = ""
    # Whose the tiles are, as their licence asks it to be shown (the tile server's host when
    # not set).
    map_attribution: str = ""
    # How long the front waits for a service.
    timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls) -> WebSettings:
        secret = os.environ.get("TALKOOT_WEB_SECRET", "")
        if len(secret) < 32:
            raise SystemExit(
                "TALKOOT_WEB_SECRET must be set to at least 32 characters: it keeps the "
                "session cookies (`talkoot up` makes one in <data>/secrets.json)"
            )
        port = int(os.environ.get("TALKOOT_WEB_PORT", registry.WEB.port or 8100))
        host = os.environ.get("TALKOOT_HOST", "127.0.0.1")
        services = {
            service.name: os.environ.get(f"TALKOOT_{service.name.upper()}_URL")
            or f"http://127.0.0.1:{os.environ.get(f'TALKOOT_{service.name.upper()}_PORT', service.port)}"  # noqa: E501
            for service in registry.SERVICES
        }
        oidc = None
        if issuer := os.environ.get("TALKOOT_OIDC_ISSUER"):
            client_id = os.environ.get("TALKOOT_OIDC_CLIENT_ID")
            if not client_id:
                raise SystemExit("TALKOOT_OIDC_ISSUER is set but TALKOOT_OIDC_CLIENT_ID is not")
            oidc = Oidc(
                issuer=issuer.rstrip("/"),
                client_id=client_id,
                client_secret=os.environ.get("TALKOOT_OIDC_CLIENT_SECRET") or None,
                redirect_url=os.environ.get("TALKOOT_OIDC_REDIRECT_URL") or None,
                scopes=os.environ.get("TALKOOT_OIDC_SCOPES", "openid profile"),
            )
        demo = os.environ.get("TALKOOT_DEMO_SIGNIN", "")
        tiles = os.environ.get("TALKOOT_MAP_TILES", "").strip()
        if tiles and not (
            urlsplit(tiles).scheme in {"http", "https"}
            and urlsplit(tiles).netloc
            and all(part in tiles for part in ("{z}", "{x}", "{y}"))
        ):
            raise SystemExit(
                f"TALKOOT_MAP_TILES must be a tile server's URL with {{z}}, {{x}} and {{y}}, "
                f"such as https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png; got {tiles!r}"
            )
        return cls(
            services=services,
            secret=secret,
            host=host,
            port=port,
            public_url=os.environ.get("TALKOOT_WEB_URL", f"http://{host}:{port}").rstrip("/"),
            oidc=oidc,
            demo_people=Path(demo) if demo and demo != "off" else None,
            map_tiles=tiles,
            map_attribution=os.environ.get("TALKOOT_MAP_ATTRIBUTION", "").strip()
            or urlsplit(tiles).netloc,
        )

    @property
    def secure_cookies(self) -> bool:
        """Cookies travel over HTTPS only, except on this machine itself."""
        return urlsplit(self.public_url).hostname not in {"127.0.0.1", "localhost", "::1"}

    def key(self, purpose: str) -> bytes:
        """A 32-byte key of the front's secret for one ``purpose`` (the session, CSRF)."""
        return hashlib.sha256(f"{purpose}:{self.secret}".encode()).digest()
