"""Loads the service catalogue and regions from the city's reference file (TOML)."""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path

from domain.catalogue import Catalogue, Category, Region, Ring, check_ring
from domain.errors import InvalidValue
from domain.place import check_location
from services.platform.errors import InvalidField

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "deploy" / "catalogue.toml"


def catalogue_file(path: str | None = None) -> Path:
    """The reference file in use: ``path``, else TALKOOT_CATALOGUE, else the project's own."""
    return Path(path or os.environ.get("TALKOOT_CATALOGUE") or DEFAULT_FILE)


@cache
def load_catalogue(path: str | None = None) -> Catalogue:
    """The catalogue in the reference file; a file that is not right stops the service with a
    sentence naming the entry and what is wrong with it."""
    file = catalogue_file(path)
    with file.open("rb") as f:
        data = tomllib.load(f)
    return Catalogue(
        categories={
            code: Category(
                code=code,
                name=entry["name"],
                description=entry.get("description", ""),
                estimated_minutes=int(entry.get("estimated_minutes", 60)),
                group=entry.get("group", ""),
                keywords=tuple(entry.get("keywords", ())),
                public_matter=bool(entry.get("public_matter", False)),
                name_fi=_text(file, f"category {code}", entry, "name_fi"),
                description_fi=_text(file, f"category {code}", entry, "description_fi"),
            )
            for code, entry in data.get("categories", {}).items()
        },
        regions={
            code: Region(
                code=code,
                name=entry["name"],
                name_fi=_text(file, f"region {code}", entry, "name_fi"),
                boundary=_boundary(file, code, entry.get("boundary")),
            )
            for code, entry in data.get("regions", {}).items()
        },
    )


def _text(file: Path, what: str, entry: dict, key: str) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise SystemExit(f"{file}: {what}: {key} must be text, got {value!r}")
    return value


def _boundary(file: Path, code: str, positions: object) -> Ring | None:
    if positions is None:
        return None
    try:
        return check_ring(positions)
    except InvalidValue as error:
        raise SystemExit(f"{file}: region {code}: {error.message}") from None


def check_scope(catalogue: Catalogue, categories: list[str], regions: list[str]) -> None:
    """Refuse categories or regions the catalogue does not know, naming them."""
    if unknown := catalogue.unknown_categories(categories):
        raise InvalidValue(
            f"unknown category {', '.join(unknown)}; known: {', '.join(catalogue.categories)}",
            rule="category",
        )
    if unknown := catalogue.unknown_regions(regions):
        raise InvalidValue(
            f"unknown region {', '.join(unknown)}; known: {', '.join(catalogue.regions)}",
            rule="region",
        )


def region_of(
    catalogue: Catalogue, region: str | None, lat: float | None, long: float | None
) -> str:
    """The region of something to be done at the point (lat, long), if given, in ``region``,
    if given: the region as given, or the one whose boundary the point lies in.

    Refused (400, naming the field): neither a region nor a point; a point alone outside every
    region; a region and a point that lies in another region, when the region given has a
    boundary. A point outside every boundary is taken with the region given (the boundaries
    are drawn roughly), and so is any point with a region drawn without a boundary."""
    check_location(lat, long)
    if region is not None:
        check_scope(catalogue, [], [region])
    if lat is None or long is None:
        if region is None:
            raise InvalidField(
                "region is required unless lat and long are given (the region is then the "
                f"one the point lies in); known: {', '.join(catalogue.regions)}",
                rule="region",
            )
        return region
    found = catalogue.region_at(lat, long)
    if region is None:
        if found is None and not catalogue.bounded():
            raise InvalidField(
                "region is required: no region here has a boundary to find it from the point",
                rule="region",
            )
        if found is None:
            raise InvalidField(
                f"the point lat {lat}, long {long} is outside the regions served "
                f"({', '.join(r.name for r in catalogue.bounded())}); give a point in one of "
                "them, or name its region",
                rule="lat",
            )
        return found.code
    given = catalogue.regions[region]
    if found is not None and found.code != region and given.boundary is not None:
        raise InvalidField(
            f"the point lat {lat}, long {long} lies in {found.name} ({found.code}), not in "
            f"{given.name} ({given.code}): correct the region or the point, or leave the "
            "region out to have it found from the point",
            rule="region",
        )
    return region
