"""The one place that opens DuckDB: the internal warehouse and the published file.

Write semantics per table: raw/stg/quarantine rows are replaced per file (delete by
sha256, then insert, in one transaction: warehouse/loading.py, on `connect`); ledgers are merged on their keys; mart
snapshots are replaced per as_of (the per-request latest-only marts patched, request by
request, after a delivery touching few requests); the published file is written to a new
file (whole, or as a copy of the published one with what changed replaced) and swapped in
with an atomic rename, so BI readers never see a half-built state and never block us.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import pandas as pd

from kcity.faults import crash_point
from schemas.reference import DATA as REFERENCE_DATA
from warehouse.backend import LAKE_ALIAS, Internal, Lake
from warehouse.backend import attach as attach_lake

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
# Row order of the large published marts: their key (sorting a million rows by every column
# costs seconds); the small ones are ordered by all columns.
PUBLISH_ORDER = {
    "submissions": "submission_id",
    "score_breakdown": "submission_id, ministry, criterion",
}
# Marts whose rows are built in their published order (the SQL says how): from the embedded
# file they are copied as they are, in insertion order (score_breakdown's 8M rows at 1M
# requests: sorting them took 3.7 of the copy's 5.5 s; RESULTS.md, eleventh session). Read
# back from DuckLake's files, a few rows came out of order (43 of 8.2M): sorted there.
BUILT_IN_ORDER = {"score_breakdown"}
# DuckDB's share of memory (it spills to disk beyond this); keeps a run's peak bounded. The
# snapshot of 2M requests fits 400 MB (RESULTS.md), and 400 MB builds and publishes as fast
# as 500 MB with less peak (in-process, 1M: build 31.0 -> 28.3 s, 728 -> 606 MiB; publish
# 12.2 s both ways, 802 -> 731 MiB): a full run stays within 1 GiB with Polars in the
# process. Loading a file needs less: its open transaction's rows are what fills it, while
# two batches' Arrow and Polars data sit beside it (one inserted, the next validated:
# tasks/ingest.ahead). 300 MB took ~100 MiB off a 400k-row file's peak at the same speed as
# 500 MB; 150 MB, ~150 MiB more (two 400k-row files in-process: 997 -> 850 MiB, same speed).
MEMORY_LIMIT = os.environ.get("KCITY_DUCKDB_MEMORY", "400MB")
LOAD_MEMORY_LIMIT = os.environ.get("KCITY_DUCKDB_LOAD_MEMORY", "150MB")
_PARAM = re.compile(r"\$([a-z_]+)")


def file_stamp(path: Path) -> str:
    """What tells a DuckDB file we wrote from the same file written to since: its size, its
    mtime and a digest of its headers (the first 12 KiB; each checkpoint writes a new
    database header with its iteration count), so a write within the file system's mtime
    granularity (a few ms) is seen too. Not its inode and ctime (as the inbox's stat key
    has): a copy of the data folder made with its times (cp -a, rsync -a, the bench
    restoring a warehouse) holds the same file."""
    stat = path.stat()
    with open(path, "rb") as f:
        headers = hashlib.sha256(f.read(3 * 4096)).hexdigest()[:16]
    return f"{stat.st_size}:{stat.st_mtime_ns}:{headers}"


def sql_text(name: str) -> str:
    """The text of warehouse/sql/<name>.sql."""
    return (SQL / f"{name}.sql").read_text(encoding="utf-8")


def select_sql(name: str, values: dict) -> tuple[str, dict]:
    """A SELECT .sql file without its `;`, and the named parameters (of `values`) it uses."""
    text = sql_text(name).rstrip().rstrip(";")
    used = set(_PARAM.findall(text))
    return text, {k: v for k, v in values.items() if k in used}


@contextlib.contextmanager
def connect(path: Internal, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open a DuckDB file, or the DuckLake warehouse (its catalog the default database);
    closed on exit."""
    # Insertion order is kept only where a table is written in its published order
    # (`insertion_order`, BUILT_IN_ORDER); elsewhere not keeping it lets DuckDB stream large
    # inserts within the memory limit.
    config = {"memory_limit": MEMORY_LIMIT, "preserve_insertion_order": False}
    if isinstance(path, Lake):
        con = _lake_instance(path, read_only, config).cursor()
        con.execute(f"USE {LAKE_ALIAS}")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    try:
        yield con
    finally:
        con.close()


# One DuckDB instance per DuckLake (and mode) per process, the catalog attached once:
# attaching costs ~0.5 s (extensions, PostgreSQL connection, catalog), and a run opens the
# warehouse a dozen times. Each `connect` gets its own connection (cursor) on it, so
# transactions, temp tables and temp macros stay per call as with a file.
_LAKES: dict[tuple[Lake, bool], duckdb.DuckDBPyConnection] = {}


def _lake_instance(lake: Lake, read_only: bool, config: dict) -> duckdb.DuckDBPyConnection:
    key = (lake, read_only)
    if key not in _LAKES:
        con = duckdb.connect(config=config)
        try:
            attach_lake(con, lake, read_only=read_only)
        except BaseException:
            con.close()
            raise
        _LAKES[key] = con
    return _LAKES[key]


def prepare_warehouse(path: Internal, files: list[dict], up_to: dt.date) -> dict[str, str]:
    """`init_warehouse`, `record_inbox_files` and `loaded_hashes` on one connection: every
    nightly runs the three, and each open of the 1M-request warehouse costs 12-25 ms."""
    with connect(path) as con:
        _init_warehouse(con)
        _record_inbox_files(con, files, up_to)
        return _loaded_hashes(con)


def init_warehouse(path: Internal) -> None:
    """Create schemas and tables if missing; refresh reference tables and macros. Skipped when
    the warehouse was last set up by the same SQL and reference data (every nightly calls it)."""
    with connect(path) as con:
        _init_warehouse(con)


def _init_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    code = _code_version()
    try:
        if con.execute("SELECT version FROM ops.warehouse_code").fetchall() == [(code,)]:
            return
    except duckdb.CatalogException:  # a new warehouse, or one set up before this table
        pass
    con.execute(sql_text("ddl"))
    import pandas as pd  # only when the warehouse is set up (new, or new SQL or reference data)

    cats = pd.read_csv(REFERENCE_DATA / "categories.csv", dtype=str)
    countries = pd.read_csv(REFERENCE_DATA / "countries.csv", dtype=str, keep_default_na=False)
    con.register("cats_df", cats)
    con.register("countries_df", countries)
    con.execute("CREATE OR REPLACE TABLE ref.categories AS SELECT * FROM cats_df")
    con.execute("CREATE OR REPLACE TABLE ref.countries AS SELECT * FROM countries_df")
    con.unregister("cats_df")
    con.unregister("countries_df")
    for macro in MACROS:
        con.execute(sql_text(macro))
    con.execute("CREATE OR REPLACE TABLE ops.warehouse_code AS SELECT ? AS version", [code])


def known_hashes(path: Internal) -> dict[tuple[str, str], str]:
    """(inbox path, stat key) -> sha256 of every file seen before (tasks/inbox.py, stat_key);
    nothing before the warehouse exists."""
    if not path.exists():
        return {}
    with connect(path) as con:
        try:
            rows = con.execute(
                "SELECT rel_path, stat_key, sha256 FROM ops.inbox_files WHERE stat_key IS NOT NULL AND sha256 <> ''"
            ).fetchall()
        except (duckdb.BinderException, duckdb.CatalogException):  # a warehouse from before the column
            return {}
    return {(r[0], r[1]): r[2] for r in rows}


def _inbox_unchanged(con: duckdb.DuckDBPyConnection, files: list[dict], up_to: dt.date) -> bool:
    """Whether ops.inbox_files already says what `record_inbox_files` would write: every file
    seen is recorded as present with its problem and stat key, and every other file recorded
    as present was delivered after `up_to`."""
    recorded = {
        (r[0], r[1]): r[2:]
        for r in con.execute(
            "SELECT rel_path, sha256, problem, stat_key, present, delivery_date FROM ops.inbox_files"
        ).fetchall()
    }
    seen = {(f["rel_path"], f["sha256"]) for f in files}
    if any(
        recorded.get((f["rel_path"], f["sha256"]), ())[:3] != (f["problem"], f["stat_key"], True)
        for f in files
    ):
        return False
    return not any(
        present and key not in seen and (delivered is None or delivered <= up_to)
        for key, (_, _, present, delivered) in recorded.items()
    )


def record_inbox_files(path: Internal, files: list[dict], up_to: dt.date) -> None:
    """Merge the paths seen in the inbox into ops.inbox_files (first sighting kept); mark
    what was seen before (delivered up to `up_to`) but is gone now as no longer present.
    Nothing is written when the inbox is as recorded (most nights)."""
    with connect(path) as con:
        _record_inbox_files(con, files, up_to)


