"""Validate raw rows with the Pandera models and split them into valid rows and quarantine.

Pandera (its Polars backend) only reports; turning its failure cases into quarantine rows
(row number, column, rule, offending value) is this module's job. Pure: frame in, frames out.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pandas as pd
import pandera.polars as pa
import polars as pl

from schemas import feedback, submission
from schemas.feedback import FeedbackRow
from schemas.submission import SubmissionRow


def _strategies_without_hypothesis() -> None:
    """Import Pandera's data-synthesis module as if Hypothesis were not installed (it is: the
    tests use it). The first validation registers Pandera's built-in checks, which imports
    that module, which imports Hypothesis if it can: 0.1 s of the first batch's validation
    (0.16-0.20 -> 0.08 s for a 1,000-row file; one new day's load waits for it), for
    strategies (`schema.example()`) the pipeline never uses. Pandera supports running
    without Hypothesis; nothing else changes. Not when Hypothesis is already imported (in
    pytest, its plugin is), nor for any later import of it: `sys.modules` is restored."""
    if "hypothesis" in sys.modules or "pandera.strategies.base_strategies" in sys.modules:
        return
    sys.modules["hypothesis"] = None  # type: ignore[assignment]  # `import hypothesis` raises ImportError
    try:
        import pandera.strategies.base_strategies  # noqa: F401
    finally:
        del sys.modules["hypothesis"]


_strategies_without_hypothesis()

MODELS = {"submissions": (SubmissionRow, submission), "feedback": (FeedbackRow, feedback)}
QUARANTINE_COLUMNS = ["row_number", "column_name", "rule", "value"]
# Pandera's built-in check names -> the rule names operators read.
_RULE_NAMES = {"not_nullable": "required", "field_uniqueness": "unique_within_file"}
_QUARANTINE_SCHEMA = {"row_number": pl.Int64, "column_name": pl.String, "rule": pl.String, "value": pl.String}


@dataclass
class Validated:
    """Rows that passed every rule (raw text, with their `row_number`) and the quarantine
    (one row per row number, column and rule)."""

    valid: pl.DataFrame
    quarantine: pd.DataFrame

    @property
    def rows_quarantined(self) -> int:
        return int(self.quarantine["row_number"].nunique())


def as_polars(rows: pd.DataFrame, source: str) -> pl.DataFrame:
    """Raw text rows indexed by row number (the readers' frames) -> a Polars frame with a
    `row_number` column and every contract column as text (Arrow-backed: no copy of the text)."""
    columns = MODELS[source][1].COLUMNS
    frame = pl.from_pandas(rows[columns].rename_axis("row_number").reset_index())
    return frame.with_columns(pl.col("row_number").cast(pl.Int64), pl.col(columns).cast(pl.String))


def _failure_rows(
    cases: pl.DataFrame, rows: pl.DataFrame, frame_rule_columns: dict[str, list[str]]
) -> pl.DataFrame:
    """Pandera failure_cases -> quarantine rows, one per (row, column, rule)."""
    cases = cases.filter(pl.col("index").is_not_null())
    cases = cases.with_columns(
        row_number=rows["row_number"].gather(cases["index"].cast(pl.Int64)),
        rule=pl.col("check").replace(_RULE_NAMES),
    )
    parts = [
        cases.filter(pl.col("schema_context") != "DataFrameSchema").select(
            "row_number",
            column_name=pl.col("column"),
            rule="rule",
            value=pl.col("failure_case").cast(pl.String),
        )
    ]
    # A dataframe-level check lists the whole row; report the columns the rule is about
    # instead, with their values from the row (blank included).
    frame_level = cases.filter(pl.col("schema_context") == "DataFrameSchema")
    for rule in frame_level["rule"].unique().sort():
        positions = frame_level.filter(pl.col("rule") == rule)["index"].cast(pl.Int64).unique().sort()
        for column in frame_rule_columns.get(rule, []):
            parts.append(
                rows[positions].select(
                    "row_number", column_name=pl.lit(column), rule=pl.lit(rule), value=pl.col(column)
                )
            )
    return pl.concat([p.cast(_QUARANTINE_SCHEMA) for p in parts]).unique(maintain_order=True)


def validate_rows(
    rows: pd.DataFrame | pl.DataFrame, source: str, shape_problems: pd.DataFrame | None = None
) -> Validated:
    """Validate every row lazily; a row with any failure goes to quarantine, whole.

    `rows`: raw text, either indexed by row number (pandas) or with a `row_number` column."""
    model, spec = MODELS[source]
    frame = as_polars(rows, source) if isinstance(rows, pd.DataFrame) else rows
    quarantine = pl.DataFrame(schema=_QUARANTINE_SCHEMA)
    if len(frame):
        try:
            model.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as e:
            quarantine = _failure_rows(e.failure_cases, frame, spec.FRAME_RULE_COLUMNS)
    if shape_problems is not None and len(shape_problems):
        # A row of the wrong shape has no meaningful columns: report the shape alone.
        shaped = pl.from_pandas(shape_problems[["row_number", "rule", "value"]]).select(
            "row_number", column_name=pl.lit(None), rule="rule", value="value"
        )
        quarantine = pl.concat(
            [
                shaped.cast(_QUARANTINE_SCHEMA),
                quarantine.filter(~pl.col("row_number").is_in(shaped["row_number"].implode())),
            ]
        )
    quarantine = quarantine.sort(["row_number", "column_name", "rule"], nulls_last=False)
    valid = frame.filter(~pl.col("row_number").is_in(quarantine["row_number"].unique().implode()))
    return Validated(valid=valid, quarantine=quarantine.to_pandas().astype({"row_number": "int64"}))
