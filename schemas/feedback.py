"""Pandera model of one ministry review row (CONTRACT 2.2), validated as raw text.

Korean headers map to the English column names; the ministry comes from the
column or, when absent or blank, from the file name's part before the first `_`.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas import parsing
from schemas.checks import passes

COLUMNS = ["submission_id", "ministry", "cooperation", "prospects", "business", "comment", "reviewed_at"]
SCORES = ["cooperation", "prospects", "business"]
REQUIRED = ["submission_id", "reviewed_at"]
HEADER_ALIASES = {
    "제출번호": "submission_id",
    "접수번호": "submission_id",
    "부처": "ministry",
    "기관": "ministry",
    "정부간협력": "cooperation",
    "사업전망": "prospects",
    "기업협력": "business",
    "의견": "comment",
    "검토일": "reviewed_at",
    "검토일자": "reviewed_at",
}
FRAME_RULE_COLUMNS = {"at_least_one_score": SCORES}


class FeedbackRow(pa.DataFrameModel):
    """One ministry's review of one request; all rules of CONTRACT 2.2."""

    submission_id: str = pa.Field(nullable=False)
    ministry: str = pa.Field(nullable=False)
    cooperation: str = pa.Field(nullable=True)
    prospects: str = pa.Field(nullable=True)
    business: str = pa.Field(nullable=True)
    comment: str = pa.Field(nullable=True)
    reviewed_at: str = pa.Field(nullable=False)

    @pa.check("submission_id", name="length_1_64")
    def _id_length(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.strip_chars().str.len_chars().is_between(1, 64))

    @pa.check("ministry", name="max_length_100")
    def _ministry(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.strip_chars().str.len_chars().is_between(1, 100))

    @pa.check("cooperation", "prospects", "business", name="score_1_to_5")
    def _score(cls, data: PolarsData) -> pl.LazyFrame:
        return passes(data, lambda s: parsing.parse_score(s).is_not_null())

    @pa.check("reviewed_at", name="date_format")
    def _reviewed_at(cls, data: PolarsData) -> pl.LazyFrame:
        return passes(data, lambda s: parsing.parse_timestamp(s).is_not_null())

    @pa.dataframe_check(name="at_least_one_score")
    def _one_score(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.any_horizontal(pl.col(SCORES).is_not_null()))

    class Config:
        strict = False
        coerce = False
