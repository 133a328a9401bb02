"""The backfill flow: re-load the deliveries dated start..end with today's rules and
rebuild the snapshot of each of those dates; the current marts stay on the latest date.

Operators start it from the Prefect UI: two date pickers and a dry-run switch.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact
from prefect.states import Completed, State
from pydantic import Field

from flows.dates import today_in_seoul
from flows.ingest import ingest
from flows.params import SCORING_PARAM, Scoring
from flows.range import check_range
from flows.run import current_run, final_state
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
from tasks.report import write_report_task
from tasks.runlog import BACKFILL_PROGRESS_KEY, create_run_artifacts, record_run_days
from tasks.summary import summarize
from warehouse.lock import writer_lock


@flow(name="kcity-backfill", log_prints=False)
def backfill(
    start: dt.date = Field(
        ...,
        description="First delivery date to re-load and first snapshot to rebuild.",
        json_schema_extra={"title": "Start date"},
    ),
    end: dt.date = Field(
        ...,
        description="Last delivery date to re-load and last snapshot to rebuild (not after today, Asia/Seoul).",
        json_schema_extra={"title": "End date"},
    ),
    dry_run: bool = Field(
        False,
        description="Only report which files would be re-loaded and which snapshots rebuilt; change nothing.",
        json_schema_extra={"title": "Dry run"},
    ),
    scoring: Scoring | None = SCORING_PARAM,
) -> State:
    """Re-load deliveries dated start..end, load anything earlier not loaded yet, rebuild
    the snapshots start..end (and the latest one, if later), publish."""
    check_range(start, end, today_in_seoul())
    settings = get_settings()
    scoring = scoring or Scoring()
    logger = get_run_logger()
    logger.info("Backfill %s..%s%s; inbox %s", start, end, " (dry run)" if dry_run else "", settings.inbox)
    days = date_range(start, end)
    run, results, done = current_run(), [], []
    with writer_lock(settings.lock_file, logger):
        files = scan_inbox(settings.inbox, end)
        loaded = prepare_warehouse(settings.internal_db, files, end)
        plan = plan_backfill(files, loaded, ledger_in_range(settings.internal_db, start, end), start)
        if dry_run:
            lines = [f"* {i.rel_path}" + ("" if i.from_file else " (from the raw record)") for i in plan]
            text = (
                f"# Backfill {start}..{end} (dry run)\n\nWould re-load {len(plan)} file(s):\n\n"
                + ("\n".join(lines) or "(none)")
                + f"\n\nWould rebuild {len(days)} snapshot(s): {start} .. {end}."
            )
            create_markdown_artifact(markdown=text, key="kcity-run-summary", description="Backfill dry run")
            logger.info("Dry run: would re-load %d file(s) and rebuild %d snapshot(s)", len(plan), len(days))
            return Completed(message=f"dry run: {len(plan)} file(s), {len(days)} snapshot(s)")
        progress = create_progress_artifact(
            progress=0.0, key=BACKFILL_PROGRESS_KEY, description="Days rebuilt"
        )
        try:
            results += ingest(settings, [i for i in plan if i.delivery_date < start])
            for n, day in enumerate(days, 1):
                day_results = ingest(settings, [i for i in plan if i.delivery_date == day])
                build_snapshots(settings.internal_db, [day], scoring.sql_params(), latest=False)
                results += day_results
                done.append(day)
                update_progress_artifact(artifact_id=progress, progress=100.0 * n / len(days))
            # The newest snapshot (this range's last day, or a later one) gets the latest-only marts.
            build_snapshots(
                settings.internal_db, [max(built_snapshot_dates(settings.internal_db))], scoring.sql_params()
            )
            check_warehouse(settings.internal_db)
            record_run_days(settings.internal_db, days, run, results, "completed")
            publish(settings.internal_db, settings.published_db)
        except Exception as e:
            failed = [d for d in days if d not in done] or days[-1:]
            record_run_days(settings.internal_db, failed, run, [], "failed", str(e))
            raise
    summary = summarize(settings.published_db, results)
    summary.report = write_report_task(settings.published_db, settings.reports_dir)
    create_run_artifacts(summary, f"Backfill {start}..{end}", summary.report)
    return final_state(summary)