def _record_inbox_files(con: duckdb.DuckDBPyConnection, files: list[dict], up_to: dt.date) -> None:
    if _inbox_unchanged(con, files, up_to):
        return
    import pandas as pd  # a changed inbox: files to load, which need pandas anyway

    seen = pd.DataFrame(
        files,
        columns=[
            "rel_path",
            "sha256",
            "source",
            "delivery_date",
            "file_name",
            "size_bytes",
            "problem",
            "stat_key",
        ],
    )
    con.register("seen", seen)
    con.execute("BEGIN TRANSACTION")
    if len(seen):
        # A merge on (rel_path, sha256) written as UPDATE + INSERT: DuckLake has no keys.
        con.execute(
            """
            UPDATE ops.inbox_files AS f
            SET problem = s.problem, present = true, stat_key = s.stat_key
            FROM seen AS s WHERE s.rel_path = f.rel_path AND s.sha256 = f.sha256
            """
        )
        con.execute(
            """
            INSERT INTO ops.inbox_files BY NAME
            SELECT *, now()::TIMESTAMP AS first_seen_at, true AS present FROM seen AS s
            WHERE NOT EXISTS (
                SELECT 1 FROM ops.inbox_files AS f WHERE f.rel_path = s.rel_path AND f.sha256 = s.sha256)
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
    con.unregister("seen")


def loaded_hashes(path: Internal) -> dict[str, str]:
    """sha256 -> rel_path of every content already loaded or rejected."""
    with connect(path) as con:
        return _loaded_hashes(con)


def _loaded_hashes(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT sha256, rel_path FROM ops.loads").fetchall())


def _loads(path: Internal, where: str, params: list) -> list[dict]:
    """Rows of ops.loads matching `where`, as dicts, in delivery order."""
    with connect(path) as con:
        cur = con.execute(f"SELECT * FROM ops.loads WHERE {where} ORDER BY delivery_date, rel_path", params)
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def loads_between(path: Internal, start: dt.date, end: dt.date) -> list[dict]:
    """Ledger rows of the deliveries dated start..end."""
    return _loads(path, "delivery_date BETWEEN ? AND ?", [start, end])


def last_load_time(path: Internal) -> dt.datetime | None:
    """The newest ops.loads.loaded_at (the warehouse's clock, as loads record it); None
    before the first load."""
    if not path.exists():
        return None
    with connect(path) as con:
        try:
            return con.execute("SELECT max(loaded_at) FROM ops.loads").fetchone()[0]
        except duckdb.CatalogException:  # the warehouse is not initialised yet
            return None


def loads_since(path: Internal, after: dt.datetime | None) -> list[dict]:
    """Ledger rows of the contents loaded after `after` (all when None)."""
    return _loads(path, "? IS NULL OR loaded_at > ?", [after, after])


def snapshot_dates(path: Internal) -> list[dt.date]:
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


# The base layers every mart of a day reads, computed once per day into temp tables; temp
# macros of the stored layers' names read them while the day's marts are built. Two tables,
# one copy of each row: every review of the day (all_reviews_as_of), flagged `counted` when
# its request counts (reviews_as_of), and every counted request with the run's scores
# (request_scores; requests_as_of is that table without the score columns). Temp tables stay
# in DuckDB's memory and spill to disk beyond its limit, and every later step sorts and hashes
# in what is left: at 2M requests the four copies they were (the requests twice, the reviews
# twice) held 205 MB in memory and 962 MB spilled.
DAY_MACROS = (
    "requests_as_of",
    "request_groups",
    "all_reviews_as_of",
    "reviews_as_of",
    "waiting_reviews_as_of",
    "country_reviews_as_of",
    "request_scores",
    "normalized_values",
    "country_inputs",
    "country_scores",
)
DAY_TABLES = (
    "day_requests",
    "day_request_groups",
    "day_reviews",
    "day_request_scores",
    "touched_submissions",
    "touched_feedback",
    "touched_reviews",
    "day_normalized_values",
    "day_country_scores",
)
# The newest day's reviews and request scores are kept (schema `state`, with the inputs key
# they are of in state.day_layers), so that the night after a delivery touching few requests
# patches them (`_materialize_day` with `patch`) rather than versioning every staged row
# again (the whole layers: ~3.2 s of such a night at 1M requests). Other days' stay temporary.
STATE_TABLES = ("day_reviews", "day_request_scores")
# Kept with them under a scoring that does not normalise per ministry: each request's scores
# with one ministry's reviews left out (rank_stability), for the requests that ministry
# reviewed (the others' are their scores: the same reviews). Patched as the others, they
# spare the nightly one pass over every review per ministry (~0.4 s each at 1M).
LOO_TABLE = "day_left_out_scores"
# The scorings marts.ranking_variants ranks by, as (trim_reviews, normalize_ministries): the
# order of its SQL.
RANKING_METHODS = ((False, False), (True, False), (False, True))
# Kept with them too: each request's scores under the ranking methods other than the run's
# (columns `trimmed`, `normalized`: the method; with each request's country and track, what
# the country scores are of besides its scores), which ranking_variants reads instead of
# passes over every review (trimmed ~0.4 s, normalised ~1 s at 1M), and the normalised values
# of each ministry's ratings (`normalized_values`) they are of. Patched with the others while
# those values stay the same; when a delivery moves them (new or newer reviews change a
# ministry's statistics), the normalised scores are computed whole again.
VARIANTS_TABLE = "day_variant_scores"
NORM_TABLE = "day_normalized_values"
KEPT_TABLES = (*STATE_TABLES, LOO_TABLE, VARIANTS_TABLE, NORM_TABLE)
# Columns no mart reads, left out of the day's tables: free text, and the lineage the
# versioning macros ordered by (file hash, name, row). At 2M requests the descriptions alone
# filled 500 MB (out of memory), and the lineage was ~40% of what was left. A mart reading a
# removed column fails loudly.
_LINEAGE = ("sha256", "row_number", "file_name")
DAY_UNUSED = {
    "requests_as_of": ("description", "contact_name", "contact_email", *_LINEAGE),
    "all_reviews_as_of": ("comment", "reviewed_at", "delivery_date", *_LINEAGE),
}
# The columns the day's reviews have beyond all_reviews_as_of's: the country of a counted
# review's request, and whether it counts or waits for its submission.
DAY_FLAGS = "country_iso3, counted, waiting"
# What country_scores aggregates of each request (the stored macro country_inputs).
COUNTRY_INPUTS = (
    "country_iso3",
    "track",
    "n_reviews",
    "avg_cooperation",
    "avg_prospects",
    "avg_business",
    "score",
)
SCORE_COLUMNS = ("n_reviews", "avg_cooperation", "avg_prospects", "avg_business", "score")
SCORING_ARGS = ("w_cooperation", "w_prospects", "w_business", "trim_reviews", "normalize_ministries")
# country_scores' arguments before exclude_ministry, in its order.
COUNTRY_ARGS = (
    "w_cooperation",
    "w_prospects",
    "w_business",
    "shortlist_size",
    "trim_reviews",
    "normalize_ministries",
)


def sql_literal(value: object) -> str:
    """A typed value as a SQL literal of the value DuckDB would bind for it
    (tests/unit/warehouse/test_sql_literal.py holds literal and binding equal on arbitrary
    values).

    Used where a bound parameter does not fit: marts are planned with their constants, so
    DuckDB drops the branches a scoring option does not use; and the bookkeeping statements
    every run executes (the run ledger, publications, the inputs key) take no parameters
    because binding one makes DuckDB's client import pandas (it checks each value against
    pandas.NaT), 0.35 s of a nothing-new night (bench/RESULTS.md, twelfth session). Values
    from input files still reach SQL as parameters on the loading path.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):  # read as text: a decimal literal read as DECIMAL can round differently
        return f"'{value!r}'::DOUBLE"
    if isinstance(value, dt.datetime):
        kind = "TIMESTAMPTZ" if value.tzinfo is not None else "TIMESTAMP"
        return f"{kind} '{value.isoformat()}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return _literal(str(value))


