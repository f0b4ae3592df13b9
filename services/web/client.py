"""The services' HTTP APIs as the web front calls them: always with the signed-in person's
token (or none, for what is public), never with a key of its own.

A refusal (4xx) becomes a ``Refusal`` that names the fields it is about, so that a form can
show each message beside its field; a service that cannot be reached becomes ``Unreachable``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from services.web.settings import WebSettings


class Refusal(Exception):
    """A service said no (4xx). ``fields`` maps each field it names to what it said of it;
    ``rule`` is the domain rule it broke, if any."""

    def __init__(self, status: int, detail: str, fields: dict[str, str], rule: str | None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.fields = fields
        self.rule = rule

    @classmethod
    def of(cls, response: httpx.Response) -> Refusal:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        detail = str(body.get("detail") or response.reason_phrase)
        extra = body.get("extra")
        fields: dict[str, str] = {}
        rule = None
        if isinstance(extra, list):  # a validation error: one entry per field
            for item in extra:
                if isinstance(item, dict) and item.get("key"):
                    fields.setdefault(str(item["key"]), str(item.get("message") or detail))
        elif isinstance(extra, dict) and extra.get("rule"):  # a domain rule
            rule = str(extra["rule"])
            fields[rule] = detail
        return cls(response.status_code, detail, fields, rule)


class Unreachable(Exception):
    """A service did not answer, or answered with a server error."""

    def __init__(self, service: str, why: str) -> None:
        super().__init__(f"{service}: {why}")
        self.service = service


CATALOGUE_SECONDS = 60.0


class Services:
    """One HTTP client for every service, shared by the front's requests."""

    def __init__(self, settings: WebSettings) -> None:
        self.urls = settings.services
        self.http = httpx.AsyncClient(timeout=settings.timeout_seconds)
        self._catalogue: tuple[float, Any] | None = None

    async def close(self) -> None:
        await self.http.aclose()

    async def _send(
        self, method: str, service: str, path: str, token: str | None, **kwargs: Any
    ) -> Any:
        headers = kwargs.pop("headers", {})
        as_text = kwargs.pop("text", False)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = await self.http.request(
                method, f"{self.urls[service]}{path}", headers=headers, **kwargs
            )
        except httpx.HTTPError as error:
            raise Unreachable(service, type(error).__name__) from error
        if response.status_code >= 500:
            raise Unreachable(service, f"answered {response.status_code}")
        if response.status_code >= 400:
            raise Refusal.of(response)
        if as_text:
            return response.text
        return response.json() if response.content else None

    async def get(self, service: str, path: str, token: str | None, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None and v != ""}
        return await self._send("GET", service, path, token, params=query)

    async def text(self, service: str, path: str, token: str | None = None, **params: Any) -> str:
        """A read that answers text, not JSON (a signed checkpoint, a verifier key, CSV)."""
        query = {k: v for k, v in params.items() if v is not None and v != ""}
        return await self._send("GET", service, path, token, params=query, text=True)

    async def post(
        self, service: str, path: str, body: Any, token: str | None, key: str | None = None
    ) -> Any:
        """A command, with ``key`` as its Idempotency-Key: a form sent twice (a double
        click, a reload) is one command."""
        headers = {"Idempotency-Key": key or uuid.uuid4().hex}
        return await self._send("POST", service, path, token, json=body, headers=headers)

    async def put(
        self, service: str, path: str, body: Any, token: str | None, key: str | None = None
    ) -> Any:
        """A command that replaces what the caller has there (a ballot, a year's budget)."""
        headers = {"Idempotency-Key": key or uuid.uuid4().hex}
        return await self._send("PUT", service, path, token, json=body, headers=headers)

    async def catalogue(self) -> Any:
        """The service catalogue (public reference data the requests service reads at its
        start): fetched at most once a minute, not on every page and every poll."""
        if self._catalogue is None or time.monotonic() - self._catalogue[0] > CATALOGUE_SECONDS:
            self._catalogue = (time.monotonic(), await self.get("requests", "/catalogue", None))
        return self._catalogue[1]

    async def delete(self, service: str, path: str, token: str | None) -> Any:
        return await self._send("DELETE", service, path, token)
