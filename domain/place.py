"""Where work is done or a provider works from: a point in WGS84, given whole or not at all."""

from __future__ import annotations

from domain.errors import InvalidValue


def check_location(lat: float | None, long: float | None) -> None:
    """Both coordinates or neither, each within its range."""
    if (lat is None) != (long is None):
        raise InvalidValue(
            "give both lat and long, or neither", rule="lat" if lat is None else "long"
        )
    if lat is not None and not -90 <= lat <= 90:
        raise InvalidValue(f"lat must be between -90 and 90, got {lat}", rule="lat")
    if long is not None and not -180 <= long <= 180:
        raise InvalidValue(f"long must be between -180 and 180, got {long}", rule="long")
