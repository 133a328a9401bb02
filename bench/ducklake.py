"""The two warehouse backends side by side: `make bench-ducklake [SIZE=small|default]`.

Runs `kcity nightly` over the benchmark's generated inbox (bench/generate.py, the same as
`make bench`) on a fresh embedded warehouse and on a fresh DuckLake (catalog in a
PostgreSQL started here with scripts/pg.sh, data under the work folder), then a nightly
with nothing new on each, and one on each later day with nothing delivered (re-dated). Both published files must reconcile with the generator's
manifest. Prints one table; speed is reported, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.run import (
    KCITY,
    NEXT_DAY,
    ROOT,
    SIZES,
    Bench,
    BenchError,
    Server,
    case_env,
    free_port,
    generate_apart,
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", choices=sorted(SIZES), default="default")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--work", type=Path, default=ROOT / "bench" / "work")
    args = p.parse_args()
    work = args.work / args.size
    work.mkdir(parents=True, exist_ok=True)
    bench = Bench(work, args.size, args.runs, args.runs)
    (work / "bench.log").write_text("")

    base = work / "data-1x"
    manifest_path = base / "manifest.json"
    rows = SIZES[args.size]["rows"]
    if manifest_path.exists() and json.loads(manifest_path.read_text())["rows"] == rows:
        manifest = json.loads(manifest_path.read_text())
    else:
        shutil.rmtree(base, ignore_errors=True)
        manifest = generate_apart(base, rows, SIZES[args.size]["xlsx_rows"])
    last = manifest["last_day"]

    # PostgreSQL's files where its `postgres` user can reach them when this runs as root.
    pg_dir = Path(tempfile.mkdtemp(prefix="kcity-bench-pg-"))
    pg_port = free_port()
    pg = ["bash", str(ROOT / "scripts" / "pg.sh")]
    subprocess.run([*pg, "start", str(pg_dir), str(pg_port)], check=True)
    server = Server(work / "prefect", work / "prefect-server.log")
    try:
        env = case_env(server, work, inbox=str(base / "inbox"))
        nightly = [KCITY, "nightly", "--date", last]
        print("Measuring (median wall):", flush=True)
        for backend in ("duckdb", "ducklake"):
            data = work / f"run-{backend}"
            run_env = env | {"KCITY_DATA_DIR": str(data), "KCITY_WAREHOUSE": backend}
            catalog = f"kcity_lake_{os.getpid()}"

            def fresh(data=data, catalog=catalog, backend=backend) -> None:
                shutil.rmtree(data, ignore_errors=True)
                if backend == "ducklake":
                    for sql in (f'DROP DATABASE IF EXISTS "{catalog}"', f'CREATE DATABASE "{catalog}"'):
                        subprocess.run(
                            [
                                "psql",
                                "-q",
                                "-h",
                                "127.0.0.1",
                                "-p",
                                str(pg_port),
                                "-U",
                                "postgres",
                                "-c",
                                sql,
                            ],
                            check=True,
                        )

            if backend == "ducklake":
                run_env["KCITY_DUCKLAKE_CATALOG"] = (
                    f"dbname={catalog} host=127.0.0.1 port={pg_port} user=postgres"
                )
            bench.measure(f"full {backend}", nightly, run_env, before=fresh)
            bench.check_full(data, manifest)
            bench.measure(f"nothing new {backend}", nightly, run_env)
            bench.check_full(data, manifest)
            runs, bench.runs = bench.runs, 1
            for k in range(1, runs + 1):  # each run a later night with nothing new: each re-dates
                day = dt.date.fromisoformat(last) + dt.timedelta(days=k)
                bench.measure(f"{NEXT_DAY} {backend}", [KCITY, "nightly", "--date", str(day)], run_env)
                bench.check_full(data, manifest, as_of=day)
            bench.runs = runs
    except BenchError as e:
        print(f"BENCHMARK FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    finally:
        server.stop()
        subprocess.run([*pg, "stop", str(pg_dir)], check=False)
        shutil.rmtree(pg_dir, ignore_errors=True)

    m = bench.median
    lines = [
        f"Size {args.size}: {rows:,} submission rows + {3 * rows:,} feedback rows; {args.runs} run(s) per case.",
        "",
        "| case | embedded file (s) | DuckLake (s) | DuckLake / file | peak RSS file / DuckLake (MiB) |",
        "|---|---:|---:|---:|---|",
    ]
    for case in ("full", "nothing new", NEXT_DAY):
        f, d = m(f"{case} duckdb"), m(f"{case} ducklake")
        rss = [max(r for _, r in bench.results[f"{case} {b}"]) for b in ("duckdb", "ducklake")]
        lines.append(f"| {case} | {f:.2f} | {d:.2f} | {d / f:.2f}× | {rss[0]:,.0f} / {rss[1]:,.0f} |")
    table = "\n".join(lines)
    print()
    print(table)
    (work / "ducklake-results.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
