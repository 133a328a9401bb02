"""Loading one file content into the warehouse: its raw rows, staged rows and quarantine,
batch by batch, in one transaction (tasks/ingest.py runs it).

Apart from warehouse/db.py because it is the only warehouse code that needs pandas and
Arrow: a run with nothing to load never imports them (a nothing-new nightly starts ~0.35 s
sooner; bench/RESULTS.md, twelfth session).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
import pyarrow as pa

from kcity.faults import crash_point
from warehouse.backend import Internal, Lake
from warehouse.db import LOAD_MEMORY_LIMIT, RAW_TABLES, STG_TABLES, connect, sql_literal

if TYPE_CHECKING:
    import polars as pl


@dataclass
class LoadBatch:
    """One batch of one file content: its raw rows (with shape findings), the typed rows
    that passed every rule and the quarantine rows of those that did not."""

    raw_rows: pd.DataFrame
    staged: pd.DataFrame | pl.DataFrame
    quarantine: pd.DataFrame


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame | pl.DataFrame, sha: str) -> None:
    if len(frame):
        # A Polars frame hands over its Arrow buffers as they are.
        incoming = (  # noqa: F841 - DuckDB scans it by name (below)
            pa.Table.from_pandas(frame, preserve_index=False)
            if isinstance(frame, pd.DataFrame)
            else frame.to_arrow()
        )
        # Scanned as a Python variable, not registered as a view: a view dropped inside the
        # open load transaction stays in the catalog until commit, and keeps its Arrow data
        # alive with it (a 400k-row file: every batch held, ~70 MB more per batch). The
        # content's sha256 is a constant DuckDB adds, not a column built in Python per row.
        con.execute(f"INSERT INTO {table} BY NAME SELECT *, ?::VARCHAR AS sha256 FROM incoming", [sha])


REPLAY_ROWS = 100_000  # raw rows per page when a content is re-validated from the raw record


def _replay_pages(con: duckdb.DuckDBPyConnection, lock: threading.Lock, rows: int) -> Iterator[pd.DataFrame]:
    """The raw rows saved in the temporary `replay` table, `rows` at a time, in row order.

    The pages are read in the loader's background thread while the batch before is inserted
    on the same connection, which is not safe to use from two threads at once (a page came
    back as an INSERT's result): each use holds `lock`."""
    last = -1
    while True:
        with lock:
            page = con.execute(
                "SELECT * EXCLUDE (sha256) FROM replay WHERE row_number > ? ORDER BY row_number LIMIT ?",
                [last, rows],
            ).df()
        if page.empty:
            return
        last = int(page["row_number"].iloc[-1])
        yield page


def replay_batch(page: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A page of saved raw rows -> (raw text rows indexed by row number, shape problems)."""
    shape = page.loc[page["shape_rule"].notna(), ["row_number", "shape_rule", "shape_value"]]
    shape = shape.rename(columns={"shape_rule": "rule", "shape_value": "value"}).reset_index(drop=True)
    rows = page.drop(columns=["shape_rule", "shape_value"]).set_index("row_number").astype("str")
    return rows, shape


def load_content(
    path: Internal,
    ledger: dict,
    batches: Callable[[Iterator[pd.DataFrame] | None], Iterator[LoadBatch]] | None,
    replay: bool = False,
) -> dict:
    """Replace everything one file content (sha256) loaded, batch by batch, in one transaction.

    `batches(pages)` yields LoadBatch objects; with `replay`, `pages` are the content's saved
    raw rows (its file is gone). `batches=None` records a rejected file. Whatever the batches
    raise rolls the whole content back. Returns the ledger with the counts the tables hold.
    """
    source, sha = ledger["source"], ledger["sha256"]
    raw_table, stg_table = RAW_TABLES[source], STG_TABLES[source]
    with connect(path) as con:
        if not isinstance(path, Lake):  # a DuckLake instance is shared by the run's connections
            con.execute(f"SET memory_limit = {sql_literal(LOAD_MEMORY_LIMIT)}")
            # One DuckDB thread: the other core validates the next batch (tasks/ingest.Ahead).
            # A batch's insert from Arrow ran slower on two threads than on one (a 200k-row
            # form file: 0.42 -> 0.15-0.19 s without the limit, 0.50 -> 0.39 s with it), and
            # the whole 1M load in-process 17.8 -> 14.7-16.5 s (bench/RESULTS.md, seventeenth
            # session).
            con.execute("SET threads = 1")
        con.execute("BEGIN TRANSACTION")
        try:
            if replay:
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE replay AS SELECT * FROM {raw_table} WHERE sha256 = ?",
                    [sha],
                )
            removed = sum(
                con.execute(f"DELETE FROM {table} WHERE sha256 = ?", [sha]).fetchone()[0]
                for table in (raw_table, stg_table, "ops.quarantine")
            )
            n_batches = 0
            if batches is not None:
                lock = threading.Lock()
                pages = _replay_pages(con, lock, REPLAY_ROWS) if replay else None
                stream = batches(pages)
                try:
                    for batch in stream:
                        with lock:
                            _insert(con, raw_table, batch.raw_rows, sha)
                            _insert(con, stg_table, batch.staged, sha)
                            _insert(con, "ops.quarantine", batch.quarantine, sha)
                        n_batches += 1
                finally:  # before the transaction ends, a background reader of `pages` is done
                    close = getattr(stream, "close", None)
                    if close is not None:
                        close()
                if source == "submissions" and n_batches > 1:
                    removed += _quarantine_repeated_ids(con, sha)
                counts = con.execute(
                    f"""
                    SELECT (SELECT count(*) FROM {raw_table} WHERE sha256 = $sha),
                           (SELECT count(*) FROM {stg_table} WHERE sha256 = $sha),
                           (SELECT count(DISTINCT row_number) FROM ops.quarantine WHERE sha256 = $sha)
                    """,
                    {"sha": sha},
                ).fetchone()
                ledger |= dict(zip(("rows_read", "rows_loaded", "rows_quarantined"), counts, strict=True))
                if ledger["rows_read"] != ledger["rows_loaded"] + ledger["rows_quarantined"]:
                    raise RuntimeError(f"{ledger['rel_path']}: rows do not reconcile: {counts}")
                ledger["rules"] = dict(
                    con.execute(
                        "SELECT rule, count(DISTINCT row_number) FROM ops.quarantine WHERE sha256 = ? "
                        "GROUP BY rule ORDER BY rule",
                        [sha],
                    ).fetchall()
                )
            if replay:
                con.execute("DROP TABLE replay")
            con.execute("DELETE FROM ops.loads WHERE sha256 = ?", [sha])
            row = {k: v for k, v in ledger.items() if k != "rules"}
            con.register("ledger_row", pd.DataFrame([row]))
            con.execute(
                "INSERT INTO ops.loads BY NAME SELECT *, now()::TIMESTAMP AS loaded_at FROM ledger_row"
            )
            if not removed and not isinstance(path, Lake):
                # A content that only appended rows leaves nothing to reclaim. Without this the
                # checkpoint at commit or close merges the new rows' last, partial row group
                # with the table's (DuckDB's vacuum): 0.2-0.6 s per feedback file at 1M,
                # growing with the table, ~6 s of a full run's loading (bench/RESULTS.md).
                # Rows a load removes (a content replaced, repeated ids) are reclaimed as before.
                con.execute("SET max_vacuum_tasks = 0")
            crash_point("load-before-commit")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    crash_point("load-committed")
    return ledger


def _quarantine_repeated_ids(con: duckdb.DuckDBPyConnection, sha: str) -> int:
    """`unique_within_file` across batches: Pandera saw one batch at a time, so repeats that
    fell in different batches are quarantined here, exactly as Pandera does within a batch
    (every row with a repeated id; rows of the wrong shape keep their shape rule alone).
    Returns the number of staged rows it removed."""
    con.execute(
        """
        INSERT INTO ops.quarantine BY NAME
        SELECT r.sha256, r.row_number, 'submission_id' AS column_name, 'unique_within_file' AS rule,
               r.submission_id AS value
        FROM raw.submission_rows AS r
        WHERE r.sha256 = $sha AND r.shape_rule IS NULL
          AND r.submission_id IN (
              SELECT submission_id FROM raw.submission_rows
              WHERE sha256 = $sha AND submission_id IS NOT NULL
              GROUP BY submission_id HAVING count(*) > 1)
          AND NOT EXISTS (
              SELECT 1 FROM ops.quarantine AS q
              WHERE q.sha256 = r.sha256 AND q.row_number = r.row_number AND q.rule = 'unique_within_file')
        """,
        {"sha": sha},
    )
    return con.execute(
        """
        DELETE FROM stg.submissions
        WHERE sha256 = $sha AND row_number IN (SELECT row_number FROM ops.quarantine WHERE sha256 = $sha)
        """,
        {"sha": sha},
    ).fetchone()[0]
