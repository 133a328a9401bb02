"""Turn validated raw text rows into typed staging rows (pure: Polars frame in, Polars frame out).

Uses the same parsers as the checks, so a row that passed validation always converts.
"""

from __future__ import annotations

import polars as pl

from schemas import parsing
from schemas.reference import to_iso3

SUBMISSION_COLUMNS = [
    "row_number", "submission_id", "submitted_at", "country_iso3", "institution",
    "institution_type", "track", "category", "project_title", "description", "budget_usd",
    "contact_name", "contact_email", "status",
]  # fmt: skip
FEEDBACK_COLUMNS = [
    "row_number", "submission_id", "ministry", "cooperation", "prospects", "business",
    "comment", "reviewed_at",
]  # fmt: skip


def _text(values: pl.Series) -> pl.Series:
    return values.cast(pl.String).str.strip_chars()


def stage_submissions(valid: pl.DataFrame) -> pl.DataFrame:
    """Typed submission rows: Seoul timestamps, ISO alpha-3, lower-case codes, numeric budget."""
    out = {
        "row_number": valid["row_number"].cast(pl.Int64),
        "submission_id": _text(valid["submission_id"]),
        "submitted_at": parsing.parse_timestamp(valid["submitted_at"]),
        "country_iso3": to_iso3(valid["country"]),
        **{
            c: _text(valid[c])
            for c in ("institution", "project_title", "description", "contact_name", "contact_email")
        },
        **{c: parsing.normalize_token(valid[c]) for c in ("institution_type", "track", "category")},
        "budget_usd": parsing.parse_number(valid["budget_usd"]).cast(pl.Float64),
        "status": parsing.normalize_token(valid["status"]).fill_null("submitted"),
    }
    return pl.DataFrame({c: out[c].alias(c) for c in SUBMISSION_COLUMNS})


def stage_feedback(valid: pl.DataFrame) -> pl.DataFrame:
    """Typed review rows: integer scores (null = not rated), review date, trimmed ministry."""
    out = {
        "row_number": valid["row_number"].cast(pl.Int64),
        "submission_id": _text(valid["submission_id"]),
        "ministry": _text(valid["ministry"]).str.replace_all(r"[ \t]+", " "),
        **{c: parsing.parse_score(valid[c]) for c in ("cooperation", "prospects", "business")},
        "comment": _text(valid["comment"]),
        "reviewed_at": parsing.parse_timestamp(valid["reviewed_at"]).dt.truncate("1d"),
    }
    return pl.DataFrame({c: out[c].alias(c) for c in FEEDBACK_COLUMNS})


STAGERS = {"submissions": stage_submissions, "feedback": stage_feedback}
