"""Signing in with the city's identity provider: OpenID Connect's authorization-code flow
with PKCE. (To come: the flow itself.)"""

from __future__ import annotations

OIDC_PAGES: list = []
