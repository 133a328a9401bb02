"""Validate raw rows with the Pandera models and split them into valid rows and quarantine.

Pandera only reports; turning its failure cases into quarantine rows (row number,
column, rule, offending value) is this module's job. Pure: DataFrame in, DataFrames out.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from schemas import feedback, submission
from schemas.feedback import FeedbackRow
from schemas.submission import SubmissionRow

MODELS = {"submissions": (SubmissionRow, submission), "feedback": (FeedbackRow, feedback)}
QUARANTINE_COLUMNS = ["row_number", "column_name", "rule", "value"]
# Pandera's built-in check names -> the rule names operators read.
_RULE_NAMES = {"not_nullable": "required", "field_uniqueness": "unique_within_file"}


@dataclass
class Validated:
    """Rows that passed every rule (raw text, indexed by row number) and the quarantine."""

    valid: pd.DataFrame
    quarantine: pd.DataFrame

    @property
    def rows_quarantined(self) -> int:
        return int(self.quarantine["row_number"].nunique())


def _failure_rows(
    cases: pd.DataFrame, rows: pd.DataFrame, frame_rule_columns: dict[str, list[str]]
) -> pd.DataFrame:
    """Pandera failure_cases -> quarantine rows, one per (row, column, rule)."""
    cases = cases[cases["index"].notna()].copy()
    cases["rule"] = cases["check"].astype("str").map(lambda c: _RULE_NAMES.get(c, c))
    column_level = cases[cases["schema_context"] != "DataFrameSchema"]
    parts = [
        pd.DataFrame(
            {
                "row_number": column_level["index"].astype("int64"),
                "column_name": column_level["column"].astype("str"),
                "rule": column_level["rule"],
                "value": column_level["failure_case"].map(lambda v: None if pd.isna(v) else str(v)),
            }
        )
    ]
    # A dataframe-level check lists the row's non-null values of every column; report the
    # columns the rule is about instead, with their values from the row (blank included).
    frame_level = cases[cases["schema_context"] == "DataFrameSchema"]
    for rule, group in frame_level.groupby("rule"):
        numbers = sorted(set(group["index"].astype("int64")))
        for column in frame_rule_columns.get(rule, []):
            values = rows.loc[numbers, column]
            parts.append(
                pd.DataFrame(
                    {
                        "row_number": numbers,
                        "column_name": column,
                        "rule": rule,
                        "value": [None if pd.isna(v) else str(v) for v in values],
                    }
                )
            )
    return pd.concat(parts, ignore_index=True).drop_duplicates().reset_index(drop=True)


def validate_rows(rows: pd.DataFrame, source: str, shape_problems: pd.DataFrame | None = None) -> Validated:
    """Validate every row lazily; a row with any failure goes to quarantine, whole."""
    model, spec = MODELS[source]
    quarantine = pd.DataFrame(columns=QUARANTINE_COLUMNS).astype(
        {"row_number": "int64", "column_name": "str", "rule": "str", "value": "str"}
    )
    if len(rows):
        try:
            model.validate(rows, lazy=True)
        except pa.errors.SchemaErrors as e:
            quarantine = _failure_rows(e.failure_cases, rows, spec.FRAME_RULE_COLUMNS)
    if shape_problems is not None and len(shape_problems):
        # A row of the wrong shape has no meaningful columns: report the shape alone.
        quarantine = quarantine[~quarantine["row_number"].isin(shape_problems["row_number"])]
        shaped = shape_problems.assign(column_name=None)[QUARANTINE_COLUMNS]
        quarantine = pd.concat([shaped, quarantine], ignore_index=True)
    quarantine = quarantine.sort_values(["row_number", "column_name", "rule"], na_position="first")
    bad = set(quarantine["row_number"])
    valid = rows[~rows.index.isin(bad)]
    return Validated(valid=valid, quarantine=quarantine.reset_index(drop=True))
