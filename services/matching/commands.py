"""Matching's commands: a provider's answer to an offer. The provider answering is the
caller's (its token names it), never a field here."""

from __future__ import annotations

from services.platform.http import Body, text

Reason = text(1000)


class Answer(Body):
    """Taking the job: nothing to say but yes."""


class Decline(Body):
    reason: Reason = ""
