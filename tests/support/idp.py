"""A small OpenID Connect identity provider for the tests: discovery, an authorization
endpoint that signs in whoever the test names (``next_subject``), a token endpoint that
checks the client, the redirect address and the PKCE verifier, a sign-out endpoint
(RP-Initiated Logout) that knows the ID tokens it gave, and its keys. Its ID tokens are RS256
with its own key; its access tokens are what the test's services accept (``sign_access``)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


class IdentityProvider:
    def __init__(
        self, client_id: str, client_secret: str, sign_access: Callable[[str], str]
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.sign_access = sign_access  # subject -> an access token the services accept
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        self.codes: dict[str, dict[str, Any]] = {}
        self.exchanged: list[dict[str, Any]] = []  # what the token endpoint was sent
        self.issued: list[str] = []  # the ID tokens it gave
        self.ended: list[dict[str, str]] = []  # what the sign-out endpoint was sent
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.next_subject = "resident-oidc"

    def __enter__(self) -> IdentityProvider:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()

    def jwks(self) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def id_token(self, subject: str, nonce: str, **changes: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": subject,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": f"Testi {subject}",
            **changes,
        }
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        self.issued.append(token)
        return token

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    return self._json(
                        200,
                        {
                            "issuer": provider.url,
                            "authorization_endpoint": f"{provider.url}/authorize",
                            "token_endpoint": f"{provider.url}/token",
                            "jwks_uri": f"{provider.url}/jwks",
                            "end_session_endpoint": f"{provider.url}/logout",
                            "response_types_supported": ["code"],
                            "code_challenge_methods_supported": ["S256"],
                            "id_token_signing_alg_values_supported": ["RS256"],
                        },
                    )
                if url.path == "/jwks":
                    return self._json(200, provider.jwks())
                if url.path == "/logout":
                    provider.ended.append(query)
                    if query.get("id_token_hint") not in provider.issued:
                        return self._json(400, {"error": "invalid_request"})
                    self.send_response(302)
                    self.send_header("Location", query.get("post_logout_redirect_uri", "/"))
                    self.end_headers()
                    return None
                if url.path == "/authorize":
                    if (
                        query.get("client_id") != provider.client_id
                        or query.get("code_challenge_method") != "S256"
                        or not query.get("code_challenge")
                    ):
                        return self._json(400, {"error": "invalid_request"})
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {**query, "subject": provider.next_subject}
                    back = urlencode({"code": code, "state": query.get("state", "")})
                    self.send_response(302)
                    self.send_header("Location", f"{query['redirect_uri']}?{back}")
                    self.end_headers()
                    return None
                return self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                provider.exchanged.append(form)
                asked = provider.codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                challenge = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                    .rstrip(b"=")
                    .decode()
                )
                if (
                    asked is None
                    or form.get("client_id") != provider.client_id
                    or form.get("client_secret") != provider.client_secret
                    or form.get("redirect_uri") != asked.get("redirect_uri")
                    or challenge != asked.get("code_challenge")
                ):
                    return self._json(400, {"error": "invalid_grant"})
                subject = asked["subject"]
                return self._json(
                    200,
                    {
                        "access_token": provider.sign_access(subject),
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": provider.id_token(subject, asked.get("nonce", "")),
                    },
                )

        return Handler
