"""How a custom check of the Pandera models (Polars backend) hands back its outcome."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from pandera.api.polars.types import PolarsData


def passes(data: PolarsData, test: Callable[[pl.Series], pl.Series]) -> pl.LazyFrame:
    """`test` of the checked column, one boolean per row as Pandera's Polars backend takes a
    check's outcome; a missing value passes (the column's `nullable` rule reports it)."""
    values = data.lazyframe.select(pl.col(data.key)).collect().to_series()
    return pl.LazyFrame({data.key: test(values).fill_null(False) | values.is_null()})
