"""Run dates in Asia/Seoul, resolved when the run starts (never frozen at deploy time)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from kcity.settings import SEOUL


def today_in_seoul(now: dt.datetime | None = None) -> dt.date:
    """The date in Seoul at `now` (default: the current instant)."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(SEOUL)).date()


def scheduled_date_in_seoul() -> dt.date:
    """The Seoul date of this flow run's scheduled start (now, outside a scheduled run)."""
    from prefect.runtime import flow_run

    start = flow_run.scheduled_start_time
    if start is None:
        return today_in_seoul()
    return today_in_seoul(
        dt.datetime.fromisoformat(str(start)) if not isinstance(start, dt.datetime) else start
    )
