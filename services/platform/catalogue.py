"""Loads the service catalogue and regions from the city's reference file (TOML)."""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path

from domain.catalogue import Catalogue, Category, Region
from domain.errors import InvalidValue

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "deploy" / "catalogue.toml"


def catalogue_file(path: str | None = None) -> Path:
    """The reference file in use: ``path``, else TALKOOT_CATALOGUE, else the project's own."""
    return Path(path or os.environ.get("TALKOOT_CATALOGUE") or DEFAULT_FILE)


@cache
def load_catalogue(path: str | None = None) -> Catalogue:
    with catalogue_file(path).open("rb") as f:
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
            )
            for code, entry in data.get("categories", {}).items()
        },
        regions={
            code: Region(code=code, name=entry["name"])
            for code, entry in data.get("regions", {}).items()
        },
    )


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
