"""Builders for the partnership tables' tests: a table founded by an admin, its coordinator,
residents of its regions, and the steps of its meetings, initiatives and rounds."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from domain.calendar import local_today
from tests.client import Talkoot

REGION = "nastola"
OTHER_REGION = "heinola"


def new_code() -> str:
    return f"table-{uuid.uuid4().hex[:10]}"


def days_ago(days: int) -> str:
    return (local_today() - timedelta(days=days)).isoformat()


def found(talkoot: Talkoot, regions: list[str] | None = None, **figures: Any) -> str:
    """A table of ``regions`` founded 90 days ago (unless ``founded_on`` says otherwise)."""
    code = new_code()
    body = {
        "table_id": code,
        "name": f"Alueraati {code}",
        "regions": regions or [REGION],
        "coordinator": f"coordinator-of-{code}",
        "founded_on": days_ago(90),
        **figures,
    }
    talkoot.ok(talkoot.post("tables", "/tables", body, who=talkoot.admin()))
    return code


def coordinator(talkoot: Talkoot, table_id: str) -> str:
    return talkoot.token(f"coordinator-of-{table_id}", "coordinator", table=table_id)


def resident(talkoot: Talkoot, name: str, region: str = REGION) -> str:
    return talkoot.token(name, "resident", region=region)


def command(talkoot: Talkoot, path: str, body: Any, who: str):
    return talkoot.post("tables", path, body, who=who)


def put(talkoot: Talkoot, path: str, body: Any, who: str):
    return talkoot.http.put(talkoot.url("tables", path), json=body, headers=talkoot.headers(who))


def read(talkoot: Talkoot, path: str, who: str | None = None, **params: Any) -> dict | list:
    return talkoot.ok(talkoot.get("tables", path, who=who, **params), 200)


def join(talkoot: Talkoot, table_id: str, member_id: str, on: str | None = None) -> None:
    body = {"member_id": member_id, "name": f"Jäsen {member_id}", "kind": "resident"}
    if on:
        body["on"] = on
    talkoot.ok(
        command(talkoot, f"/tables/{table_id}/members", body, coordinator(talkoot, table_id))
    )


def meeting(talkoot: Talkoot, table_id: str, on: str) -> str:
    body = {"on": on, "agenda": "Kuulumiset"}
    path = f"/tables/{table_id}/meetings"
    return talkoot.ok(command(talkoot, path, body, coordinator(talkoot, table_id)))["id"]


def hold(talkoot: Talkoot, table_id: str, meeting_id: str, **record: Any):
    body = {"attendees": [], **record}
    path = f"/tables/{table_id}/meetings/{meeting_id}/record"
    return command(talkoot, path, body, coordinator(talkoot, table_id))


def initiative(talkoot: Talkoot, table_id: str, who: str, **body: Any) -> str:
    path = f"/tables/{table_id}/initiatives"
    made = command(talkoot, path, {"title": "Valaistus kevyen liikenteen väylälle", **body}, who)
    return talkoot.ok(made)["id"]


def why(response) -> tuple[int, str]:
    """A refusal's status and what it names: the domain rule, or the field that failed."""
    extra = response.json().get("extra")
    if isinstance(extra, dict):
        return response.status_code, extra.get("rule", "")
    if isinstance(extra, list) and extra:
        return response.status_code, extra[0].get("key", "").split(".")[0]
    return response.status_code, ""
