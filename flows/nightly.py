"""The nightly flow: load what is new, rebuild the summary as of the date, publish.

Scheduled in Asia/Seoul (prefect.yaml); `kcity nightly [--date D]` runs it by hand.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger
from prefect.states import State
from pydantic import Field

from flows.dates import scheduled_date_in_seoul
from flows.ingest import ingest
from flows.params import SCORING_PARAM, Scoring
from flows.run import current_run, final_state
from kcity.faults import crash_point
from kcity.settings import get_settings
from tasks.inbox import scan_inbox
from tasks.load import (
    build_snapshots,
    built_snapshot_dates,
    check_warehouse,
    known_hashes,
    prepare_warehouse,
    publish,
)
from tasks.plan import nightly_snapshot_dates, plan_nightly
from tasks.report import write_report_task
from tasks.runlog import create_run_artifacts, record_run_days
from tasks.summary import summarize
from warehouse.lock import writer_lock


@flow(name="kcity-nightly", log_prints=False)
def nightly(
    as_of: dt.date | None = Field(
        None,
        description="Build the summary as of this date. Empty: the run's scheduled date in Asia/Seoul.",
        json_schema_extra={"title": "As-of date"},
    ),
    scoring: Scoring | None = SCORING_PARAM,
) -> State:
    """Load every not-yet-loaded delivery up to `as_of`, build the snapshot of that date
    (and of any missed nights), and publish."""
    settings = get_settings()
    scoring = scoring or Scoring()
    as_of = as_of or scheduled_date_in_seoul()
    logger = get_run_logger()
    logger.info("Nightly as of %s; inbox %s", as_of, settings.inbox)
    run, days, results = current_run(), [as_of], []
    with writer_lock(settings.writer, logger):
        try:
            files = scan_inbox(settings.inbox, as_of, known=known_hashes(settings.internal_db))
            crash_point("scanned")
            loaded = prepare_warehouse(settings.internal_db, files, as_of)
            crash_point("prepared")
            results = ingest(settings, plan_nightly(files, loaded))
            days = nightly_snapshot_dates(built_snapshot_dates(settings.internal_db), as_of)
            build_snapshots(settings.internal_db, days, scoring.sql_params())
            check_warehouse(settings.internal_db)
            crash_point("checked")
            record_run_days(settings.internal_db, days, run, results, "completed")
            crash_point("recorded")
            publish(settings.internal_db, settings.published_db)
        except Exception as e:
            record_run_days(settings.internal_db, days, run, results, "failed", str(e))
            raise
    summary = summarize(settings.published_db, results)
    summary.report = write_report_task(settings.published_db, settings.reports_dir)
    crash_point("reported")
    create_run_artifacts(summary, f"Nightly as of {as_of}", summary.report)
    return final_state(summary)
