"""The one place that opens DuckDB: the internal warehouse and the published file.

Write semantics per table: raw/stg/quarantine rows are replaced per file (delete by
sha256, then insert, in one transaction); ledgers are merged on their keys; mart
snapshots are replaced per as_of; the published file is rebuilt whole and swapped in
with an atomic rename, so BI readers never see a half-built state and never block us.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

from kcity.faults import crash_point
from schemas.reference import DATA as REFERENCE_DATA

SQL = Path(__file__).resolve().parent / "sql"
MARTS = [
    "headline",
    "track_summary",
    "category_summary",
    "country_summary",
    "submissions",
    "office_routing",
    "score_breakdown",
    "ranking_variants",
    "rank_stability",
]
# Marts built once per ministry that reviewed as of the date ($exclude_ministry).
PER_MINISTRY_MARTS = {"rank_stability"}
# Layered macros, in dependency order.
MACROS = ["stg_requests", "stg_reviews", "int_ratings", "int_request_scores", "int_country_scores"]
RAW_TABLES = {"submissions": "raw.submission_rows", "feedback": "raw.feedback_rows"}
STG_TABLES = {"submissions": "stg.submissions", "feedback": "stg.feedback"}
# Published file format: readable by DuckDB 1.x releases that BI tools embed.
PUBLISH_STORAGE_VERSION = "v1.0.0"
_PARAM = re.compile(r"\$([a-z_]+)")


def sql_text(name: str) -> str:
    """The text of warehouse/sql/<name>.sql."""
    return (SQL / f"{name}.sql").read_text(encoding="utf-8")


def select_sql(name: str, values: dict) -> tuple[str, dict]:
    """A SELECT .sql file without its `;`, and the named parameters (of `values`) it uses."""
    text = sql_text(name).rstrip().rstrip(";")
    used = set(_PARAM.findall(text))
    return text, {k: v for k, v in values.items() if k in used}


@contextlib.contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open a DuckDB file; closed on exit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def init_warehouse(path: Path) -> None:
    """Create schemas and tables if missing; refresh reference tables and macros."""
    with connect(path) as con:
        con.execute(sql_text("ddl"))
        cats = pd.read_csv(REFERENCE_DATA / "categories.csv", dtype=str)
        countries = pd.read_csv(REFERENCE_DATA / "countries.csv", dtype=str, keep_default_na=False)
        con.register("cats_df", cats)
        con.register("countries_df", countries)
        con.execute("CREATE OR REPLACE TABLE ref.categories AS SELECT * FROM cats_df")
        con.execute("CREATE OR REPLACE TABLE ref.countries AS SELECT * FROM countries_df")
        for macro in MACROS:
            con.execute(sql_text(macro))


def record_inbox_files(path: Path, files: list[dict], up_to: dt.date) -> None:
    """Merge the paths seen in the inbox into ops.inbox_files (first sighting kept); mark
    what was seen before (delivered up to `up_to`) but is gone now as no longer present."""
    seen = pd.DataFrame(
        files, columns=["rel_path", "sha256", "source", "delivery_date", "file_name", "size_bytes", "problem"]
    )
    with connect(path) as con:
        con.register("seen", seen)
        con.execute("BEGIN TRANSACTION")
        if len(seen):
            con.execute(
                """
                INSERT INTO ops.inbox_files BY NAME
                SELECT *, now()::TIMESTAMP AS first_seen_at, true AS present FROM seen
                ON CONFLICT (rel_path, sha256) DO UPDATE SET problem = excluded.problem, present = true
                """
            )
        con.execute(
            """
            UPDATE ops.inbox_files AS f SET present = false
            WHERE (f.delivery_date IS NULL OR f.delivery_date <= ?)
              AND NOT EXISTS (SELECT 1 FROM seen AS s WHERE s.rel_path = f.rel_path AND s.sha256 = f.sha256)
            """,
            [up_to],
        )
        con.execute("COMMIT")


def loaded_hashes(path: Path) -> dict[str, str]:
    """sha256 -> rel_path of every content already loaded or rejected."""
    with connect(path) as con:
        return dict(con.execute("SELECT sha256, rel_path FROM ops.loads").fetchall())


def load_file(
    path: Path,
    ledger: dict,
    raw_rows: pd.DataFrame | None,
    staged: pd.DataFrame | None,
    quarantine: pd.DataFrame | None,
) -> None:
    """Replace everything one file content (sha256) loaded, in one transaction."""
    source, sha = ledger["source"], ledger["sha256"]
    with connect(path) as con:
        con.execute("BEGIN TRANSACTION")
        for table in (RAW_TABLES[source], STG_TABLES[source], "ops.quarantine"):
            con.execute(f"DELETE FROM {table} WHERE sha256 = ?", [sha])
        for table, frame in (
            (RAW_TABLES[source], raw_rows),
            (STG_TABLES[source], staged),
            ("ops.quarantine", quarantine),
        ):
            if frame is not None and len(frame):
                con.register("incoming", frame.assign(sha256=sha))
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
                con.unregister("incoming")
        con.execute("DELETE FROM ops.loads WHERE sha256 = ?", [sha])
        con.register("ledger_row", pd.DataFrame([ledger]))
        con.execute("INSERT INTO ops.loads BY NAME SELECT *, now()::TIMESTAMP AS loaded_at FROM ledger_row")
        crash_point("load-before-commit")
        con.execute("COMMIT")
    crash_point("load-committed")


def raw_rows_of(path: Path, sha256: str, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The raw text rows one file content loaded, and their shape problems, to re-validate
    without the file."""
    with connect(path) as con:
        frame = con.execute(
            f"SELECT * EXCLUDE (sha256) FROM {RAW_TABLES[source]} WHERE sha256 = ? ORDER BY row_number",
            [sha256],
        ).df()
    shape = frame.loc[frame["shape_rule"].notna(), ["row_number", "shape_rule", "shape_value"]]
    shape = shape.rename(columns={"shape_rule": "rule", "shape_value": "value"}).reset_index(drop=True)
    rows = frame.drop(columns=["shape_rule", "shape_value"]).set_index("row_number").astype("str")
    return rows, shape


