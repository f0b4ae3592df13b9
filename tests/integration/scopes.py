"""(category, region) pairs of a kind a test needs, none of which another test of the session
uses (they come from the same count as the ``scope`` fixture's)."""

from __future__ import annotations

import pytest

from services.platform.catalogue import load_catalogue
from tests.conftest import CATEGORIES, REGIONS, _scopes

PUBLIC_MATTER = "path-clearing"


def private_and_public() -> tuple[tuple[str, str], tuple[str, str]]:
    """One pair of a household's own category and one of the public matter."""
    categories = load_catalogue().categories
    assert categories[PUBLIC_MATTER].public_matter
    private = public = None
    while private is None or public is None:
        n = next(_scopes)
        if n >= len(CATEGORIES) * len(REGIONS):
            pytest.fail("out of distinct (category, region) pairs for tests")
        pair = CATEGORIES[n % len(CATEGORIES)], REGIONS[n // len(CATEGORIES)]
        if pair[0] == PUBLIC_MATTER:
            public = public or pair
        elif not categories[pair[0]].public_matter:
            private = private or pair
    return private, public