def inline(text: str, values: dict) -> str:
    """Replace $name parameters of a mart by literals of `values`."""
    return _PARAM.sub(lambda m: sql_literal(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


@contextlib.contextmanager
def insertion_order(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Keep insertion order for the statements inside (connections run without it: see
    `connect`): a table written from an ordered query is stored in that order."""
    con.execute("SET preserve_insertion_order = true")
    try:
        yield
    except BaseException:
        # After a failed statement the transaction refuses every other one: the error that
        # failed it is the one to raise (the connection is closed with it).
        with contextlib.suppress(duckdb.Error):
            con.execute("SET preserve_insertion_order = false")
        raise
    con.execute("SET preserve_insertion_order = false")


def _drop_day(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the day's temp tables and macros: the stored macros apply again."""
    for name in DAY_MACROS:
        con.execute(f"DROP MACRO TABLE IF EXISTS temp.{name}")
    for table in DAY_TABLES:
        con.execute(f"DROP TABLE IF EXISTS temp.{table}")


def _review_macros(con: duckdb.DuckDBPyConnection, reviews: str) -> None:
    """Temp macros of the reviews layers' names over a table of the day's reviews."""
    for macro, dropped, where in (
        ("all_reviews_as_of", DAY_FLAGS, ""),
        ("reviews_as_of", DAY_FLAGS, " WHERE counted"),
        ("country_reviews_as_of", "counted, waiting", " WHERE counted"),
    ):
        con.execute(f"DROP MACRO TABLE IF EXISTS temp.{macro}")
        con.execute(
            f"CREATE TEMP MACRO {macro}(d) AS TABLE SELECT * EXCLUDE ({dropped}) FROM {reviews}{where}"
        )


def _materialize_day(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    params: dict,
    keep: str | None = None,
    patch: str | None = None,
) -> bool:
    """Compute the day's requests, reviews and request scores (the run's scoring) once, not
    once per mart: at a million requests, recomputing them per mart costs minutes. Temp
    tables: they outlive the transaction that made them, until `_drop_day`. With `keep` (the
    day's inputs key: the newest day), the reviews and scores are the `state` tables instead,
    kept for the next night; with `patch` too (a filter of the requests a delivery touched,
    `_touched_filter`; the state tables holding the layers of the day the latest-only marts
    were built for, `_patchable`), only those requests' rows are computed (from their staged
    rows alone) and replace theirs in the state tables. Returns whether a touched request has
    a review, before or after (patched; else true): when none has, every review is as the
    kept layers' day had it and no country's score or count of reviews moves.

    Call it inside a transaction: outside one, each statement commits on its own and the
    day's reviews, sorted in insertion order, ran out of the 400 MB limit at 2M requests
    (the same statement in a transaction: 6 s; bench/RESULTS.md, thirteenth session)."""
    _drop_day(con)
    day = sql_literal(as_of)
    reviews, scores = (f"{'state' if keep else 'temp'}.{t}" for t in STATE_TABLES)
    sources = ("stg.submissions", "stg.feedback")
    reviewed = True  # patched: whether a touched request has a review, before or after
    if patch:
        # When none has, the day's reviews are those the kept layers were computed from
        # (staged rows are only added to, and an untouched request's reviews are as they were).
        reviewed = False
        for table in (reviews, scores, f"state.{LOO_TABLE}"):
            deleted = con.execute(f"DELETE FROM {table} WHERE {TOUCHED}").fetchone()[0]
            reviewed = reviewed or (table == reviews and deleted > 0)
        # A staged review of a touched request is of a load the kept day's reviews are of (then
        # the request has one there) or of a new load: with neither, none is looked up in the
        # staged reviews (3M at 1M requests: 0.07 s).
        new_feedback = con.execute(
            "SELECT count(*) > 0 FROM temp.touched_loads WHERE source = 'feedback'"
        ).fetchone()[0]
        feedback = sources[1] if reviewed or new_feedback else f"(FROM {sources[1]} LIMIT 0)"
        for table, source in zip(
            ("touched_submissions", "touched_feedback"), (sources[0], feedback), strict=True
        ):
            con.execute(f"CREATE TEMP TABLE {table} AS FROM {source} WHERE {patch}")
        sources = ("temp.touched_submissions", "temp.touched_feedback")

    def write(table: str, query: str) -> None:
        if patch:
            con.execute(f"INSERT INTO {table} BY NAME {query}")
        else:
            con.execute(f"CREATE OR REPLACE {'' if keep else 'TEMP '}TABLE {table} AS {query}")

    def unused(layer: str) -> str:
        return f"EXCLUDE ({', '.join(DAY_UNUSED[layer])})"

    con.execute(
        f"CREATE TEMP TABLE day_requests AS "
        f"SELECT * {unused('requests_as_of')} FROM requests_from({day}, {sql_literal(sources[0])})"
    )
    con.execute("CREATE TEMP MACRO requests_as_of(d) AS TABLE FROM temp.day_requests")
    # Stored in country_reviews_as_of's order, with the country of a counted review's request
    # and whether it waits for its submission (patched: the touched requests' rows follow the
    # others, in that order; a review's submission is known from its own staged rows). A
    # counted review's request is known: only the others (~3% at 1M) are looked up among the
    # known submissions, once a day rather than by each reader (the headline: 0.07 s at 1M).
    with insertion_order(con):
        write(
            reviews,
            f"""
            SELECT r.* {unused("all_reviews_as_of")}, q.country_iso3, q.submission_id IS NOT NULL AS counted,
                q.submission_id IS NULL AND r.submission_id NOT IN (
                    SELECT submission_id FROM submissions_known_from({day}, {sql_literal(sources[0])})
                ) AS waiting
            FROM all_reviews_from({day}, {sql_literal(sources[1])}) AS r
            LEFT JOIN temp.day_requests AS q USING (submission_id)
            ORDER BY r.submission_id, r.ministry
            """,
        )
    if patch:  # the touched requests' reviews, read by each pass below (six at 1M: 0.42 -> 0.04 s)
        con.execute(f"CREATE TEMP TABLE touched_reviews AS FROM {reviews} WHERE {patch}")
        reviewed = reviewed or con.execute("SELECT count(*) > 0 FROM temp.touched_reviews").fetchone()[0]
        _review_macros(con, "temp.touched_reviews")
    else:
        _review_macros(con, reviews)
    # The day's reviews whose submission is not known (the stored macro versions them from
    # the staged rows, for the publish).
    con.execute(
        f"CREATE TEMP MACRO waiting_reviews_as_of(d) AS TABLE "
        f"SELECT * EXCLUDE ({DAY_FLAGS}) FROM {reviews} WHERE waiting"
    )
    args = ", ".join(sql_literal(params[a]) for a in SCORING_ARGS)
    write(scores, f"FROM compute_request_scores({day}, {args}, NULL)")
    left_out = f"state.{LOO_TABLE}" if keep and not params["normalize_ministries"] else None
    if keep:
        _left_out_scores(con, day, params, scores, left_out, patch is not None)
    if patch:  # the day's layers: every request's rows again
        _review_macros(con, reviews)
    # Every counted request is a row of the scores (a LEFT JOIN onto requests_as_of): the
    # requests are read from there, and their own copy goes.
    con.execute("DROP MACRO TABLE temp.requests_as_of")
    con.execute(
        f"CREATE TEMP MACRO requests_as_of(d) AS TABLE "
        f"SELECT * EXCLUDE ({', '.join(SCORE_COLUMNS)}) FROM {scores}"
    )
    con.execute("DROP TABLE temp.day_requests")
    # The requests by track, category and country, once: the four marts that count them read
    # these (~300 rows at 1M) instead of a pass over every request each (the four with the
    # headline's other counts, a patched night at 1M: 0.17-0.20 -> 0.05 s).
    con.execute(f"CREATE TEMP TABLE day_request_groups AS FROM request_groups({day})")
    con.execute("CREATE TEMP MACRO request_groups(d) AS TABLE FROM temp.day_request_groups")
    variants = [m for m in RANKING_METHODS if m != (params["trim_reviews"], params["normalize_ministries"])]
    if keep:
        _variant_scores(con, day, params, variants, patch, reviewed)
        con.execute(f"CREATE OR REPLACE TABLE state.day_layers AS SELECT {sql_literal(keep)} AS inputs")
    else:
        variants = []
    # The run's scoring from the day's table; with a ministry left out, from the kept scores
    # of the requests it reviewed (with every other column of theirs) and the day's table for
    # the others; any other scoring computed.
    run = " AND ".join(f"{a} = {sql_literal(params[a])}" for a in SCORING_ARGS)
    served = f"{run} AND exclude_ministry IS NULL"
    parts = [f"SELECT * FROM {scores} WHERE {served}"]
    if left_out:  # one join (1M requests, five ministries: 0.27 s; an anti join and a join: 0.5 s)
        served = run
        replaced = ", ".join(
            f"CASE WHEN l.submission_id IS NULL THEN s.{c} ELSE l.{c} END AS {c}" for c in SCORE_COLUMNS
        )
        parts.append(
            f"SELECT s.* REPLACE ({replaced}) FROM {scores} AS s "
            f"LEFT JOIN (SELECT * FROM {left_out} WHERE left_out = exclude_ministry) AS l USING (submission_id) "
            f"WHERE {run} AND exclude_ministry IS NOT NULL"
        )
    if variants:  # the other ranking methods' scores (ranking_variants), under the run's weights
        kept = f"{' AND '.join(f'{w} = {sql_literal(params[w])}' for w in SCORING_ARGS[:3])} AND exclude_ministry IS NULL"
        kept += (
            " AND ("
            + " OR ".join(
                f"(trim_reviews = {sql_literal(t)} AND normalize_ministries = {sql_literal(n)})"
                for t, n in variants
            )
            + ")"
        )
        replaced = ", ".join(f"v.{c} AS {c}" for c in SCORE_COLUMNS)
        parts.append(
            f"SELECT s.* REPLACE ({replaced}) FROM {scores} AS s "
            f"JOIN state.{VARIANTS_TABLE} AS v USING (submission_id) "
            f"WHERE {kept} AND v.trimmed = trim_reviews AND v.normalized = normalize_ministries"
        )
        served = f"({served}) OR ({kept})"
    parts.append(
        f"SELECT * FROM compute_request_scores(d, {', '.join(SCORING_ARGS)}, exclude_ministry) WHERE NOT ({served})"
    )
    con.execute(
        f"CREATE TEMP MACRO request_scores(d, {', '.join(SCORING_ARGS)}, exclude_ministry) AS TABLE\n"
        + "\nUNION ALL\n".join(parts)
    )
    if variants:  # and for the country scores, from their table alone (COUNTRY_INPUTS)
        inputs = ", ".join(COUNTRY_INPUTS)
        con.execute(
            f"CREATE TEMP MACRO country_inputs(d, {', '.join(SCORING_ARGS)}, exclude_ministry) AS TABLE "
            f"SELECT {inputs} FROM state.{VARIANTS_TABLE} "
            f"WHERE {kept} AND trimmed = trim_reviews AND normalized = normalize_ministries "
            f"UNION ALL SELECT {inputs} FROM request_scores(d, {', '.join(SCORING_ARGS)}, exclude_ministry) "
            f"WHERE NOT ({kept})"
        )
    # The run's country scores, once (three marts read them: one pass over every request
    # each, ~0.04 s at 1M); any other scoring computed.
    given = ", ".join(sql_literal(params[a]) for a in COUNTRY_ARGS)
    con.execute(f"CREATE TEMP TABLE day_country_scores AS FROM compute_country_scores({day}, {given}, NULL)")
    names = ", ".join(COUNTRY_ARGS)
    own = (
        " AND ".join(f"{a} = {sql_literal(params[a])}" for a in COUNTRY_ARGS)
        + " AND exclude_ministry IS NULL"
    )
    con.execute(
        f"CREATE TEMP MACRO country_scores(d, {names}, exclude_ministry) AS TABLE "
        f"SELECT * FROM temp.day_country_scores WHERE {own} "
        f"UNION ALL SELECT * FROM compute_country_scores(d, {names}, exclude_ministry) WHERE NOT ({own})"
    )
    return reviewed


def _weights(params: dict) -> str:
    """The scoring's three criterion weights, as the macros' literal arguments."""
    return ", ".join(sql_literal(params[w]) for w in SCORING_ARGS[:3])


def _left_out_scores(
    con: duckdb.DuckDBPyConnection, day: str, params: dict, scores: str, table: str | None, patch: bool
) -> None:
    """Write the kept leave-one-ministry-out scores (`LOO_TABLE`) of the requests in the
    day's layers as the macros serve them (patched: the touched requests, whose old rows
    are gone), for every ministry reviewing them; `table` None (normalised scoring): none.
    Stored ministry by ministry (rank_stability reads one ministry's rows at a time: the
    others' row groups are skipped, 0.48 -> 0.29 s for five at 1M)."""
    if table is None:
        con.execute(f"DROP TABLE IF EXISTS state.{LOO_TABLE}")
        return
    if not patch:
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT NULL::VARCHAR AS left_out, submission_id, "
            f"{', '.join(SCORE_COLUMNS)} FROM {scores} LIMIT 0"
        )
    if not params["trim_reviews"]:  # plain means: every ministry in one pass
        weights = _weights(params)
        with insertion_order(con):
            con.execute(
                f"INSERT INTO {table} BY NAME "
                f"FROM compute_left_out_scores({day}, {weights}) ORDER BY left_out"
            )
        return
    args = ", ".join(sql_literal(params[a]) for a in SCORING_ARGS)
    ministries = [
        r[0]
        for r in con.execute(f"SELECT DISTINCT ministry_key FROM reviews_as_of({day}) ORDER BY 1").fetchall()
    ]
    for ministry in map(sql_literal, ministries):  # trimmed means: one ministry at a time
        con.execute(
            f"""
            INSERT INTO {table}
            SELECT {ministry}, submission_id, {", ".join(SCORE_COLUMNS)}
            FROM compute_request_scores({day}, {args}, {ministry})
            WHERE submission_id IN (SELECT submission_id FROM reviews_as_of({day}) WHERE ministry_key = {ministry})
            """
        )


def _variant_scores(
    con: duckdb.DuckDBPyConnection,
    day: str,
    params: dict,
    variants: list[tuple[bool, bool]],
    patch: str | None,
    reviewed: bool = True,
) -> list[tuple[bool, bool]]:
    """Write the kept scores of every request under the ranking methods `variants` (the
    run's weights; `VARIANTS_TABLE`) and the normalised values they are of (`NORM_TABLE`),
    the day's layers in place (requests and reviews: every request's). With `patch` (the
    touched requests' rows, already gone from the other layers), the touched requests' rows
    are computed again from their reviews alone; the normalised scores are, while the day's
    normalised values are those kept, else every request's are: they are not computed again
    when no touched request has a review (`reviewed` false: the day's reviews are those
    they were computed from; 3M reviews at 1M requests: 0.07 s). Returns the methods whose
    scores were computed for every request."""
    table, kept_values = f"state.{VARIANTS_TABLE}", f"state.{NORM_TABLE}"
    values = kept_values
    same = patch is not None and not reviewed
    if not same:
        values = "temp.day_normalized_values"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE day_normalized_values AS FROM normalized_values({day}, true, NULL)"
        )
        same = (
            patch is not None
            and not con.execute(
                f"SELECT count(*) FROM ((FROM {values} EXCEPT FROM {kept_values}) "
                f"UNION ALL (FROM {kept_values} EXCEPT FROM {values}))"
            ).fetchone()[0]
        )
    # The scores are computed with these values (those of every review) however few
    # requests' reviews the layers' macros hold. Only for the calls below: it serves no
    # scoring with a ministry left out.
    con.execute(
        "CREATE TEMP MACRO normalized_values(d, normalize, exclude_ministry) AS TABLE "
        f"SELECT * FROM {values} WHERE normalize AND exclude_ministry IS NULL"
    )
    weights = _weights(params)

    def scores(methods: list[tuple[bool, bool]], where: str = "true") -> str:
        return " UNION ALL ".join(
            f"SELECT {sql_literal(t)} AS trimmed, {sql_literal(n)} AS normalized, submission_id, "
            f"country_iso3, track, {', '.join(SCORE_COLUMNS)} FROM compute_request_scores({day}, {weights}, {sql_literal(t)}, "
            f"{sql_literal(n)}, NULL) WHERE {where}"
            for t, n in methods
        )

    whole = variants
    if patch is None:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {scores(variants)}")
    else:
        whole = [] if same else [m for m in variants if m[1]]
        touched = [m for m in variants if m not in whole]
        if whole:  # the normalised values moved: every request's normalised scores
            con.execute(f"DELETE FROM {table} WHERE normalized")
            con.execute(f"INSERT INTO {table} {scores(whole)}")
        con.execute(f"DELETE FROM {table} WHERE {TOUCHED}{' AND NOT normalized' if whole else ''}")
        if touched:
            _review_macros(con, "temp.touched_reviews")
            con.execute(f"INSERT INTO {table} {scores(touched, patch)}")
            _review_macros(con, f"state.{STATE_TABLES[0]}")
    if not same:
        con.execute(f"CREATE OR REPLACE TABLE {kept_values} AS FROM {values}")
    con.execute("DROP MACRO TABLE temp.normalized_values")
    con.execute("DROP TABLE IF EXISTS temp.day_normalized_values")
    return whole


# Marts kept for the latest snapshot only: one row per request (or per rating), or costly
# analyses; a history of them per day would grow by millions of rows a day at scale. For an
# older day they are computed on request (snapshot_tables).
LATEST_ONLY = {"submissions", "score_breakdown", "ranking_variants", "rank_stability"}


def _code_version() -> str:
    """Changes when any SQL or reference data the marts depend on changes, or this module,
    which runs them: a day whose inputs are unchanged is kept, copied or re-dated rather
    than rebuilt, so a fix here must count as new code as a fix in the SQL does."""
    digest = hashlib.sha256()
    for f in sorted([*SQL.rglob("*.sql"), *REFERENCE_DATA.glob("*.csv")]) + [Path(__file__)]:
        digest.update(f.name.encode() + f.read_bytes())
    return digest.hexdigest()[:16]


def _loads_up_to(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> str:
    """The loads delivered up to a day: each content and when it was last loaded, as one
    string (`sha256@loaded_at`, comma-separated, by sha256)."""
    return con.execute(
        f"""
        SELECT coalesce(string_agg(sha256 || '@' || strftime(loaded_at, '%Y%m%d%H%M%S.%f'), ',' ORDER BY sha256), '')
        FROM ops.loads WHERE status = 'loaded' AND delivery_date <= {sql_literal(as_of)}
        """
    ).fetchone()[0]


def _inputs_key(loads: str, params: dict, code: str) -> str:
    """What a day's marts are a function of: the loads delivered up to it (`_loads_up_to`),
    the scoring parameters and the mart code."""
    text = "|".join([loads, json.dumps(params, sort_keys=True), code])
    return hashlib.sha256(text.encode()).hexdigest()


# The latest-only marts with one request's rows apart from every other's (under scoring that
# does not normalise per ministry): after a delivery touching few requests, their rows are
# patched rather than the tables rebuilt (`_patchable`).
PATCHED_MARTS = ("submissions", "score_breakdown")
# The latest-only marts of the countries that have a score alone, with their ranks (each
# shortlisted country's rank with one ministry's reviews left out): a patched delivery
# touching no reviewed request (new requests, edits of unreviewed ones) moves no country's
# score nor its count of reviews, so they are re-dated rather than built again (five
# rankings of 1M request scores: ~0.35 s). ranking_variants lists every country, a new one
# too: built again.
UNMOVED_MARTS = ("rank_stability",)
# Patching stops, and the tables are rebuilt (and published) whole and in order, once the
# requests patched since they last were would pass this share of the requests: patched rows
# follow the others, so a BI filter on a request reads them too. 0 turns patching off.
PATCH_SHARE = float(os.environ.get("KCITY_PATCH_SHARE", "0.05"))
# The rows of the requests `_patchable` found touched (its temp table).
TOUCHED = "submission_id IN (SELECT submission_id FROM temp.touched)"


def _patchable(
    con: duckdb.DuckDBPyConnection,
    path: Internal,
    before: tuple[str | None, str | None, int],
    now: tuple[str, str],
    params: dict,
    code: str,
) -> int | None:
    """Whether tables holding a day's per-request marts (`before`: the inputs key and loads
    they were built from, and the requests patched into them since they were built whole)
    can be brought to `now` (the newest day's key and loads) by replacing the rows of the
    requests that changed: the number of those requests, in the temp table `touched` (the
    loads since, in `touched_loads`); else
    None (rebuild or rewrite them whole).

    Exact when the marts were built with the same scoring and code, and every load they were
    built from is still loaded as it was (none replaced or removed): then a request's rows
    change only if a load since holds a row of it (a new request, version or withdrawal; a
    new or newer review; the request a waiting review was waiting for). Not with ministry
    normalisation (every review moves the ministries' statistics) nor on DuckLake (its
    files are rewritten by any UPDATE: there everything is rebuilt).
    """
    held_key, held_loads, patched = before
    key, loads = now
    if isinstance(path, Lake) or params["normalize_ministries"] or held_loads is None:
        return None
    if held_key != _inputs_key(held_loads, params, code) or key != _inputs_key(loads, params, code):
        return None
    held, current = set(filter(None, held_loads.split(","))), set(filter(None, loads.split(",")))
    if not held <= current:
        return None
    shas = ", ".join(sorted(sql_literal(entry.split("@")[0]) for entry in current - held)) or "NULL"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE touched_loads AS SELECT sha256, source FROM ops.loads WHERE sha256 IN ({shas})"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE touched AS
        SELECT DISTINCT submission_id FROM (
            SELECT submission_id FROM stg.submissions WHERE sha256 IN ({shas})
            UNION ALL
            SELECT submission_id FROM stg.feedback WHERE sha256 IN ({shas})
        )
        """
    )
    n, requests = con.execute(
        "SELECT (SELECT count(*) FROM temp.touched), (SELECT count(*) FROM hist.submissions)"
    ).fetchone()
    return n if PATCH_SHARE > 0 and patched + n <= PATCH_SHARE * requests else None


def _touched_filter(con: duckdb.DuckDBPyConnection) -> str:
    """The rows of the requests in `touched`, as a filter of the ids as literals: those reach
    the scans of the day's tables below the marts' joins and unions, where the subquery
    (`TOUCHED`) filters the marts' rows of every request (1M, 5,000 ids: 0.26 s for 0.94 s).
    A NUL character cannot be written in a literal: then the subquery."""
    ids = [r[0] for r in con.execute("SELECT submission_id FROM temp.touched ORDER BY 1").fetchall()]
    if ids and not any("\x00" in i for i in ids):
        return f"submission_id IN ({', '.join(sql_literal(i) for i in ids)})"
    return TOUCHED


def _kept_key(con: duckdb.DuckDBPyConnection, path: Internal, params: dict) -> str | None:
    """The inputs key of the newest day's layers kept in the state tables, if any (never on
    DuckLake). None, so that they are computed whole, not patched, if they hold other
    requests than `submissions` (one row per request each, one per request and ranking
    method for the other methods' scores: counts from the tables' metadata): a difference
    would be carried into every later patch."""
    if isinstance(path, Lake):
        return None
    needed = [("hist", "submissions"), *(("state", t) for t in (STATE_TABLES[1], VARIANTS_TABLE, NORM_TABLE))]
    listed = ", ".join(f"({sql_literal(schema)}, {sql_literal(table)})" for schema, table in needed)
    found = con.execute(
        f"SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        f"AND (schema_name, table_name) IN ({listed})"
    ).fetchone()[0]
    if found < len(needed):  # none kept yet, or a first build stopped before its latest-only marts
        return None
    methods = sum(m != (params["trim_reviews"], params["normalize_ministries"]) for m in RANKING_METHODS)
    return con.execute(
        f"SELECT max(inputs) FROM state.day_layers "
        f"WHERE (SELECT count(*) FROM hist.submissions) = (SELECT count(*) FROM state.{STATE_TABLES[1]}) "
        f"AND (SELECT count(*) FROM state.{VARIANTS_TABLE}) = {methods} * (SELECT count(*) FROM hist.submissions)"
    ).fetchone()[0]


# Re-dated by writing the column anew even when rows are appended after (`_redate`): its 8M
# ratings at 1M requests take 0.13-0.16 s to UPDATE, where the ALTER and the checkpoint after
# the append cost about as much (0.11-0.14 s) in the warehouse and in the published copy.
REDATED_BY_COLUMN_WHEN_APPENDED = {"score_breakdown"}


def _redate(con: duckdb.DuckDBPyConnection, table: str, day: str, appended: bool = False) -> None:
    """Every row of `table` under the date `day` (a DATE literal), in its place. Writing the
    column anew (ALTER ... USING a constant: one constant segment per row group) rather than
    updating each row: for the 8M ratings of score_breakdown at 1M requests 0.04 s, where an
    UPDATE took 0.06-0.17 s and its commit up to 0.3 s more (the changed rows logged). Column
    order, descriptions and row order stay; in a transaction it rolls back like an UPDATE.
    Call it before any other change to the table in the same transaction: DuckDB refuses to
    commit an ALTER that follows a DELETE of the table's rows. Not on DuckLake, where a type
    change must be a promotion (nothing calls it there).

    With `appended` (rows are appended to the table before the next checkpoint: a patched
    night), by UPDATE (but `REDATED_BY_COLUMN_WHEN_APPENDED`): after the ALTER, the append
    made the checkpoint write much of the table again. submissions at 1M requests (a
    thousand rows replaced): ALTER 0.01 s, then 0.18-0.22 s at the warehouse's close and
    0.14-0.17 s at the published copy's checkpoint; UPDATE 0.03 s, then 0.03 and 0.02 s.
    The published reviews_waiting (30k rows): 0.04 -> 0.02 s."""
    if _by_update(table, appended):
        con.execute(f"UPDATE {table} SET as_of = {day}")
    else:
        con.execute(f"ALTER TABLE {table} ALTER as_of SET DATA TYPE DATE USING ({day})")


def _by_update(table: str, appended: bool) -> bool:
    """Whether `_redate` updates the rows of `table` rather than writing its column anew."""
    return appended and table.rpartition(".")[2] not in REDATED_BY_COLUMN_WHEN_APPENDED


def _redate_patched(con: duckdb.DuckDBPyConnection, tables: dict[str, bool], day: str) -> None:
    """`_redate` each of `tables` (name -> appended), those whose column is written anew
    first: after an UPDATE in the same transaction, the ALTER of score_breakdown's 8M rows
    took 0.16-0.20 s in the build at 1M requests, not 0.04 s, and its commit 0.11 s more."""
    for table in sorted(tables, key=lambda t: _by_update(t, tables[t])):
        _redate(con, table, day, tables[table])


def _patch_latest(con: duckdb.DuckDBPyConnection, as_of: dt.date, params: dict, listed: str) -> None:
    """Bring the per-request latest-only marts to `as_of` (its layers materialised): the rows
    of the requests in `touched` (`listed`: `_touched_filter`) replaced, every other row
    re-dated. The new rows are appended, in the order the marts are built in."""
    values = {"as_of": as_of, **params, "exclude_ministry": None}
    _redate_patched(con, {f"hist.{mart}": True for mart in PATCHED_MARTS}, sql_literal(as_of))
    for mart in PATCHED_MARTS:
        text, _ = select_sql(f"marts/{mart}", values)
        con.execute(f"DELETE FROM hist.{mart} WHERE {TOUCHED}")
        with insertion_order(con):
            con.execute(
                f"INSERT INTO hist.{mart} BY NAME SELECT * FROM (\n{inline(text, values)}\n) WHERE {listed}"
            )


def _build_marts(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    params: dict,
    marts: list[str],
    replace: bool = False,
) -> None:
    """Compute `marts` for one day into hist.*, from the day's layers (`_materialize_day`
    first): their rows of that day replaced, or, with `replace` (the latest-only marts), each
    table replaced by that day's rows, one transaction per mart. At 2M requests, deleting the
    old rows and inserting the new in one transaction did not fit a 500 MB limit (the deleted
    rows stay pinned until commit); a new table does (score_breakdown: 16M rows in ~16 s)."""
    values = {"as_of": as_of, **params, "exclude_ministry": None}
    # Only for the per-ministry marts: the distinct ministries of 3M reviews took 0.25 s, and
    # every day a backfill or a nightly builds asked for them.
    ministries = (
        [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT ministry_key FROM reviews_as_of({sql_literal(as_of)}) ORDER BY 1"
            ).fetchall()
        ]
        if PER_MINISTRY_MARTS.intersection(marts)
        else []
    )
    for mart in marts:
        text, used = select_sql(f"marts/{mart}", values)
        queries = [
            inline(text, {**values, "exclude_ministry": ministry})
            for ministry in (ministries if mart in PER_MINISTRY_MARTS else [None])
        ]
        with insertion_order(con) if mart in BUILT_IN_ORDER else contextlib.nullcontext():
            if replace:
                con.execute("BEGIN TRANSACTION")
                con.execute(f"DROP TABLE IF EXISTS hist.{mart}")
                # No ministry reviewed yet: the per-ministry mart's table, empty.
                first = queries.pop(0) if queries else f"SELECT * FROM ({inline(text, values)}) LIMIT 0"
                con.execute(f"CREATE TABLE hist.{mart} AS {first}")
            else:
                _ensure_history_table(con, mart, text, used)
                con.execute(f"DELETE FROM hist.{mart} WHERE as_of = ?", [as_of])
            for sql in queries:
                con.execute(f"INSERT INTO hist.{mart} BY NAME {sql}")
        if replace:
            con.execute("COMMIT")
            crash_point("build-latest-mart-committed")


def build_snapshots(path: Internal, dates: list[dt.date], params: dict, latest: bool = True) -> list[dt.date]:
    """Bring the snapshot of each date up to date; return the dates built.

    A day whose inputs did not change since it was built is left alone; a day with the same
    inputs as the day before (nothing delivered in between) copies that day's rows. The daily
    marts of every date and each day's ops.snapshots row are one transaction. The latest-only
    marts (their tables hold one day) are then rebuilt for the last date when it is the newest
    snapshot (and `latest` is true: a backfill builds them once, after its last day), one
    transaction each, and the day is marked `with_latest` last: a run stopped in between
    leaves no day marked, and the next run builds them again. When the day they hold has the
    same inputs key as the newest (nothing delivered since, same scoring and code: the same
    rows but for `as_of`), they are re-dated instead, in the same transaction as the days
    (in the embedded file; on DuckLake they are rebuilt). When only loads were added since
    the day they hold, touching few requests (`_patchable`), the per-request ones
    (`PATCHED_MARTS`) are patched in that transaction instead: those requests' rows replaced,
    the others re-dated; the rankings are rebuilt as usual, but for those of the scored
    countries alone (`UNMOVED_MARTS`), re-dated when no touched request has a review. The
    newest day's layers are kept (`STATE_TABLES`, `LOO_TABLE`; not on DuckLake), and patched
    the same way when they are of the day the latest-only marts hold (`_kept_key`).
    Statements take literals, not parameters (see `sql_literal`): a night with nothing
    delivered runs this too.
    """
    code = _code_version()
    built: list[dt.date] = []
    with connect(path) as con:
        con.execute("BEGIN TRANSACTION")
        existing = {
            r[0]: (r[1], r[2])
            for r in con.execute("SELECT as_of, inputs, with_latest FROM ops.snapshots").fetchall()
        }
        newest = max(dates)
        latest_day = newest if latest and (not existing or newest >= max(existing)) else None
        # The inputs key and loads the latest-only marts were built for (the day they hold),
        # and the requests patched into them since, if any.
        held = con.execute(
            "SELECT inputs, loads, coalesce(patched, 0) FROM ops.snapshots WHERE with_latest"
        ).fetchone() or (None, None, 0)
        held_key = held[0]
        state_key = _kept_key(con, path, params)
        # The day before the first date, if built: a backfill builds one day per call.
        before = [d for d in existing if d < min(dates)]
        previous = (max(before), existing[max(before)][0]) if before else None
        day_ready = None  # the day whose layers are in the temp tables
        redate = False
        patched = None  # requests whose rows the latest-only marts had replaced, if patched
        listed = None  # their rows, as a filter (`_touched_filter`)
        # Whether the newest day's layers were patched with no touched request reviewed.
        unreviewed = False

        def layers(as_of: dt.date, key: str) -> None:
            """The day's layers; the newest day's kept (on DuckLake: not), and patched when
            the latest-only marts are and the kept layers are of the day they hold."""
            nonlocal unreviewed
            keep = key if as_of == latest_day and not isinstance(path, Lake) else None
            patch = listed if keep and patched is not None and state_key == held_key else None
            reviewed = _materialize_day(con, as_of, params, keep=keep, patch=patch)
            unreviewed = patch is not None and not reviewed

        for as_of in sorted(dates):
            loads = _loads_up_to(con, as_of)
            key = _inputs_key(loads, params, code)
            with_latest = as_of == latest_day
            # On DuckLake an UPDATE rewrites the tables' Parquet files: the 1M next day took
            # 12.5 s and peaked at 1.2 GiB (make bench-ducklake). There they are rebuilt.
            redate = with_latest and key == held_key and not isinstance(path, Lake)
            if with_latest and not redate:
                patched = _patchable(con, path, held, (key, loads), params, code)
                listed = _touched_filter(con) if patched is not None else None
            have_key, have_latest = existing.get(as_of, (None, False))
            daily = [m for m in MARTS if m not in LATEST_ONLY]
            day = sql_literal(as_of)
            if have_key == key:  # inputs unchanged since it was built
                previous = (as_of, key)
                if have_latest or not with_latest:
                    continue
            elif previous and previous[1] == key:  # nothing delivered since the day before
                for mart in daily:
                    con.execute(f"DELETE FROM hist.{mart} WHERE as_of = {day}")
                    con.execute(
                        f"INSERT INTO hist.{mart} SELECT * REPLACE ({day} AS as_of) "
                        f"FROM hist.{mart} WHERE as_of = {sql_literal(previous[0])}"
                    )
            else:
                layers(as_of, key)
                day_ready = as_of
                _build_marts(con, as_of, params, daily)
            con.execute(f"DELETE FROM ops.snapshots WHERE as_of = {day}")
            row = ", ".join(sql_literal(v) for v in (json.dumps(params, sort_keys=True), key, loads))
            con.execute(
                f"INSERT INTO ops.snapshots (as_of, built_at, parameters, inputs, loads, with_latest) "
                f"VALUES ({day}, now()::TIMESTAMP, {row}, false)"
            )
            built.append(as_of)
            previous = (as_of, key)
            crash_point("build-day-inserted")
        if latest_day in built:  # their tables are about to be replaced
            con.execute("UPDATE ops.snapshots SET with_latest = false")
            day = sql_literal(latest_day)
            if redate:  # the rows they hold, under the newest date (8M ratings at 1M: 0.04 s)
                for mart in sorted(LATEST_ONLY):
                    _redate(con, f"hist.{mart}", day)
                con.execute(
                    f"UPDATE ops.snapshots SET with_latest = true, patched = {held[2]} WHERE as_of = {day}"
                )
            else:
                if day_ready != latest_day:  # copied from the day before, or built without them
                    layers(latest_day, previous[1])
                if patched is not None:  # the requests a delivery touched, not every request
                    _patch_latest(con, latest_day, params, listed)
                    if unreviewed:  # no country's score or reviews moved: the same ranks
                        for mart in UNMOVED_MARTS:
                            _redate(con, f"hist.{mart}", day)
                    con.execute(f"UPDATE ops.snapshots SET patched = {held[2] + patched} WHERE as_of = {day}")
        con.execute("COMMIT")
        crash_point("build-committed")
        if latest_day in built and not redate:
            kept = (*PATCHED_MARTS, *(UNMOVED_MARTS if unreviewed else ())) if patched is not None else ()
            rebuilt = [m for m in MARTS if m in LATEST_ONLY and m not in kept]
            _build_marts(con, latest_day, params, rebuilt, replace=True)
            whole = "" if patched is not None else ", patched = 0"  # built whole: in order again
            con.execute(
                f"UPDATE ops.snapshots SET with_latest = true{whole} WHERE as_of = {sql_literal(latest_day)}"
            )
        _drop_day(con)
        con.execute("DROP TABLE IF EXISTS temp.touched")
        con.execute("DROP TABLE IF EXISTS temp.touched_loads")
    crash_point("build-latest-committed")
    return built


def build_snapshot(path: Internal, as_of: dt.date, params: dict) -> None:
    """Rebuild every mart for one as_of."""
    build_snapshots(path, [as_of], params)


def _comment_marts(con: duckdb.DuckDBPyConnection, only: tuple[str, ...] | None = None) -> None:
    """COMMENT ON every published table and column (or those of the tables `only`), from
    warehouse/catalog.csv (for BI catalogs)."""
    with Path(__file__).with_name("catalog.csv").open(encoding="utf-8", newline="") as f:
        catalog = list(csv.DictReader(f))
    tables = {r["table"]: r["description"] for r in catalog if r["table"] != "*" and not r["column"]}
    columns = {r["column"]: r["description"] for r in catalog if r["table"] == "*"}
    specific = {
        (r["table"], r["column"]): r["description"] for r in catalog if r["table"] != "*" and r["column"]
    }
    published = [
        (t, c)
        for t, c in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = 'pub' AND schema_name = 'marts'"
        ).fetchall()
        if only is None or t in only
    ]
    for table in sorted({t for t, _ in published}):
        con.execute(f"COMMENT ON TABLE pub.marts.{table} IS {_literal(tables.get(table, ''))}")
    for table, column in published:
        text = specific.get((table, column), columns.get(column, ""))
        con.execute(f'COMMENT ON COLUMN pub.marts.{table}."{column}" IS {_literal(text)}')


def _literal(text: str) -> str:
    """A SQL string literal: quotes doubled, as DuckDB writes its own (a backslash is an
    ordinary character in a standard string). A NUL character would end the literal early:
    refused rather than cut."""
    if "\x00" in text:
        raise ValueError("a NUL character cannot be written in a SQL string literal")
    return "'" + text.replace("'", "''") + "'"


# Published tables that change without the snapshot changing (a run, a rejected file, a file
# removed from the inbox): a light publish replaces just these.
RUN_TABLES = ("load_report", "run_ledger")
# The published tables of warehouse/sql/published, and those patched with the marts
# (`_patch_published`).
PUBLISHED_TABLES = ("load_report", "quarantine", "reviews_waiting", "run_ledger")
PATCHED_TABLES = ("reviews_waiting",)


def publish(internal: Internal, published: Path) -> dt.date | None:
    """Write the marts of the latest snapshot and their history to a new file; swap it in.

    When the latest snapshot is the one already published, the new file is a copy of the
    published one with only the run tables replaced (seconds saved per run at scale). When
    it has the same inputs key as the one published (a later day, nothing delivered since),
    the copy's snapshot tables are re-dated to it and the history and run tables replaced:
    the same rows as a full publish, without copying millions of rows again. When it was
    built from the published one's loads plus new ones touching few requests, the copy's
    per-request tables and its waiting reviews have those requests' rows replaced (appended
    after the others, in their order) and every other table is replaced. Patched rows accumulate until a full
    publish (`PATCH_SHARE`), which writes every table in order again.
    """
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = published.with_name(f".{published.name}.tmp-{os.getpid()}")
    # Leftovers of a run killed while publishing (we hold the writer lock: none is in use).
    for stale in published.parent.glob(f".{published.name}.tmp-*"):
        stale.unlink(missing_ok=True)
    with connect(internal) as con:
        latest, built_at, inputs, parameters, loads, latest_patched = con.execute(
            "SELECT as_of, built_at, inputs, parameters, loads, coalesce(patched, 0) "
            "FROM ops.snapshots ORDER BY as_of DESC LIMIT 1"
        ).fetchone() or (None, None, None, None, None, 0)
        # The snapshot last published here, its inputs key and loads while that build still
        # stands, the file as that publish left it and the requests patched into it since it
        # was written whole.
        last = con.execute(
            "SELECT p.as_of, p.built_at, s.inputs, p.file_stamp, s.loads, coalesce(p.patched, 0) "
            "FROM ops.publications AS p "
            "LEFT JOIN ops.snapshots AS s ON s.as_of = p.as_of AND s.built_at = p.built_at "
            f"WHERE p.path = {sql_literal(str(published))} ORDER BY p.published_at DESC LIMIT 1"
        ).fetchone()
        # A copy only of the file the last publish wrote: one written to since (opened
        # read-write and changed, or replaced by another) is written in full.
        untouched = published.exists() and last is not None and last[3] == file_stamp(published)
        light = untouched and last[:2] == (latest, built_at)
        redated = untouched and not light and last[2] is not None and last[2] == inputs
        # Deliveries since that snapshot touching few requests: their rows replaced in a copy.
        patch = None
        appended = False  # the quarantine's new rows appended to the copy's
        if untouched and not (light or redated) and last[2] is not None:
            before = (last[2], last[4], last[5])
            patch = _patchable(
                con, internal, before, (inputs, loads), json.loads(parameters), _code_version()
            )
        if light or redated or patch is not None:
            shutil.copyfile(published, tmp)
        # ATTACH takes no parameters; the path comes from settings, never from input files.
        quoted = str(tmp).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS pub (STORAGE_VERSION '{PUBLISH_STORAGE_VERSION}')")
        try:
            if redated:  # the same rows under the new date
                for name in (*MARTS, "reviews_waiting"):
                    _redate(con, f"pub.marts.{name}", sql_literal(latest))
            elif patch is not None:
                listed = _touched_filter(con)
                _patch_published(con, latest, listed, _any_reviews(con, listed, inputs))
                appended = _append_quarantine(con, last[4])
            elif not light:
                con.execute("CREATE SCHEMA pub.marts")
                for mart in MARTS:
                    # Built in order unless rows were patched into it since it was built whole.
                    ordered = mart in BUILT_IN_ORDER and not isinstance(internal, Lake) and not latest_patched
                    with insertion_order(con) if ordered else contextlib.nullcontext():
                        con.execute(
                            f"CREATE TABLE pub.marts.{mart} AS SELECT * FROM hist.{mart} WHERE as_of = ?"
                            + ("" if ordered else f" ORDER BY {PUBLISH_ORDER.get(mart, 'ALL')}"),
                            [latest],
                        )
            if not light:  # every snapshot built: a re-dated copy gains the day
                con.execute(
                    "CREATE OR REPLACE TABLE pub.marts.country_summary_history AS "
                    "SELECT * FROM hist.country_summary ORDER BY as_of, rank NULLS LAST, country_iso3"
                )
            for name in PUBLISHED_TABLES:
                if (
                    ((light or redated) and name not in RUN_TABLES)
                    or (patch is not None and name in PATCHED_TABLES)
                    or (appended and name == "quarantine")
                ):
                    continue
                text, used = select_sql(f"published/{name}", {"as_of": latest})
                con.execute(f"CREATE OR REPLACE TABLE pub.marts.{name} AS {text}", used)
            crash_point("publish-tables-written")
            # A table replaced here lost its descriptions; one updated in place (a light,
            # re-dated or patched copy) keeps its own (every table again: 0.07 s at 1M).
            replaced = None
            if light:
                replaced = RUN_TABLES
            elif redated:
                replaced = (*RUN_TABLES, "country_summary_history")
            elif patch is not None:
                kept = (*PATCHED_MARTS, *PATCHED_TABLES, *(("quarantine",) if appended else ()))
                replaced = tuple(
                    t for t in (*MARTS, "country_summary_history", *PUBLISHED_TABLES) if t not in kept
                )
            _comment_marts(con, replaced)
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
        # Recorded only once the file is in place (on the same connection: an open of the 1M
        # warehouse is 12-25 ms): a crash before this means a full publish next time.
        patched = last[5] + patch if patch is not None else last[5] if light or redated else 0
        values = ", ".join(sql_literal(v) for v in (str(published), latest, built_at))
        stamp = sql_literal(file_stamp(published))
        con.execute(
            "INSERT INTO ops.publications (path, as_of, built_at, published_at, file_stamp, patched) "
            f"VALUES ({values}, now()::TIMESTAMP, {stamp}, {patched})"
        )
    return latest


def _any_reviews(con: duckdb.DuckDBPyConnection, listed: str, inputs: str) -> bool:
    """Whether a request `listed` (`_touched_filter`) may have a review, waiting or not: false
    only when the kept layers are of the snapshot with key `inputs` and its day's reviews
    (every latest valid review as of the day, `state.day_reviews`, sorted by request: a
    lookup of a few ids reads few row groups) hold none of theirs. Then none of them has a
    staged review delivered by that day."""
    kept = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        f"AND schema_name = 'state' AND table_name IN ('day_layers', {sql_literal(STATE_TABLES[0])})"
    ).fetchone()[0]
    if kept < 2 or con.execute("SELECT max(inputs) FROM state.day_layers").fetchone()[0] != inputs:
        return True
    return con.execute(f"SELECT count(*) > 0 FROM state.{STATE_TABLES[0]} WHERE {listed}").fetchone()[0]


def _append_quarantine(con: duckdb.DuckDBPyConnection, held: str) -> bool:
    """In a patched copy of the published file (`_patchable`'s temp tables made): the
    quarantine rows of the loads since the copy's snapshot (`held`: the loads it was built
    from) appended to the copy's, when that gives the table the published order: every
    other load is one the snapshot was built from (its rows as the copy has them) and the
    new rows sort after every other (a later delivery of forms, as most nights bring: 52k
    rows at 1M, 0.08 s to write whole). Returns whether it did; if not, the table is to be
    written whole."""
    shas = ", ".join(sorted(sql_literal(e.split("@")[0]) for e in held.split(",") if e)) or "NULL"
    new = "sha256 IN (SELECT sha256 FROM temp.touched_loads)"
    others = con.execute(
        f"SELECT (SELECT count(*) FROM ops.loads WHERE sha256 IN (SELECT sha256 FROM ops.quarantine) "
        f"AND sha256 NOT IN ({shas}) AND NOT {new}) + (SELECT count(*) FROM "
        f"(SELECT DISTINCT sha256 FROM pub.marts.quarantine) WHERE sha256 NOT IN ({shas}) AND NOT {new})"
    ).fetchone()[0]
    if others:
        return False
    con.execute(f"DELETE FROM pub.marts.quarantine WHERE {new}")
    key = "source, delivery_date, file_name"
    first = con.execute(
        f"SELECT {key} FROM ops.loads WHERE {new} AND sha256 IN (SELECT sha256 FROM ops.quarantine) "
        f"ORDER BY {key} LIMIT 1"
    ).fetchone()
    if first is None:  # no new quarantined row
        return True
    last = con.execute(
        f"SELECT {key} FROM pub.marts.quarantine WHERE NOT {new} "
        "ORDER BY source DESC, delivery_date DESC, file_name DESC LIMIT 1"
    ).fetchone()
    if last is not None and not last < first:  # the new rows would not follow the others
        return False
    text, used = select_sql("published/quarantine", {})
    with insertion_order(con):
        con.execute(
            f"INSERT INTO pub.marts.quarantine BY NAME SELECT * FROM (\n{inline(text, used)}\n) WHERE {new} "
            "ORDER BY source, delivery_date, file_name, row_number, column_name, rule"
        )
    return True


def _patch_published(
    con: duckdb.DuckDBPyConnection, latest: dt.date, listed: str, reviewed: bool = True
) -> None:
    """In the copy of the published file (attached as pub): the rows of the requests in
    `touched` replaced from the latest snapshot in the per-request marts, appended in their
    published order, every other row re-dated; the small marts replaced whole. The reviews
    waiting for their request the same way (`listed`: `_touched_filter`): a review starts or
    stops waiting, or gets a newer version, only with a load holding a row of its request;
    only re-dated when none of those requests has a review (`reviewed` false, `_any_reviews`:
    the lookup in 3M staged reviews at 1M requests is 0.1 s)."""
    day = sql_literal(latest)
    touched = TOUCHED
    _redate_patched(
        con,
        {f"pub.marts.{mart}": True for mart in PATCHED_MARTS} | {"pub.marts.reviews_waiting": reviewed},
        day,
    )
    for mart in MARTS:
        if mart in PATCHED_MARTS:
            con.execute(f"DELETE FROM pub.marts.{mart} WHERE {touched}")
            with insertion_order(con):
                con.execute(
                    f"INSERT INTO pub.marts.{mart} BY NAME SELECT * FROM hist.{mart} "
                    f"WHERE as_of = {day} AND {touched} ORDER BY {PUBLISH_ORDER[mart]}"
                )
        else:
            con.execute(
                f"CREATE OR REPLACE TABLE pub.marts.{mart} AS SELECT * FROM hist.{mart} "
                f"WHERE as_of = {day} ORDER BY {PUBLISH_ORDER.get(mart, 'ALL')}"
            )
    if not reviewed:
        return
    # Looked up by literal ids: they reach the scan of the staged feedback (1M requests,
    # ~1,000 touched: 0.26 s for the table whole, 0.10 s patched; by the subquery 0.21 s).
    text, used = select_sql("published/reviews_waiting", {"as_of": latest})
    con.execute(f"DELETE FROM pub.marts.reviews_waiting WHERE {touched}")
    with insertion_order(con):
        con.execute(
            f"INSERT INTO pub.marts.reviews_waiting BY NAME SELECT * FROM (\n{inline(text, used)}\n) WHERE {listed}"
        )


@contextlib.contextmanager
def snapshot_reader(
    path: Internal, as_of: dt.date
) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, str]] | None]:
    """Every mart of one built snapshot, plus the load report and quarantine locations, as a
    connection and the SELECT that reads each table (in a stable order), for streaming:
    at a million requests the score breakdown is 8M rows. None when the day is not built.

    For an older day its latest-only marts are computed inside a transaction that is rolled
    back when the block ends, so read them inside it."""
    with connect(path) as con:
        day = sql_literal(as_of)
        found = con.execute(
            f"SELECT parameters, with_latest FROM ops.snapshots WHERE as_of = {day}"
        ).fetchone()
        if found is None:
            yield None
            return
        params, with_latest = json.loads(found[0]), found[1]
        queries = {
            mart: f"SELECT * FROM hist.{mart} WHERE as_of = {day} ORDER BY {PUBLISH_ORDER.get(mart, 'ALL')}"
            for mart in MARTS
        }
        for name in ("load_report", "quarantine"):
            queries[name] = inline(select_sql(f"published/{name}", {})[0], {"as_of": as_of})
        if with_latest:
            yield con, queries
            return
        # An older day: compute its latest-only marts now, then discard them (and the day's
        # temp tables) with the transaction.
        con.execute("BEGIN TRANSACTION")
        try:
            _materialize_day(con, as_of, params)
            _build_marts(con, as_of, params, sorted(LATEST_ONLY))
            yield con, queries
        finally:
            con.execute("ROLLBACK")


def snapshot_tables(path: Internal, as_of: dt.date) -> dict[str, pd.DataFrame] | None:
    """`snapshot_reader`'s tables as data frames (small warehouses: tests)."""
    with snapshot_reader(path, as_of) as read:
        if read is None:
            return None
        con, queries = read
        return {name: con.execute(sql).df() for name, sql in queries.items()}


