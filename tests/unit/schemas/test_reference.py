"""Country names people write map to ISO alpha-3; unknown names stay unknown (no fuzzy guess)."""

import polars as pl
import pytest

from schemas.reference import categories, country_aliases, to_iso3


@pytest.mark.parametrize(
    ("written", "iso3"),
    [
        ("Turkey", "TUR"), ("Türkiye", "TUR"), ("터키", "TUR"), ("튀르키예", "TUR"), ("TR", "TUR"),
        ("Lao PDR", "LAO"), ("Laos", "LAO"), ("라오스", "LAO"),
        ("Lao People's Democratic Republic", "LAO"),
        ("Russia", "RUS"), ("러시아", "RUS"), ("Russian Federation", "RUS"),
        ("Viet Nam", "VNM"), ("Vietnam", "VNM"), ("베트남", "VNM"),
        ("the Philippines", "PHL"), ("PHILIPPINES", "PHL"), ("ph", "PHL"), ("phl", "PHL"),
        ("Republic of Indonesia", "IDN"), ("  indonesia ", "IDN"), ("인도네시아", "IDN"),
        ("Burma", "MMR"), ("Republic of Peru", "PER"), ("Korea, Republic of", "KOR"),
    ],
)  # fmt: skip
def test_names_and_codes_map_to_iso3(written, iso3):
    assert to_iso3(pl.Series([written]))[0] == iso3


@pytest.mark.parametrize("written", ["Atlantis", "Columbia", "Indonesa", "Korea", "XX"])
def test_unknown_or_misspelt_names_are_not_guessed(written):
    assert to_iso3(pl.Series([written]))[0] is None


def test_alias_table_is_consistent():
    aliases = country_aliases()  # raises if one alias names two countries
    assert len(set(aliases.values())) == 249


def test_every_category_routes_to_one_office():
    cats = categories()
    assert set(cats) == {"urban_development", "smart_solution", "other"}
    assert cats["urban_development"]["station_area"] == "railway"
    assert cats["urban_development"]["airport_relocation"] == "airport"
    assert cats["smart_solution"]["ai_transport"] == "road"
    assert sum(len(c) for c in cats.values()) == 15
