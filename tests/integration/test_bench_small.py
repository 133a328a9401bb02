"""The benchmark cannot rot: `make bench SIZE=small` runs end to end in CI and its own output
is checked (the pipeline's row counts reconcile with the generator's manifest, inside
bench/run.py). Speed is printed, never asserted."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_small_benchmark_runs_and_reconciles(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--size", "small", "--work", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = (tmp_path / "small" / "results.md").read_text()
    for case in ("floor", "prefect floor", "full", "nothing new", "one new day", "backfill 30d",
                 "peer (dlt)", "full 2x", "xlsx kcity", "xlsx calamine"):  # fmt: skip
        assert f"| {case} |" in table, table
    assert "Peak RSS of full" in table
