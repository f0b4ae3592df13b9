"""Matching's commands: a provider's answer to an offer. The provider answering is the
caller's (its token names it), never a field here."""

from __future__ import annotations

from services.platform.http import Body, text

# A decline says why: the resident and the city read it, and the job goes on to the next
# provider. Not empty nor only white space, at most 1000 characters, no control characters.
Reason = text(1000, blank=False)


class Answer(Body):
    """Taking the job: nothing to say but yes."""


class Decline(Body):
    reason: Reason