def loads_between(path: Path, start: dt.date, end: dt.date) -> list[dict]:
    """Ledger rows of the deliveries dated start..end."""
    with connect(path) as con:
        cur = con.execute(
            "SELECT * FROM ops.loads WHERE delivery_date BETWEEN ? AND ? ORDER BY delivery_date, rel_path",
            [start, end],
        )
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def snapshot_dates(path: Path) -> list[dt.date]:
    """Every as_of that has a built snapshot."""
    with connect(path) as con:
        return [r[0] for r in con.execute("SELECT as_of FROM ops.snapshots ORDER BY as_of").fetchall()]


def _ensure_history_table(con: duckdb.DuckDBPyConnection, mart: str, text: str, used: dict) -> None:
    """Create hist.<mart> from the mart's columns; add columns a newer mart SQL brought."""
    shape = con.execute(f"DESCRIBE SELECT * FROM ({text}) LIMIT 0", used).fetchall()
    con.execute(f"CREATE TABLE IF NOT EXISTS hist.{mart} AS SELECT * FROM ({text}) LIMIT 0", used)
    have = {r[0] for r in con.execute(f"DESCRIBE hist.{mart}").fetchall()}
    for name, dtype, *_ in shape:
        if name not in have:  # names come from our own SQL files, never from input
            con.execute(f'ALTER TABLE hist.{mart} ADD COLUMN "{name}" {dtype}')


def build_snapshots(path: Path, dates: list[dt.date], params: dict) -> None:
    """Rebuild every mart for each as_of into hist.* (replace those dates, one transaction)."""
    with connect(path) as con:
        con.execute("BEGIN TRANSACTION")
        for as_of in dates:
            values = {"as_of": as_of, **params}
            ministries = [
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT ministry_key FROM reviews_as_of(?) ORDER BY 1", [as_of]
                ).fetchall()
            ]
            for mart in MARTS:
                text, used = select_sql(f"marts/{mart}", {**values, "exclude_ministry": None})
                _ensure_history_table(con, mart, text, used)
                con.execute(f"DELETE FROM hist.{mart} WHERE as_of = ?", [as_of])
                for ministry in ministries if mart in PER_MINISTRY_MARTS else [None]:
                    con.execute(
                        f"INSERT INTO hist.{mart} BY NAME {text}",
                        {**used, "exclude_ministry": ministry} if ministry else used,
                    )
            con.execute(
                "INSERT OR REPLACE INTO ops.snapshots VALUES (?, now()::TIMESTAMP, ?)",
                [as_of, json.dumps(params, sort_keys=True)],
            )
            crash_point("build-day-inserted")
        con.execute("COMMIT")
    crash_point("build-committed")


def build_snapshot(path: Path, as_of: dt.date, params: dict) -> None:
    """Rebuild every mart for one as_of."""
    build_snapshots(path, [as_of], params)


