"""Reference data of the contract, kept as reviewable CSV under schemas/data/.

Tracks, categories and offices (CONTRACT 2.1) and the country alias table
(ISO 3166-1 names and codes from pycountry, plus the names people actually write).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

DATA = Path(__file__).resolve().parent / "data"
_SPACE = re.compile(r"[ \t\r\n\f\v\u00a0\u3000]+")


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def categories() -> dict[str, dict[str, str]]:
    """track -> {category: office}, from categories.csv."""
    out: dict[str, dict[str, str]] = {}
    for r in _rows("categories.csv"):
        out.setdefault(r["track"], {})[r["category"]] = r["office"]
    return out


def country_key(value: str) -> str:
    """Matching key for a country name or code: NFKC, case-folded, no spaces, no dots."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return _SPACE.sub("", folded).replace(".", "").replace("’", "'")


@cache
def country_aliases() -> dict[str, str]:
    """key -> ISO alpha-3. Raises if one key would name two countries (a data error)."""
    out: dict[str, str] = {}
    for name in ("country_aliases_iso.csv", "country_aliases_manual.csv"):
        for r in _rows(name):
            key = country_key(r["alias"])
            if out.setdefault(key, r["iso3"]) != r["iso3"]:
                raise ValueError(f"{name}: alias {r['alias']!r} names {out[key]} and {r['iso3']}")
    return out


def to_iso3(values: pl.Series) -> pl.Series:
    """Map names/codes to ISO alpha-3; null where unknown. Exact alias matches only, never fuzzy."""
    import polars as pl  # here, not at the top: warehouse/db imports this module on every run

    aliases = country_aliases()
    uniques = values.drop_nulls().unique()
    codes = pl.Series([aliases.get(country_key(v)) for v in uniques.to_list()], dtype=pl.String)
    return values.replace_strict(uniques, codes, default=None, return_dtype=pl.String)
