"""One writer at a time: an exclusive lock held for a whole run.

A second run (nightly, backfill, demo; with or without a Prefect server) waits for
the first and says so in its log. The lock dies with its process, so a killed run
never leaves a stale lock behind.

Embedded warehouse: an flock on a file next to it (every writer is on that machine).
DuckLake: a PostgreSQL session advisory lock in the catalog database, so flow runs on any
host that reaches the catalog take turns. DuckLake itself would let several writers
commit, but a delivery's load replaces rows by key across tables and a snapshot rebuilds a
day from all of them: two at once would conflict and retry, or rebuild from a half-changed
picture, so the pipeline keeps one writer on both backends.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from warehouse.backend import Lake

# The advisory lock's key in the catalog database (any fixed 64-bit number; "kcity" in hex).
LAKE_LOCK_KEY = 0x6B63697479


def _holder() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


@contextlib.contextmanager
def writer_lock(target: Path | Lake, logger: logging.Logger | logging.LoggerAdapter) -> Iterator[None]:
    """Hold the warehouse's writer lock; wait (logging once) while another run holds it.
    `target` is the lock file of an embedded warehouse, or the DuckLake."""
    if isinstance(target, Lake):
        with _advisory_lock(target, logger):
            yield
        return
    lock_file = target
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another run"
            logger.warning("Warehouse is being written by %s; waiting for it to finish.", holder)
            started = time.monotonic()
            fcntl.flock(fd, fcntl.LOCK_EX)
            logger.info("Writer lock acquired after %.1f s.", time.monotonic() - started)
        os.ftruncate(fd, 0)
        os.pwrite(fd, _holder().encode(), 0)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def _advisory_lock(lake: Lake, logger: logging.Logger | logging.LoggerAdapter) -> Iterator[None]:
    import psycopg

    name = f"kcity writer: {_holder()}"[:63]
    try:
        conn = psycopg.connect(lake.catalog, autocommit=True, application_name=name)
    except psycopg.OperationalError as e:
        raise RuntimeError(
            f"DuckLake catalog unreachable (KCITY_DUCKLAKE_CATALOG = {lake.redacted_catalog}): {e}"
        ) from None
    with conn:
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", [LAKE_LOCK_KEY]).fetchone()[0]:
            row = conn.execute(
                "SELECT a.application_name FROM pg_locks AS l JOIN pg_stat_activity AS a USING (pid) "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = %s AND l.database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1",
                [LAKE_LOCK_KEY & 0xFFFFFFFF],
            ).fetchone()
            holder = row[0].removeprefix("kcity writer: ") if row and row[0] else "another run"
            logger.warning("Warehouse is being written by %s; waiting for it to finish.", holder)
            started = time.monotonic()
            conn.execute("SELECT pg_advisory_lock(%s)", [LAKE_LOCK_KEY])
            logger.info("Writer lock acquired after %.1f s.", time.monotonic() - started)
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [LAKE_LOCK_KEY])
