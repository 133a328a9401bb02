"""Warehouse steps as Prefect tasks: record the inbox, build, check, publish (loading a file
is tasks/ingest.py).

Tasks get paths, never live connections; warehouse/db.py opens DuckDB for them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import get_run_logger, task

from tasks.inbox import InboxFile
from tasks.retry import retry_on_io_errors
from warehouse import db
from warehouse.backend import Internal


@task(name="prepare-warehouse")
def prepare_warehouse(internal: Internal, files: list[InboxFile], up_to: dt.date) -> dict[str, str]:
    """Create what is missing, record every inbox path seen; return sha256 -> loaded path."""
    return db.prepare_warehouse(
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
                "stat_key": f.stat_key,
            }
            for f in files
        ],
        up_to,
    )


@task(name="known-hashes")
def known_hashes(internal: Internal) -> dict:
    """Hashes of inbox files seen before, by (path, stat key): unchanged files are not read."""
    return db.known_hashes(internal)


@task(name="build-snapshots")
def build_snapshots(
    internal: Internal, dates: list[dt.date], params: dict, latest: bool = True
) -> list[dt.date]:
    """Bring the mart snapshot of each date up to date (days whose inputs did not change are
    left as they are); the dates built."""
    built = db.build_snapshots(internal, dates, params, latest)
    unchanged = [d.isoformat() for d in dates if d not in built]
    get_run_logger().info(
        "Built snapshot(s): %s%s",
        ", ".join(d.isoformat() for d in built) or "none",
        f"; unchanged since last built: {', '.join(unchanged)}" if unchanged else "",
    )
    return built


@task(name="check-warehouse")
def check_warehouse(internal: Internal) -> None:
    """Business rules that must return no rows; a failure stops the run before publishing."""
    failures = db.failed_checks(internal, skip_unchanged=True)
    if failures is None:
        get_run_logger().info("Warehouse unchanged since its checks last passed: data checks skipped")
    elif failures:
        raise RuntimeError(f"warehouse checks failed (check: offending rows): {failures}")


@task(name="publish", retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=retry_on_io_errors)
def publish(internal: Internal, published: Path) -> dt.date | None:
    """Swap a freshly written published file in for BI tools."""
    latest = db.publish(internal, published)
    get_run_logger().info("Published %s (current as_of %s)", published, latest)
    return latest


@task(name="snapshot-dates")
def built_snapshot_dates(internal: Internal) -> list[dt.date]:
    """The as_of dates already built."""
    return db.snapshot_dates(internal)


@task(name="ledger-in-range")
def ledger_in_range(internal: Internal, start: dt.date, end: dt.date) -> list[dict]:
    """What the deliveries dated start..end loaded before."""
    return db.loads_between(internal, start, end)


@task(name="last-load-time")
def last_load_time(internal: Internal) -> dt.datetime | None:
    """When the last content was loaded (the warehouse's own clock), None before any."""
    return db.last_load_time(internal)


@task(name="loads-since")
def loads_since(internal: Internal, after: dt.datetime | None) -> list[dict]:
    """Ledger rows of the contents loaded after `after` (every one when None)."""
    return db.loads_since(internal, after)
