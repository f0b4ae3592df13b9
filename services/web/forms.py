"""Forms: what a person typed, kept through a refusal, and the refusal's messages beside the
fields they name, in the page's language.

A service answers in English and names the field or the rule it is about; an English page
shows its words as they are, a Finnish one the sentence below for that field or rule (and the
service's own words under it, for the details), so nothing is lost in translation.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar import Request

from domain.calendar import LOCAL_TIME
from services.web import i18n
from services.web.client import Refusal


def N_(message: str) -> str:
    """Marks a message for the catalogues; translated where it is shown."""
    return message


# What each field or rule a service may name means, said once for every form.
SENTENCES: dict[str, str] = {
    "category": N_("Choose a service from the list."),
    "region": N_("Choose the area, or a point inside one of the areas served."),
    "lat": N_("The point is not inside any area served."),
    "long": N_("The point is not inside any area served."),
    "description": N_("Say what is to be done, in at most a few paragraphs."),
    "address": N_("Check the address."),
    "window": N_("Check the time: it must start before it ends, and not lie in the past."),
    "window_start": N_("Check the start: a date and a time, not in the past."),
    "window_end": N_("Check the end: a date and a time after the start."),
    "reason": N_("Say why, in a sentence."),
    "note": N_("Say why, in a sentence."),
    "hours": N_("Give the hours in quarter hours, such as 1.5 or 2.25."),
    "stars": N_("Give one to five stars."),
    "comment": N_("Shorten the comment."),
    "outcome": N_("Choose how the dispute is ruled."),
    "wrong_state": N_("That cannot be done any more: the request has moved on."),
    "rule": N_("Choose how often."),
    "weekday": N_("Choose the weekday."),
    "day_of_month": N_("Choose a day of the month from 1 to 31, or the last."),
    "start_time": N_("Give the time of day, such as 07:30."),
    "duration_minutes": N_("Give how long it takes, in minutes."),
    "starts": N_("Check the first day."),
    "ends": N_("Check the last day: it must come after the first."),
    "ends_on": N_("Check the last day: it must come after the first."),
    "until": N_("Check the day the pause ends: after it starts."),
    "overlapping_pause": N_("That pause overlaps another one."),
    "day": N_("Check the day."),
    "already_declared": N_("That day is already declared for that area."),
    "regions": N_("Choose at least one area."),
    "categories": N_("Choose at least one service."),
    "already_signed": N_("The contract is signed for the partner already."),
    "provider_moved_on": N_("That cannot be done now: the provider's status has changed."),
    "known_regions": N_("Choose the areas from the list."),
    "known_categories": N_("Choose the services from the list."),
    "capacity": N_("Give how many jobs at once, from 1 up."),
    "name": N_("Give the name."),
    "member_id": N_("Give the member's identifier."),
    "party": N_("Choose whose signature this is."),
    "may_sign": N_("Signing needs the right to sign for your partner."),
    "unit_price_cents": N_("Give the price per hour in euros."),
    "budget_cents": N_("Give the budget in euros."),
    "valid_from": N_("Check the first day of validity."),
    "valid_until": N_("Check the last day of validity: after the first."),
    "provider_id": N_("Give the id of a registered provider, from the provider directory."),
    "request_id": N_("Check the request."),
    "media_url": N_("Give a web address starting with https://."),
    "kind": N_("Choose what kind of provider it is."),
    "business_id": N_("Give the business ID (Y-tunnus) as 1234567-8."),
    "contact_person": N_("Give a contact person."),
}
FORM = "_form"  # what a refusal says about the form as a whole


@dataclass
class Form:
    """A form as shown: the values typed, the errors by field, and the key that makes sending
    it twice one command."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    refused: int = 0  # the status of the service's refusal of it (see ``sent``); 0: none

    def get(self, name: str, default: Any = "") -> Any:
        return self.values.get(name, default)

    def error(self, name: str) -> str:
        return self.errors.get(name, "")


async def form_of(request: Request) -> Form:
    """What was sent, each field once (the last value) or as a list for checkbox groups."""
    data = await request.form()
    values: dict[str, Any] = {}
    for name in data:
        items = data.getall(name)
        values[name] = items if len(items) > 1 or name.endswith("[]") else items[0]
    key = str(values.pop("idempotency_key", "") or "") or uuid.uuid4().hex
    values.pop("_csrf_token", None)
    return Form(values=values, key=key)


def number_or_text(value: Any) -> float | str | None:
    """A number as a person types it (``2,5`` or ``2.5``); what is no finite number goes as
    typed, for the service to name; nothing typed is None."""
    if value in ("", None):
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        return value
    return number if math.isfinite(number) else value


def typed_moment(value: Any) -> datetime | None:
    """A moment as a ``datetime-local`` field sends it (Lahti's time, unless it says its
    zone); None for nothing typed or what is no moment."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=LOCAL_TIME)


def say(field_name: str, message: str) -> str:
    """What a service said of ``field_name``, in the page's language."""
    if i18n.language() == "en":
        return message
    sentence = SENTENCES.get(field_name)
    if sentence is None:
        return i18n.gettext("The service refused this:") + f" {message}"
    return i18n.gettext(sentence)


def refused(
    form: Form, refusal: Refusal, fields: Iterable[str], aliases=None, said_as=None
) -> Form:
    """``form`` again, with each message of ``refusal`` beside the field it names (one of
    ``fields``, or one the ``aliases`` map to a field of the form: a service's ``window`` is a
    form's ``window_start``, say); what names none goes at the top of the form. ``said_as``
    gives a name of the service the sentence this form says it in (a ``region`` the catalogue
    does not know is, on a form of areas to tick, ``known_regions``)."""
    fields = set(fields)
    aliases = aliases or {}
    said_as = said_as or {}
    for name, message in (refusal.fields or {FORM: refusal.detail}).items():
        shown = aliases.get(name, name)
        words = say(said_as.get(name, name), message)
        if shown in fields:
            form.errors.setdefault(shown, words)
        else:
            form.errors.setdefault(FORM, words)
    if not form.errors:
        form.errors[FORM] = say(FORM, refusal.detail)
    # a new key: what was refused stored nothing, and the corrected form is another command
    form.key = uuid.uuid4().hex
    return form


async def sent(
    form: Form,
    command: Awaitable[Any],
    fields: Iterable[str] = (),
    aliases: dict[str, str] | None = None,
    said_as: dict[str, str] | None = None,
    *,
    passes: Collection[int] = (401, 404),
) -> Any:
    """What a service answered to ``command`` (a call of the services' client) sent from
    ``form``. Where it refused, its words go beside the form's ``fields`` (see ``refused``)
    and ``form.refused`` is its status, for the page to show the form again with them; a
    refusal whose status ``passes`` (401: signed out; 404: not there) goes on to its own
    page."""
    try:
        return await command
    except Refusal as refusal:
        if refusal.status in passes:
            raise
        refused(form, refusal, fields, aliases, said_as)
        form.refused = refusal.status
        return None
