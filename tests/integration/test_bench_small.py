"""The benchmark cannot rot: `make bench SIZE=small` runs end to end in CI and its own output
is checked (the pipeline's row counts reconcile with the generator's manifest, inside
bench/run.py). Speed is printed, never asserted."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def small_bench(work: Path, *options: str) -> str:
    """Run the benchmark at size small (with options) into `work`; the table it wrote."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--size", "small", "--work", str(work), *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return (work / "small" / "results.md").read_text()


def test_small_benchmark_runs_and_reconciles(tmp_path):
    table = small_bench(tmp_path)
    for case in ("floor", "prefect floor", "full", "nothing new", "nothing new next day", "one new day",
                 "backfill 30d", "peer (dlt)", "full 2x", "xlsx kcity", "xlsx calamine"):  # fmt: skip
        assert f"| {case} |" in table, table
    assert "Peak RSS of full" in table
    # Each kcity run split into its parts (and its flow run's end wait) from the Prefect log
    # it wrote, with the process's start and exit around its flow run; the no-op flow's run
    # has only those three.
    lines = [line for line in table.split("Parts of the runs")[1].splitlines() if line.startswith("| ")]
    header = [c.strip() for c in lines[0].split("|")[1:-1]]
    assert header == ["case", "start", "loading", "snapshot", "publish", "end wait", "exit", "rest"], header
    parts = {
        cells[0]: dict(zip(header[1:-1], cells[1:-1], strict=True))
        for cells in ([c.strip() for c in line.split("|")[1:-1]] for line in lines[1:])
    }
    for case in ("full", "nothing new", "nothing new next day", "one new day", "full 2x"):
        assert all(float(c) >= 0 for c in parts[case].values()), (case, parts)
    floor = parts["prefect floor"]
    assert [floor[p] for p in ("loading", "snapshot", "publish")] == ["", "", ""], parts
    assert all(float(floor[p]) >= 0 for p in ("start", "end wait", "exit")), parts
    assert all(c.endswith("×") for c in parts["full 2x / full"].values()), parts


def test_a_chosen_case_runs_alone_with_what_it_needs(tmp_path):
    """`--cases "nothing new,xlsx"`: full runs too (nothing new needs its warehouse); nothing
    else does, and the table shows only what ran."""
    table = small_bench(tmp_path, "--cases", "nothing new,xlsx")
    for case in ("full", "nothing new", "xlsx kcity", "xlsx calamine"):
        assert f"| {case} |" in table, table
    for case in ("floor", "prefect floor", "nothing new next day", "one new day", "backfill 30d", "peer (dlt)",
                 "full 2x"):  # fmt: skip
        assert f"| {case} |" not in table, table
    assert not (tmp_path / "small" / "data-2x").exists()  # the 2x inbox is generated only for full 2x


def test_a_patched_night_at_small_size_holds_the_rows_of_a_full_rebuild(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench.patched", "--size", "small", "--work", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "\nSAME ROWS" in done.stdout
    patched = done.stdout.split("requests patched: ")[1].split(" in the warehouse")[0]
    assert int(patched.replace(",", "")) > 0, done.stdout
