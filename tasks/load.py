"""Warehouse steps as Prefect tasks: record the inbox, load one file, build, publish.

Tasks get paths, never live connections; warehouse/db.py opens DuckDB for them.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path

from prefect import get_run_logger, task

from kcity.faults import crash_point
from tasks.inbox import InboxFile
from tasks.plan import LoadItem
from tasks.read import CSV_BLOCK_BYTES, BlockTooSmall, RawBatch, UnreadableFile, open_raw, retry_on_io_errors
from tasks.transform import STAGERS
from tasks.validate import validate_rows
from warehouse import db
from warehouse.backend import Internal


@task(name="prepare-warehouse")
def prepare_warehouse(internal: Internal, files: list[InboxFile], up_to: dt.date) -> dict[str, str]:
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
                "stat_key": f.stat_key,
            }
            for f in files
        ],
        up_to,
    )
    return db.loaded_hashes(internal)


def _load_batches(raw_batches: Iterator[RawBatch], source: str) -> Iterator[db.LoadBatch]:
    """Validate and stage each batch of raw rows (Pandera per batch, bounded memory)."""
    first = True
    for batch in raw_batches:
        if first:
            crash_point("read")
        checked = validate_rows(batch.rows, source, batch.shape_problems)
        if first:
            crash_point("validated")
            first = False
        raw_rows = batch.rows.reset_index()
        shape = batch.shape_problems.rename(columns={"rule": "shape_rule", "value": "shape_value"})
        raw_rows = raw_rows.merge(shape, on="row_number", how="left") if len(shape) else raw_rows
        yield db.LoadBatch(raw_rows, STAGERS[source](checked.valid), checked.quarantine)


def _ingest(internal: Internal, inbox: Path, item: LoadItem) -> dict:
    ledger = {
        "sha256": item.sha256,
        "source": item.source,
        "delivery_date": item.delivery_date,
        "file_name": item.file_name,
        "rel_path": item.rel_path,
        "status": "loaded",
        "rows_read": 0,
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "error": None,
        "notes": None,
    }
    if not item.from_file:  # the file is gone: re-validate the raw rows it loaded before
        return db.load_content(
            internal,
            ledger,
            lambda pages: _load_batches((RawBatch(*db.replay_batch(p)) for p in pages), item.source),
            replay=True,
        )
    path = inbox / item.rel_path
    block = CSV_BLOCK_BYTES
    while True:
        try:
            with tempfile.TemporaryDirectory(prefix="kcity-read-") as tmp:
                stream = open_raw(path, item.source, Path(tmp), block_size=block)
                ledger["notes"] = "; ".join(stream.notes) or None
                return db.load_content(
                    internal, ledger, lambda _, s=stream: _load_batches(s.batches, item.source)
                )
        except BlockTooSmall:  # one record larger than a block: read this file as one block
            block = path.stat().st_size + (1 << 20)
        except UnreadableFile as e:
            ledger |= {"status": "rejected", "error": f"{path.name}: {e}", "notes": None}
            return db.load_content(internal, ledger, None)


@task(name="ingest-file", retries=3, retry_delay_seconds=[1, 4, 16], retry_condition_fn=retry_on_io_errors)
def ingest_file(internal: Internal, inbox: Path, item: LoadItem) -> dict:
    """Read, validate and load one file content in batches, in one transaction: its rows end in
    the warehouse or in quarantine, or the whole file is recorded as rejected with the reason."""
    logger = get_run_logger()
    ledger = _ingest(internal, inbox, item)
    if ledger["status"] == "rejected":
        logger.warning("REJECTED %s: %s", item.rel_path, ledger["error"])
        return ledger
    rules = ledger.get("rules") or {}
    level = logger.warning if ledger["rows_quarantined"] else logger.info
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
    failures = db.failed_checks(internal)
    if failures:
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
