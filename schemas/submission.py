"""Pandera model of one application-form row (CONTRACT 2.1), validated as raw text.

Every column arrives as text (blank = missing); each check says whether the text is
acceptable and carries the rule name that quarantine rows show. Pandera's Polars backend;
a check gets the column and returns one boolean per row (a missing value passes: the
column's `nullable` decides).
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas import parsing
from schemas.checks import passes
from schemas.reference import categories, to_iso3

COLUMNS = [
    "submission_id",
    "submitted_at",
    "country",
    "institution",
    "institution_type",
    "track",
    "category",
    "project_title",
    "description",
    "budget_usd",
    "contact_name",
    "contact_email",
    "status",
]
REQUIRED = [
    "submission_id",
    "submitted_at",
    "country",
    "institution",
    "track",
    "category",
    "project_title",
    "contact_email",
]
HEADER_ALIASES: dict[str, str] = {}
INSTITUTION_TYPES = ["central_government", "local_government", "public_agency"]
STATUSES = ["submitted", "withdrawn"]
# Which column a dataframe-level rule is about (its quarantine rows name these columns).
FRAME_RULE_COLUMNS = {"category_in_track": ["category"]}


class SubmissionRow(pa.DataFrameModel):
    """One row of a form export; all rules of CONTRACT 2.1."""

    submission_id: str = pa.Field(nullable=False, unique=True)
    submitted_at: str = pa.Field(nullable=False)
    country: str = pa.Field(nullable=False)
    institution: str = pa.Field(nullable=False)
    institution_type: str = pa.Field(nullable=True)
    track: str = pa.Field(nullable=False)
    category: str = pa.Field(nullable=False)
    project_title: str = pa.Field(nullable=False)
    description: str = pa.Field(nullable=True)
    budget_usd: str = pa.Field(nullable=True)
    contact_name: str = pa.Field(nullable=True)
    contact_email: str = pa.Field(nullable=False)
    status: str = pa.Field(nullable=True)

    @pa.check("submission_id", name="length_1_64")
    def _id_length(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.strip_chars().str.len_chars().is_between(1, 64))

    @pa.check("submitted_at", name="date_format")
    def _submitted_at(cls, data: PolarsData) -> pl.LazyFrame:
        return passes(data, lambda s: parsing.parse_timestamp(s).is_not_null())

    @pa.check("country", name="country_known")
    def _country(cls, data: PolarsData) -> pl.LazyFrame:
        return passes(data, lambda s: to_iso3(s).is_not_null())

    @pa.check("institution", "project_title", name="max_length_300")
    def _length_300(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.len_chars().le(300))

    @pa.check("institution_type", name="institution_type_allowed")
    def _institution_type(cls, data: PolarsData) -> pl.LazyFrame:
        return passes(data, lambda s: parsing.normalize_token(s).is_in(INSTITUTION_TYPES))

    @pa.check("track", name="track_allowed")
    def _track(cls, data: PolarsData) -> pl.LazyFrame:
        return passes(data, lambda s: parsing.normalize_token(s).is_in(list(categories())))

    @pa.check("budget_usd", name="number_non_negative")
    def _budget(cls, data: PolarsData) -> pl.LazyFrame:
        return passes(data, lambda s: parsing.parse_number(s).is_not_null())

    @pa.check("contact_email", name="email_format")
    def _email(cls, data: PolarsData) -> pl.LazyFrame:
        return passes(data, parsing.is_email)

    @pa.check("status", name="status_allowed")
    def _status(cls, data: PolarsData) -> pl.LazyFrame:
        return passes(data, lambda s: parsing.normalize_token(s).is_in(STATUSES))

    @pa.dataframe_check(name="category_in_track")
    def _category_in_track(cls, data: PolarsData) -> pl.LazyFrame:
        frame = data.lazyframe.select("track", "category").collect()
        track = parsing.normalize_token(frame["track"])
        category = parsing.normalize_token(frame["category"])
        allowed = [f"{t}/{c}" for t, cats in categories().items() for c in cats]
        pairs = track + "/" + category
        # An unknown track is reported by track_allowed; a blank category by `required`.
        ok = ~track.is_in(list(categories())) | category.is_null() | pairs.is_in(allowed).fill_null(False)
        return pl.LazyFrame({"category_in_track": ok.fill_null(True)})

    class Config:
        strict = False
        coerce = False
