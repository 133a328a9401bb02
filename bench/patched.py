"""A patched night at scale, checked against a full rebuild: `make bench-patched [SIZE=...]`.

On the warehouse a full run over the generated inbox leaves (built here when missing or
built by other code), delivers one new day touching a few thousand requests: new requests,
new versions of existing ones (some withdrawn), and a ministry's new or newer reviews of
existing and of the new requests. `kcity nightly` then patches `submissions` and
`score_breakdown`, and the day's kept layers (KCITY_PATCH_SHARE permitting). The same
warehouse is then rebuilt whole in this process (patching off) and published to another
file; every mart of the day, in the warehouse and in the published file, and the kept
layers must hold the same rows (as sets: patched rows are appended). Prints the figures; a
difference fails the command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np

from bench import generate
from bench.run import ROOT, SIZES, Server, case_env
from warehouse import db

PY = sys.executable
KCITY = str(Path(PY).with_name("kcity"))


def deliver(base: Path, day: dt.date, rows: int) -> list[Path]:
    """The new day's files (under the inbox's date folders); returns the folders made."""
    inbox = base / "inbox"
    rng = np.random.default_rng(11)
    new = generate.one_day(base, day, rows=rows)  # new ids from 50,000,000
    edits, _ = generate.submissions(rng, rows // 3, 0)  # ids of the first delivery: new versions
    generate._write_csv(edits, inbox / f"submissions/{day}/edits.csv", [])
    existing = np.char.add("KCN-B-", np.arange(1000, 1000 + rows // 2).astype(str))
    fresh = np.char.add("KCN-B-", np.arange(50_000_000, 50_000_000 + rows // 4).astype(str))
    reviews, _ = generate.feedback(rng, np.concatenate([existing, fresh]), "MOFA", day)
    generate._write_csv(reviews, inbox / f"feedback/{day}/MOFA_feedback_late.csv", [])
    return [inbox / Path(new).parent, inbox / f"feedback/{day}"]


def base_warehouse(work: Path, data_set: Path, last: str, env: dict) -> Path:
    """The data folder of a full run as of `last` with the current code."""
    base = work / "patched-base"
    internal = base / "internal" / "warehouse.duckdb"
    if internal.exists():
        with duckdb.connect(str(internal), read_only=True) as con:
            code = con.execute("SELECT version FROM ops.warehouse_code").fetchall()
        if code == [(db._code_version(),)]:
            return base
    shutil.rmtree(base, ignore_errors=True)
    print(f"Full run as of {last} (the base warehouse, ~1 min at 1M) ...", flush=True)
    subprocess.run([KCITY, "nightly", "--date", last], env=env | {"KCITY_DATA_DIR": str(base)},
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    return base


def differences(a: Path, b: Path, tables: list[str], where: str) -> dict[str, tuple[int, int, int]]:
    """Table -> (rows, only in a, only in b) for the rows `where` of each table in two files."""
    con = duckdb.connect(config={"memory_limit": "2GB"})
    try:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        out = {}
        for table in tables:
            rows = con.execute(f"SELECT count(*) FROM a.{table} WHERE {where}").fetchone()[0]
            only = [
                con.execute(
                    f"SELECT count(*) FROM (SELECT * FROM {x}.{table} WHERE {where} "
                    f"EXCEPT ALL SELECT * FROM {y}.{table} WHERE {where})"
                ).fetchone()[0]
                for x, y in (("a", "b"), ("b", "a"))
            ]
            out[table.split(".")[-1]] = (rows, *only)
        return out
    finally:
        con.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", choices=sorted(SIZES), default="default")
    p.add_argument("--work", type=Path, default=ROOT / "bench" / "work")
    p.add_argument(
        "--rows", type=int, help="new form rows (and a third as many edits); default: 0.3%% of the size"
    )
    args = p.parse_args()
    work = args.work / args.size
    data_set = work / "data-1x"
    manifest = data_set / "manifest.json"
    rows = SIZES[args.size]["rows"]
    if not manifest.exists() or json.loads(manifest.read_text())["rows"] != rows:
        shutil.rmtree(data_set, ignore_errors=True)
        generate.generate(data_set, rows, xlsx_rows=SIZES[args.size]["xlsx_rows"])
    last = json.loads(manifest.read_text())["last_day"]
    new_rows = args.rows or rows * 3 // 1000
    day = dt.date.fromisoformat(last) + dt.timedelta(days=1)
    run, reference = work / "patched-run", work / "patched-reference"
    server = Server(work / "prefect", work / "prefect-server.log")
    made: list[Path] = []
    try:
        share = {"patch_share": os.environ["KCITY_PATCH_SHARE"]} if "KCITY_PATCH_SHARE" in os.environ else {}
        env = case_env(server, work, inbox=str(data_set / "inbox"), **share)
        base = base_warehouse(work, data_set, last, env)
        shutil.rmtree(run, ignore_errors=True)
        shutil.copytree(base, run)
        with db.connect(run / "internal" / "warehouse.duckdb") as con:  # published at this path
            con.execute("UPDATE ops.publications SET path = ?", [str(run / "kcity.duckdb")])
        made = deliver(data_set, day, new_rows)
        start = time.perf_counter()
        subprocess.run([KCITY, "nightly", "--date", str(day)], env=env | {"KCITY_DATA_DIR": str(run)},
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        night = time.perf_counter() - start
    finally:
        server.stop()
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)
    internal = run / "internal" / "warehouse.duckdb"
    with duckdb.connect(str(internal), read_only=True) as con:
        patched = con.execute("SELECT patched FROM ops.snapshots WHERE with_latest").fetchone()[0]
        published = con.execute("SELECT max_by(patched, published_at) FROM ops.publications").fetchone()[0]
        params = json.loads(
            con.execute("SELECT parameters FROM ops.snapshots WHERE with_latest").fetchone()[0]
        )
    print(f"kcity nightly --date {day} (patching): {night:.2f} s wall; requests patched: "
          f"{patched:,} in the warehouse, {published:,} in the published file")  # fmt: skip

    shutil.rmtree(reference, ignore_errors=True)
    shutil.copytree(run, reference)
    ref_internal = reference / "internal" / "warehouse.duckdb"
    with db.connect(ref_internal) as con:  # as if the patched marts had never been built
        con.execute("UPDATE ops.snapshots SET with_latest = false")
    db.PATCH_SHARE = 0.0
    start = time.perf_counter()
    db.build_snapshots(ref_internal, [day], params)
    built = time.perf_counter() - start
    start = time.perf_counter()
    db.publish(ref_internal, reference / "full.duckdb")
    print(
        f"The same day rebuilt whole in-process: snapshot {built:.2f} s, publish {time.perf_counter() - start:.2f} s"
    )

    bad = 0
    print(
        "\n| mart | rows | warehouse: only patched / only rebuilt | published: only patched / only rebuilt |"
    )
    print("|---|---:|---:|---:|")
    on_day = f"as_of = {db.sql_literal(day)}"
    hist = differences(internal, ref_internal, [f"hist.{m}" for m in db.MARTS], on_day)
    pub = differences(
        run / "kcity.duckdb", reference / "full.duckdb", [f"marts.{m}" for m in db.MARTS], on_day
    )
    for mart in db.MARTS:
        bad += sum(hist[mart][1:]) + sum(pub[mart][1:])
        print(
            f"| {mart} | {hist[mart][0]:,} | {hist[mart][1]} / {hist[mart][2]} | {pub[mart][1]} / {pub[mart][2]} |"
        )
    # The day's layers kept for the next night: patched in the run, computed whole in the rebuild.
    kept = [f"state.{t}" for t in db.KEPT_TABLES]
    state = differences(internal, ref_internal, kept, "true")
    for table, (rows, only_patched, only_rebuilt) in state.items():
        bad += only_patched + only_rebuilt
        print(f"| state.{table} (kept layer) | {rows:,} | {only_patched} / {only_rebuilt} | |")
    if not patched or not published:
        print("NOT PATCHED: the night rebuilt whole, nothing was compared (raise KCITY_PATCH_SHARE?)")
        sys.exit(1)
    print("\nSAME ROWS" if not bad else "\nDIFFERENT")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
