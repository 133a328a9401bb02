"""Warehouse steps as Prefect tasks: record the inbox, load one file, build, publish.

Tasks get paths, never live connections; warehouse/db.py opens DuckDB for them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import get_run_logger, task

from tasks.inbox import InboxFile
from tasks.plan import LoadItem
from tasks.read import RawFile, retry_on_io_errors
from tasks.transform import STAGERS
from tasks.validate import Validated
from warehouse import db


@task(name="prepare-warehouse")
def prepare_warehouse(internal: Path, files: list[InboxFile], up_to: dt.date) -> dict[str, str]:
    """Create what is missing, record every inbox path seen; return sha256 -> loaded path."""
    db.init_warehouse(internal)
    db.record_inbox_files(
        internal,
        [
            {
                "rel_path": f.rel_path,
                "sha256": f.sha256,
                "source": f.source,
                "delivery_date": f.delivery_date,
                "file_name": f.file_name,
                "size_bytes": f.size,
                "problem": f.problem,
            }
            for f in files
        ],
        up_to,
    )
    return db.loaded_hashes(internal)


@task(name="read-raw-record", retries=2, retry_delay_seconds=[1, 5])
def read_raw_record(internal: Path, item: LoadItem) -> RawFile:
    """The rows a content loaded before, from the internal raw table (its file is gone)."""
    rows, shape = db.raw_rows_of(internal, item.sha256, item.source)
    return RawFile(item.source, rows, shape_problems=shape)


@task(name="load-file")
def load_file(internal: Path, item: LoadItem, raw: RawFile, checked: Validated | None) -> dict:
    """Replace what this content loaded before: raw rows, staged rows, quarantine, ledger."""
    logger = get_run_logger()
    ledger = {
        "sha256": item.sha256,
        "source": item.source,
        "delivery_date": item.delivery_date,
        "file_name": item.file_name,
        "rel_path": item.rel_path,
        "status": "rejected" if raw.error else "loaded",
        "rows_read": raw.rows_read,
        "rows_loaded": 0 if checked is None else len(checked.valid),
        "rows_quarantined": 0 if checked is None else checked.rows_quarantined,
        "error": raw.error,
        "notes": "; ".join(raw.notes) or None,
    }
    if checked is None:
        db.load_file(internal, ledger, None, None, None)
        logger.warning("REJECTED %s: %s", item.rel_path, raw.error)
        return ledger
    if ledger["rows_read"] != ledger["rows_loaded"] + ledger["rows_quarantined"]:
        raise RuntimeError(f"{item.rel_path}: rows do not reconcile: {ledger}")
    staged = STAGERS[item.source](checked.valid)
    raw_rows = raw.rows.reset_index()
    if raw.shape_problems is not None and len(raw.shape_problems):
        shape = raw.shape_problems.rename(columns={"rule": "shape_rule", "value": "shape_value"})
        raw_rows = raw_rows.merge(shape, on="row_number", how="left")
    db.load_file(internal, ledger, raw_rows, staged, checked.quarantine)
    level = logger.warning if ledger["rows_quarantined"] else logger.info
    rules = (
        checked.quarantine.groupby("rule")["row_number"].nunique().to_dict()
        if len(checked.quarantine)
        else {}
    )
    ledger["rules"] = {str(k): int(v) for k, v in rules.items()}
    level(
        "%s %s: %d read, %d loaded, %d quarantined%s",
        "Reloaded" if not item.from_file else "Loaded",
        item.rel_path,
        ledger["rows_read"],
        ledger["rows_loaded"],
        ledger["rows_quarantined"],
        f" (by rule: {rules})" if rules else "",
    )
    return ledger


@task(name="build-snapshots")
def build_snapshots(internal: Path, dates: list[dt.date], params: dict) -> list[dt.date]:
    """Rebuild the mart snapshot of each date."""
    db.build_snapshots(internal, dates, params)
    get_run_logger().info("Built snapshot(s): %s", ", ".join(d.isoformat() for d in dates))
    return dates


@task(name="check-warehouse")
def check_warehouse(internal: Path) -> None:
    """Business rules that must return no rows; a failure stops the run before publishing."""
    failures = db.failed_checks(internal)
    if failures:
        raise RuntimeError(f"warehouse checks failed (check: offending rows): {failures}")


@task(name="publish", retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=retry_on_io_errors)
def publish(internal: Path, published: Path) -> dt.date | None:
    """Swap a freshly written published file in for BI tools."""
    latest = db.publish(internal, published)
    get_run_logger().info("Published %s (current as_of %s)", published, latest)
    return latest


@task(name="snapshot-dates")
def built_snapshot_dates(internal: Path) -> list[dt.date]:
    """The as_of dates already built."""
    return db.snapshot_dates(internal)


@task(name="ledger-in-range")
def ledger_in_range(internal: Path, start: dt.date, end: dt.date) -> list[dict]:
    """What the deliveries dated start..end loaded before."""
    return db.loads_between(internal, start, end)
