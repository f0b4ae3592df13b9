"""(category, region) pairs that tests share because none of them has a provider work there:
their requests go unmatched and stay so. They come from the same count as the ``scope``
fixture's, so that no test that does register providers gets them; and there are only so many
pairs, so each is drawn once for the session."""

from __future__ import annotations

from functools import cache

import pytest

from services.platform.catalogue import load_catalogue
from tests.conftest import CATEGORIES, REGIONS, _scopes

PUBLIC_MATTER = "path-clearing"

_drawn: dict[bool, list[tuple[str, str]]] = {True: [], False: []}  # by public_matter


def _draw(public: bool) -> tuple[str, str]:
    """The first pair drawn of a public matter (or not); the others drawn on the way are kept
    for the other kind."""
    categories = load_catalogue().categories
    assert categories[PUBLIC_MATTER].public_matter
    while not _drawn[public]:
        n = next(_scopes)
        if n >= len(CATEGORIES) * len(REGIONS):
            pytest.fail("out of distinct (category, region) pairs for tests")
        category, region = CATEGORIES[n % len(CATEGORIES)], REGIONS[n // len(CATEGORIES)]
        if category == PUBLIC_MATTER or not categories[category].public_matter:
            _drawn[categories[category].public_matter].append((category, region))
    return _drawn[public][0]


@cache
def quiet() -> tuple[str, str]:
    """A pair of a household's own category where no provider works."""
    return _draw(public=False)


@cache
def public_matter() -> tuple[str, str]:
    """A pair of the public matter (path-clearing) where no provider works."""
    return _draw(public=True)