def record_run_day(path: Internal, row: dict) -> None:
    """Insert or replace one (as_of, flow_run_id) row of ops.run_ledger."""
    # Literals, not bound parameters: see `sql_literal`.
    columns = ", ".join(f"{sql_literal(value)} AS {name}" for name, value in row.items())
    with connect(path) as con:
        con.execute("BEGIN TRANSACTION")
        con.execute(
            inline(
                "DELETE FROM ops.run_ledger WHERE as_of = $as_of AND flow_run_id = $flow_run_id",
                row,
            )
        )
        con.execute(f"INSERT INTO ops.run_ledger BY NAME SELECT {columns}")
        con.execute("COMMIT")


# Checks over the ledgers a run writes without loading or building anything (the run ledger,
# the inbox record): they run every time.
ALWAYS_CHECKED = {"keys_unique"}
# The schemas whose tables the other checks read, besides ops.loads and ops.snapshots.
_CHECKED_SCHEMAS = ("raw", "stg", "hist")


def checks_state(con: duckdb.DuckDBPyConnection, checks: list[Path]) -> str:
    """What the data checks are a function of, as far as the pipeline writes it: every row of
    the load and snapshot ledgers (a load, a backfill, a rebuilt day changes them), the row
    count of every raw, staged, quarantine and mart table, and the checks' own SQL."""
    digest = hashlib.sha256()
    for check in checks:
        digest.update(check.name.encode() + check.read_bytes())
    for table in ("ops.loads", "ops.snapshots"):
        rows, n = con.execute(f"SELECT sum(hash(t)::HUGEINT), count(*) FROM {table} AS t").fetchone()
        digest.update(f"{table}={rows}:{n}\n".encode())
    sizes = con.execute(
        f"""
        SELECT schema_name, table_name, estimated_size FROM duckdb_tables()
        WHERE database_name = current_database() AND NOT temporary
          AND (schema_name IN {_CHECKED_SCHEMAS} OR (schema_name = 'ops' AND table_name = 'quarantine'))
        ORDER BY ALL
        """
    ).fetchall()
    digest.update(repr(sizes).encode())
    return digest.hexdigest()


