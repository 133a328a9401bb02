"""The backfill flow: re-load the deliveries dated start..end with today's rules and
rebuild the snapshot of each of those dates; the current marts stay on the latest date.

Operators start it from the Prefect UI: two date pickers, a dry-run switch and a switch
that spreads the days over the work pool's workers: one `kcity-backfill-day` flow run per
day (deployment `backfill-day`), which take turns at the warehouse's writer lock; this run
then brings any day a later re-load made stale up to date, and publishes once.
"""

from __future__ import annotations

import datetime as dt
import time
from uuid import UUID

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.runtime import deployment
from prefect.states import Completed, State
from pydantic import Field

from flows.dates import today_in_seoul
from flows.ingest import ingest
from flows.params import SCORING_PARAM, Scoring
from flows.range import check_range
from flows.run import current_run, final_state
from kcity.settings import Settings, get_settings
from tasks.inbox import scan_inbox
from tasks.load import (
    build_snapshots,
    built_snapshot_dates,
    check_warehouse,
    last_load_time,
    ledger_in_range,
    loads_since,
    prepare_warehouse,
    publish,
)
from tasks.plan import LoadItem, date_range, plan_backfill
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
    spread: bool = Field(
        False,
        description=(
            "One flow run per day (deployment backfill-day), spread over the work pool's workers; "
            "they take turns writing the warehouse, then this run publishes once. "
            "Needs the deployments (make serve)."
        ),
        json_schema_extra={"title": "Spread days over workers"},
    ),
) -> State:
    """Re-load deliveries dated start..end, load anything earlier not loaded yet, rebuild
    the snapshots start..end (and the latest one, if later), publish."""
    check_range(start, end, today_in_seoul())
    settings = get_settings()
    scoring = scoring or Scoring()
    logger = get_run_logger()
    logger.info("Backfill %s..%s%s; inbox %s", start, end, " (dry run)" if dry_run else "", settings.inbox)
    days = date_range(start, end)
    if spread and not dry_run:
        if deployment.id:
            return _spread(settings, days, scoring)
        logger.warning("Not started from a deployment: the days run here, one after the other.")
    run, results, done = current_run(), [], []
    with writer_lock(settings.writer, logger):
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
                day_results = _rebuild_day(
                    settings, [i for i in plan if i.delivery_date == day], day, scoring
                )
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


def _rebuild_day(settings: Settings, items: list[LoadItem], day: dt.date, scoring: Scoring) -> list[dict]:
    """Load these contents and rebuild the snapshot of `day` (without the latest-only marts)."""
    results = ingest(settings, items)
    build_snapshots(settings.internal_db, [day], scoring.sql_params(), latest=False)
    return results


@flow(name="kcity-backfill-day", log_prints=False)
def backfill_day(
    day: dt.date = Field(..., description="The delivery date to re-load and the snapshot to rebuild."),
    scoring: Scoring | None = SCORING_PARAM,
) -> State:
    """One day of a spread backfill (started by kcity-backfill): re-load that day's deliveries
    (and anything earlier not loaded yet), rebuild its snapshot. No publish: the backfill
    that started it publishes once, after every day."""
    check_range(day, day, today_in_seoul())
    settings = get_settings()
    scoring = scoring or Scoring()
    logger = get_run_logger()
    run, results = current_run(), []
    with writer_lock(settings.writer, logger):
        try:
            files = scan_inbox(settings.inbox, day)
            loaded = prepare_warehouse(settings.internal_db, files, day)
            plan = plan_backfill(files, loaded, ledger_in_range(settings.internal_db, day, day), day)
            results = _rebuild_day(settings, plan, day, scoring)
            record_run_days(settings.internal_db, [day], run, results, "completed")
        except Exception as e:
            record_run_days(settings.internal_db, [day], run, results, "failed", str(e))
            raise
    quarantined = sum(r["rows_quarantined"] for r in results)
    return Completed(message=f"{day}: {len(results)} file(s) loaded, {quarantined} row(s) quarantined")


DAY_DEPLOYMENT = "kcity-backfill-day/backfill-day"
FINAL = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


def _spread(settings: Settings, days: list[dt.date], scoring: Scoring) -> State:
    """Start one backfill-day run per day (any worker of the pool takes it), wait for them,
    rebuild the days a later re-load made stale, build the latest marts, publish."""
    logger = get_run_logger()
    run = current_run()
    with writer_lock(settings.writer, logger):
        mark = last_load_time(settings.internal_db)  # what the children load comes after
    children = {
        day: run_deployment(
            DAY_DEPLOYMENT,
            parameters={"day": day.isoformat(), "scoring": scoring.model_dump(mode="json")},
            flow_run_name=f"backfill-day-{day.isoformat()}",
            timeout=0,
            as_subflow=True,
        ).id
        for day in days
    }
    logger.info("Started %d backfill-day run(s): %s .. %s", len(children), days[0], days[-1])
    states = _wait_for(children, logger)
    failed = [f"{day} ({state})" for day, state in states.items() if state != "COMPLETED"]
    with writer_lock(settings.writer, logger):
        try:
            if failed:
                raise RuntimeError(
                    f"{len(failed)} of {len(days)} day(s) did not complete: {', '.join(failed)}"
                )
            # A day built before an earlier day of the range was re-loaded is stale: its
            # inputs changed, so this rebuilds it (days with unchanged inputs are skipped).
            rebuilt = build_snapshots(settings.internal_db, days, scoring.sql_params(), latest=False)
            if rebuilt:
                logger.info(
                    "Rebuilt %d day(s) made stale by an earlier day re-loaded after them: %s",
                    len(rebuilt),
                    ", ".join(d.isoformat() for d in rebuilt),
                )
            build_snapshots(
                settings.internal_db, [max(built_snapshot_dates(settings.internal_db))], scoring.sql_params()
            )
            check_warehouse(settings.internal_db)
            publish(settings.internal_db, settings.published_db)
            results = loads_since(settings.internal_db, mark)
        except Exception as e:
            record_run_days(settings.internal_db, days, run, [], "failed", str(e))
            raise
    summary = summarize(settings.published_db, results)
    summary.report = write_report_task(settings.published_db, settings.reports_dir)
    create_run_artifacts(summary, f"Backfill {days[0]}..{days[-1]} (spread over workers)", summary.report)
    return final_state(summary)


def _wait_for(
    children: dict[dt.date, UUID], logger, poll: float = 2.0, tell_every: float = 60.0
) -> dict[dt.date, str]:
    """Each child's final state type, with a progress artifact as they finish and, every
    minute, a line saying what is still waiting (a day no worker takes shows up there)."""
    progress = create_progress_artifact(progress=0.0, key=BACKFILL_PROGRESS_KEY, description="Days rebuilt")
    states: dict[dt.date, str] = {}
    told = time.monotonic()
    with get_client(sync_client=True) as client:
        while len(states) < len(children):
            waiting: dict[str, int] = {}
            for day, run_id in children.items():
                if day not in states:
                    state = client.read_flow_run(run_id).state
                    if state and state.type.value in FINAL:
                        states[day] = state.type.value
                        logger.info("backfill-day %s: %s", day, state.name)
                        update_progress_artifact(
                            artifact_id=progress, progress=100.0 * len(states) / len(children)
                        )
                    else:
                        name = state.name if state else "not started"
                        waiting[name] = waiting.get(name, 0) + 1
            if waiting and time.monotonic() - told >= tell_every:
                logger.info("Waiting for %d day(s): %s", sum(waiting.values()), waiting)
                told = time.monotonic()
            if len(states) < len(children):
                time.sleep(poll)
    return states
