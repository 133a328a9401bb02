"""Pandera model of one application-form row (CONTRACT 2.1), validated as raw text.

Every column arrives as text (blank = missing); each check says whether the text is
acceptable and carries the rule name that quarantine rows show.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas import parsing
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


def _blank_or(values: pd.Series, ok: pd.Series) -> pd.Series:
    return values.isna() | ok


class SubmissionRow(pa.DataFrameModel):
    """One row of a form export; all rules of CONTRACT 2.1."""

    submission_id: Series[str] = pa.Field(nullable=False, unique=True)
    submitted_at: Series[str] = pa.Field(nullable=False)
    country: Series[str] = pa.Field(nullable=False)
    institution: Series[str] = pa.Field(nullable=False)
    institution_type: Series[str] = pa.Field(nullable=True)
    track: Series[str] = pa.Field(nullable=False)
    category: Series[str] = pa.Field(nullable=False)
    project_title: Series[str] = pa.Field(nullable=False)
    description: Series[str] = pa.Field(nullable=True)
    budget_usd: Series[str] = pa.Field(nullable=True)
    contact_name: Series[str] = pa.Field(nullable=True)
    contact_email: Series[str] = pa.Field(nullable=False)
    status: Series[str] = pa.Field(nullable=True)

    @pa.check("submission_id", name="length_1_64")
    def _id_length(cls, s: Series[str]) -> Series[bool]:
        return s.str.strip().str.len().between(1, 64)

    @pa.check("submitted_at", name="date_format")
    def _submitted_at(cls, s: Series[str]) -> Series[bool]:
        return parsing.parse_timestamp(s).notna()

    @pa.check("country", name="country_known")
    def _country(cls, s: Series[str]) -> Series[bool]:
        return to_iso3(s).notna()

    @pa.check("institution", "project_title", name="max_length_300")
    def _length_300(cls, s: Series[str]) -> Series[bool]:
        return s.str.len().le(300)

    @pa.check("institution_type", name="institution_type_allowed")
    def _institution_type(cls, s: Series[str]) -> Series[bool]:
        return _blank_or(s, parsing.normalize_token(s).isin(INSTITUTION_TYPES))

    @pa.check("track", name="track_allowed")
    def _track(cls, s: Series[str]) -> Series[bool]:
        return parsing.normalize_token(s).isin(list(categories()))

    @pa.check("budget_usd", name="number_non_negative")
    def _budget(cls, s: Series[str]) -> Series[bool]:
        return _blank_or(s, parsing.parse_number(s).notna())

    @pa.check("contact_email", name="email_format")
    def _email(cls, s: Series[str]) -> Series[bool]:
        return parsing.is_email(s)

    @pa.check("status", name="status_allowed")
    def _status(cls, s: Series[str]) -> Series[bool]:
        return _blank_or(s, parsing.normalize_token(s).isin(STATUSES))

    @pa.dataframe_check(name="category_in_track")
    def _category_in_track(cls, df: pd.DataFrame) -> Series[bool]:
        track = parsing.normalize_token(df["track"])
        category = parsing.normalize_token(df["category"])
        allowed = [f"{t}/{c}" for t, cats in categories().items() for c in cats]
        pairs = track + "/" + category
        # An unknown track is reported by track_allowed; a blank category by `required`.
        return ~track.isin(list(categories())) | category.isna() | pairs.isin(allowed).fillna(False)

    class Config:
        strict = False
        coerce = False
