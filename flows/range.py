"""Backfill range rules, checked before any work starts (CLI and flow alike)."""

from __future__ import annotations

import datetime as dt


def check_range(start: dt.date, end: dt.date, today: dt.date) -> None:
    """Refuse a reversed or future range with a message an operator understands."""
    if end < start:
        raise ValueError(f"backfill range is reversed: start {start} is after end {end}")
    if end > today:
        raise ValueError(f"backfill range ends in the future: end {end} is after today {today} (Asia/Seoul)")