def failed_checks(path: Internal, skip_unchanged: bool = False) -> dict[str, int] | None:
    """Run warehouse/checks/*.sql (each must return no rows); name -> offending row count.

    With `skip_unchanged`, the checks that scan the data are skipped when the warehouse is
    as it was when they last all passed (`checks_state`), and None is returned: at a million
    requests they are the largest part of a run with nothing new, and they would read the
    same rows again. The ledger checks (ALWAYS_CHECKED) always run. A run that passes them
    all records the state it passed on."""
    checks = sorted((SQL.parent / "checks").glob("*.sql"))
    data_checks = [c for c in checks if c.stem not in ALWAYS_CHECKED]
    failures = {}
    with connect(path) as con:
        state = checks_state(con, data_checks)
        passed = con.execute("SELECT state FROM ops.checks_passed").fetchall()
        skip = skip_unchanged and passed == [(state,)]
        for check in checks:
            if skip and check in data_checks:
                continue
            rows = con.execute(check.read_text(encoding="utf-8")).fetchall()
            if rows:
                failures[check.stem] = len(rows)
        if not failures and not skip:
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM ops.checks_passed")
            con.execute(f"INSERT INTO ops.checks_passed VALUES ({sql_literal(state)}, now()::TIMESTAMP)")
            con.execute("COMMIT")
    return None if skip and not failures else failures
