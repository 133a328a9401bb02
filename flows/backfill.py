"""The backfill flow: re-load the deliveries dated start..end with today's rules and
rebuild the snapshot of each of those dates; the current marts stay on the latest date."""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger

from flows.dates import today_in_seoul
from flows.ingest import ingest
from flows.params import Scoring
from flows.range import check_range
from kcity.settings import get_settings
from tasks.inbox import scan_inbox
from tasks.load import (
    build_snapshots,
    built_snapshot_dates,
    check_warehouse,
    ledger_in_range,
    prepare_warehouse,
    publish,
)
from tasks.plan import date_range, plan_backfill
from tasks.summary import RunSummary, summarize
from warehouse.lock import writer_lock


@flow(name="kcity-backfill", log_prints=False)
def backfill(start: dt.date, end: dt.date, scoring: Scoring | None = None) -> RunSummary:
    """Re-load deliveries dated start..end, load anything earlier not loaded yet, rebuild
    the snapshots start..end (and the latest one, if later), publish."""
    check_range(start, end, today_in_seoul())
    settings = get_settings()
    scoring = scoring or Scoring()
    logger = get_run_logger()
    logger.info("Backfill %s..%s; inbox %s", start, end, settings.inbox)
    with writer_lock(settings.lock_file, logger):
        files = scan_inbox(settings.inbox, end)
        loaded = prepare_warehouse(settings.internal_db, files)
        previous = ledger_in_range(settings.internal_db, start, end)
        results = ingest(settings, plan_backfill(files, loaded, previous, start))
        dates = date_range(start, end)
        built = built_snapshot_dates(settings.internal_db)
        if built and max(built) > end:
            dates.append(max(built))  # keep the current marts true to the re-loaded data
        build_snapshots(settings.internal_db, dates, scoring.sql_params())
        check_warehouse(settings.internal_db)
        publish(settings.internal_db, settings.published_db)
    return summarize(settings.published_db, results)
