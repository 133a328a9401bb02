"""The snapshot and the publish, statement by statement: `make bench-steps [SIZE=...]`.

Copies a warehouse a bench run built (default: the `full` run's, bench/work/<size>/run),
rebuilds its newest snapshot and publishes it with the current code, in this process, and
prints every DuckDB statement that took at least `--min` seconds. Then it compares each
mart of the rebuild with the copy's source, row for row: a change meant to make the marts
faster must leave them as they were (a difference is listed and fails the command).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from bench.run import ROOT
from warehouse import db


class _Timed:
    """A DuckDB connection whose `execute` records (seconds, the statement on one line)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, steps: list[tuple[float, str]]):
        self._con, self._steps = con, steps

    def execute(self, sql: str, *args):
        start = time.perf_counter()
        result = self._con.execute(sql, *args)
        self._steps.append((time.perf_counter() - start, " ".join(sql.split())))
        return result

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def _label(sql: str) -> str:
    """The statement up to a mart's own comment (its SQL text follows), cut to one line."""
    head = sql.split(" -- ")[0]
    return (head if head == sql else f"{head} ...")[:110]


def differences(built: Path, source: Path, as_of) -> dict[str, tuple[int, int]]:
    """Mart -> (rows only in `built`, rows only in `source`) for the marts of `as_of` that differ."""
    out = {}
    con = duckdb.connect(str(built), config={"memory_limit": "2GB", "preserve_insertion_order": False})
    try:
        quoted = str(source).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS src (READ_ONLY)")
        for mart in db.MARTS:
            sides = [
                con.execute(
                    f"SELECT count(*) FROM (SELECT * FROM {a}.{mart} WHERE as_of = $d "
                    f"EXCEPT ALL SELECT * FROM {b}.{mart} WHERE as_of = $d)",
                    {"d": as_of},
                ).fetchone()[0]
                for a, b in (("hist", "src.hist"), ("src.hist", "hist"))
            ]
            if any(sides):
                out[mart] = tuple(sides)
    finally:
        con.close()
    return out


def run(source: Path, min_seconds: float) -> int:
    steps: list[tuple[float, str]] = []
    connect = db.connect

    @contextlib.contextmanager
    def timed_connect(path, read_only: bool = False) -> Iterator[_Timed]:
        with connect(path, read_only) as con:
            yield _Timed(con, steps)

    with tempfile.TemporaryDirectory(prefix="kcity-steps-") as tmp:
        copy = Path(tmp) / "warehouse.duckdb"
        shutil.copyfile(source, copy)
        db.init_warehouse(copy)  # the current code's macros
        with connect(copy) as con:
            row = con.execute(
                "SELECT as_of, parameters FROM ops.snapshots ORDER BY as_of DESC LIMIT 1"
            ).fetchone()
            if row is None:
                print(f"{source} has no snapshot to rebuild", file=sys.stderr)
                return 2
            as_of, params = row[0], json.loads(row[1])
            con.execute("DELETE FROM ops.snapshots WHERE as_of = ?", [as_of])
        db.connect = timed_connect
        try:
            for name, step in (
                ("snapshot", lambda: db.build_snapshots(copy, [as_of], params)),
                ("publish", lambda: db.publish(copy, Path(tmp) / "kcity.duckdb")),
            ):
                steps.clear()
                start = time.perf_counter()
                step()
                print(f"{name} as of {as_of}: {time.perf_counter() - start:.2f} s")
                for seconds, sql in steps:
                    if seconds >= min_seconds:
                        print(f"  {seconds:7.2f}  {_label(sql)}")
        finally:
            db.connect = connect
        differ = differences(copy, source, as_of)
    for mart, (only_new, only_old) in differ.items():
        print(f"DIFFERENT {mart}: {only_new} row(s) only in the rebuild, {only_old} only in {source}")
    if not differ:
        print(f"Every mart as of {as_of} is the same as in {source}.")
    return 1 if differ else 0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="default", help="the bench size whose full run to copy")
    p.add_argument("--warehouse", type=Path, help="an internal warehouse file (instead of --size's)")
    p.add_argument("--min", type=float, default=0.3, help="print statements of at least this many seconds")
    args = p.parse_args()
    source = args.warehouse or ROOT / "bench" / "work" / args.size / "run" / "internal" / "warehouse.duckdb"
    if not source.exists():
        sys.exit(f"No warehouse at {source}: run `make bench SIZE={args.size} CASES=full` first.")
    sys.exit(run(source, args.min))


if __name__ == "__main__":
    main()
