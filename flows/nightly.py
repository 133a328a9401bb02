"""The nightly flow: load what is new, rebuild the summary as of the date, publish.

Scheduled in Asia/Seoul (prefect.yaml); `kcity nightly [--date D]` runs it by hand.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger

from flows.dates import scheduled_date_in_seoul
from flows.ingest import ingest
from flows.params import Scoring
from kcity.settings import get_settings
from tasks.inbox import scan_inbox
from tasks.load import (
    build_snapshots,
    built_snapshot_dates,
    check_warehouse,
    prepare_warehouse,
    publish,
)
from tasks.plan import nightly_snapshot_dates, plan_nightly
from tasks.summary import RunSummary, summarize
from warehouse.lock import writer_lock


@flow(name="kcity-nightly", log_prints=False)
def nightly(as_of: dt.date | None = None, scoring: Scoring | None = None) -> RunSummary:
    """Load every not-yet-loaded delivery up to `as_of` (default: the scheduled date in
    Seoul), build the snapshot of that date (and of any missed nights), and publish."""
    settings = get_settings()
    scoring = scoring or Scoring()
    as_of = as_of or scheduled_date_in_seoul()
    logger = get_run_logger()
    logger.info("Nightly as of %s; inbox %s", as_of, settings.inbox)
    with writer_lock(settings.lock_file, logger):
        files = scan_inbox(settings.inbox, as_of)
        loaded = prepare_warehouse(settings.internal_db, files)
        results = ingest(settings, plan_nightly(files, loaded))
        dates = nightly_snapshot_dates(built_snapshot_dates(settings.internal_db), as_of)
        build_snapshots(settings.internal_db, dates, scoring.sql_params())
        check_warehouse(settings.internal_db)
        publish(settings.internal_db, settings.published_db)
    return summarize(settings.published_db, results)
