"""The per-day run ledger and the run's artifacts in the Prefect UI.

Artifacts carry counts, rule names and file names only: never row values (personal data).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from tasks.summary import RunSummary
from warehouse import db
from warehouse.backend import Internal

RUN_SUMMARY_KEY = "kcity-run-summary"
SHORTLIST_KEY = "kcity-shortlist"
BACKFILL_PROGRESS_KEY = "kcity-backfill-progress"


def bucket_by_day(days: list[dt.date], results: list[dict]) -> dict[dt.date, list[dict]]:
    """Each loaded file goes to the first built day on or after its delivery date."""
    ordered = sorted(days)
    buckets: dict[dt.date, list[dict]] = {d: [] for d in ordered}
    for r in results:
        day = next((d for d in ordered if d >= r["delivery_date"]), ordered[-1])
        buckets[day].append(r)
    return buckets


def day_row(day: dt.date, run: dict, results: list[dict], status: str, message: str | None = None) -> dict:
    """One ops.run_ledger row."""
    return {
        "as_of": day,
        "flow_run_id": run["id"],
        "flow_name": run["flow_name"],
        "started_at": run["started_at"],
        "finished_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "status": status,
        "files_loaded": sum(r["status"] == "loaded" for r in results),
        "files_rejected": sum(r["status"] == "rejected" for r in results),
        "rows_read": sum(r["rows_read"] for r in results),
        "rows_loaded": sum(r["rows_loaded"] for r in results),
        "rows_quarantined": sum(r["rows_quarantined"] for r in results),
        "message": message,
    }


def _text(message: str) -> str:
    """An error message as the ledger stores it: a NUL (from a binary file's bytes) as U+2400,
    because the ledger row is written as literals (`db.sql_literal` refuses NUL)."""
    return message.replace("\x00", "\u2400")


@task(name="record-run-days")
def record_run_days(
    internal: Internal,
    days: list[dt.date],
    run: dict,
    results: list[dict],
    status: str,
    message: str | None = None,
) -> None:
    """Write the run ledger rows of these days (one per day). Recording a failure never
    raises: the run's own error is the one the operator must see."""
    try:
        for day, day_results in bucket_by_day(days, results).items():
            db.record_run_day(
                internal, day_row(day, run, day_results, status, message and _text(message[:500]))
            )
    except Exception:
        if status != "failed":
            raise
        get_run_logger().exception("Could not record the failed run in ops.run_ledger")


REPORT_KEY = "kcity-report"


def run_markdown(summary: RunSummary, title: str, report: Path | None = None) -> str:
    """The run summary an operator reads in the Prefect UI."""
    files = summary.files_this_run
    rules: Counter[str] = Counter()
    for f in files:
        rules.update(f.get("rules") or {})
    h = summary.headline.records()[0] if len(summary.headline) else None
    lines = [f"# {title}", ""]
    if h is not None:
        lines += [
            f"**As of {summary.as_of}: {h['n_countries']} countries, {h['n_requests']} requests**, "
            f"{h['n_reviews']} reviews ({h['n_reviews_waiting']} waiting for their submission).",
            "",
        ]
    lines += [
        "## This run",
        "",
        "| files loaded | files rejected | rows read | rows loaded | rows quarantined |",
        "|---:|---:|---:|---:|---:|",
        f"| {sum(f['status'] == 'loaded' for f in files)} | {sum(f['status'] == 'rejected' for f in files)} "
        f"| {sum(f['rows_read'] for f in files)} | {sum(f['rows_loaded'] for f in files)} "
        f"| {sum(f['rows_quarantined'] for f in files)} |",
        "",
    ]
    if files:
        lines += [
            "| delivered | file | status | read | loaded | quarantined |",
            "|---|---|---|---:|---:|---:|",
        ]
        lines += [
            f"| {f['delivery_date']} | {f['rel_path']} | {f['status']} | {f['rows_read']} "
            f"| {f['rows_loaded']} | {f['rows_quarantined']} |"
            for f in files
        ]
        lines.append("")
    if rules:
        lines += ["## Quarantined rows by rule", "", "| rule | rows |", "|---|---:|"]
        lines += [f"| {rule} | {n} |" for rule, n in sorted(rules.items())]
        lines.append("")
    rejected = [f for f in files if f["status"] == "rejected"]
    if rejected:
        lines += ["## Rejected files", ""] + [f"* **{f['rel_path']}**: {f['error']}" for f in rejected] + [""]
    if not files:
        lines += ["Nothing new in the inbox.", ""]
    if report is not None:
        lines += [f"Committee report: `{report}`", ""]
    lines += ["Details: `marts.load_report`, `marts.quarantine`, `marts.run_ledger` in the published file."]
    return "\n".join(lines)


@task(name="create-run-artifacts")
def create_run_artifacts(summary: RunSummary, title: str, report: Path | None = None) -> None:
    """Keyed artifacts: the markdown run summary, the shortlist table, the report's link."""
    create_markdown_artifact(
        markdown=run_markdown(summary, title, report), key=RUN_SUMMARY_KEY, description=title
    )
    if report is not None:
        create_link_artifact(
            link=report.as_uri(),
            link_text=report.name,
            key=REPORT_KEY,
            description=f"Committee report {summary.as_of}",
        )
    create_table_artifact(
        table=summary.shortlist.records(),
        key=SHORTLIST_KEY,
        description=f"Shortlist as of {summary.as_of}",
    )