def _comment_marts(con: duckdb.DuckDBPyConnection) -> None:
    """COMMENT ON every published table and column, from warehouse/catalog.csv (for BI catalogs)."""
    catalog = pd.read_csv(Path(__file__).with_name("catalog.csv"), dtype=str, keep_default_na=False)
    tables = {r.table: r.description for r in catalog.itertuples() if r.table != "*" and not r.column}
    columns = {r.column: r.description for r in catalog.itertuples() if r.table == "*"}
    specific = {
        (r.table, r.column): r.description for r in catalog.itertuples() if r.table != "*" and r.column
    }
    published = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = 'pub' AND schema_name = 'marts'"
    ).fetchall()
    for table in sorted({t for t, _ in published}):
        con.execute(f"COMMENT ON TABLE pub.marts.{table} IS {_literal(tables.get(table, ''))}")
    for table, column in published:
        text = specific.get((table, column), columns.get(column, ""))
        con.execute(f'COMMENT ON COLUMN pub.marts.{table}."{column}" IS {_literal(text)}')


def _literal(text: str) -> str:
    """A SQL string literal (COMMENT ON takes no parameters); text comes from our catalog."""
    return "'" + text.replace("'", "''") + "'"


def publish(internal: Path, published: Path) -> dt.date | None:
    """Write the marts of the latest snapshot and their history to a new file; swap it in."""
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = published.with_name(f".{published.name}.tmp-{os.getpid()}")
    # Leftovers of a run killed while publishing (we hold the writer lock: none is in use).
    for stale in published.parent.glob(f".{published.name}.tmp-*"):
        stale.unlink(missing_ok=True)
    with connect(internal) as con:
        latest = con.execute("SELECT max(as_of) FROM ops.snapshots").fetchall()[0][0]
        # ATTACH takes no parameters; the path comes from settings, never from input files.
        quoted = str(tmp).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS pub (STORAGE_VERSION '{PUBLISH_STORAGE_VERSION}')")
        try:
            con.execute("CREATE SCHEMA pub.marts")
            for mart in MARTS:
                con.execute(
                    f"CREATE TABLE pub.marts.{mart} AS SELECT * FROM hist.{mart} WHERE as_of = ? ORDER BY ALL",
                    [latest],
                )
            con.execute(
                "CREATE TABLE pub.marts.country_summary_history AS "
                "SELECT * FROM hist.country_summary ORDER BY as_of, rank NULLS LAST, country_iso3"
            )
            for name in ("load_report", "quarantine", "reviews_waiting", "run_ledger"):
                text, used = select_sql(f"published/{name}", {"as_of": latest})
                con.execute(f"CREATE TABLE pub.marts.{name} AS {text}", used)
            crash_point("publish-tables-written")
            _comment_marts(con)
            con.execute("CHECKPOINT pub")
        finally:
            con.execute("DETACH pub")
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    crash_point("publish-before-rename")
    os.replace(tmp, published)
    crash_point("publish-renamed")
    dir_fd = os.open(published.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return latest


def snapshot_tables(path: Path, as_of: dt.date) -> dict[str, pd.DataFrame] | None:
    """Every mart of one built snapshot, plus the load report and quarantine locations."""
    with connect(path) as con:
        if not con.execute("SELECT count(*) FROM ops.snapshots WHERE as_of = ?", [as_of]).fetchall()[0][0]:
            return None
        tables = {
            mart: con.execute(f"SELECT * FROM hist.{mart} WHERE as_of = ? ORDER BY ALL", [as_of]).df()
            for mart in MARTS
        }
        for name in ("load_report", "quarantine"):
            text, used = select_sql(f"published/{name}", {"as_of": as_of})
            tables[name] = con.execute(text, used).df()
        return tables


def record_run_day(path: Path, row: dict) -> None:
    """Insert or replace one (as_of, flow_run_id) row of ops.run_ledger."""
    with connect(path) as con:
        con.register("day_row", pd.DataFrame([row]))
        con.execute("INSERT OR REPLACE INTO ops.run_ledger BY NAME SELECT * FROM day_row")


def failed_checks(path: Path) -> dict[str, int]:
    """Run warehouse/checks/*.sql (each must return no rows); name -> offending row count."""
    failures = {}
    with connect(path) as con:
        for check in sorted((SQL.parent / "checks").glob("*.sql")):
            rows = con.execute(check.read_text(encoding="utf-8")).fetchall()
            if rows:
                failures[check.stem] = len(rows)
    return failures
