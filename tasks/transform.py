"""Turn validated raw text rows into typed staging rows (pure DataFrame -> DataFrame).

Uses the same parsers as the checks, so a row that passed validation always converts.
"""

from __future__ import annotations

import pandas as pd

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


def _text(values: pd.Series) -> pd.Series:
    return values.astype("str").str.strip()


def stage_submissions(valid: pd.DataFrame) -> pd.DataFrame:
    """Typed submission rows: Seoul timestamps, ISO alpha-3, lower-case codes, numeric budget."""
    out = pd.DataFrame(index=valid.index)
    out["row_number"] = valid.index.astype("int64")
    out["submission_id"] = _text(valid["submission_id"])
    out["submitted_at"] = parsing.parse_timestamp(valid["submitted_at"])
    out["country_iso3"] = to_iso3(valid["country"])
    for col in ("institution", "project_title", "description", "contact_name", "contact_email"):
        out[col] = _text(valid[col])
    for col in ("institution_type", "track", "category"):
        out[col] = parsing.normalize_token(valid[col])
    out["budget_usd"] = parsing.parse_number(valid["budget_usd"]).astype("float64")
    out["status"] = parsing.normalize_token(valid["status"]).fillna("submitted")
    return out[SUBMISSION_COLUMNS].reset_index(drop=True)


def stage_feedback(valid: pd.DataFrame) -> pd.DataFrame:
    """Typed review rows: integer scores (NA = not rated), review date, trimmed ministry."""
    out = pd.DataFrame(index=valid.index)
    out["row_number"] = valid.index.astype("int64")
    out["submission_id"] = _text(valid["submission_id"])
    out["ministry"] = _text(valid["ministry"]).str.replace(r"[ \t]+", " ", regex=True)
    for col in ("cooperation", "prospects", "business"):
        out[col] = parsing.parse_score(valid[col])
    out["comment"] = _text(valid["comment"])
    out["reviewed_at"] = parsing.parse_timestamp(valid["reviewed_at"]).dt.normalize()
    return out[FEEDBACK_COLUMNS].reset_index(drop=True)


STAGERS = {"submissions": stage_submissions, "feedback": stage_feedback}
