"""The `kcity` console script as an operator runs it (own process, own temporary Prefect)."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from kcity.sample import write_sample
from tests.integration.helpers import query

KCITY = Path(sys.executable).with_name("kcity")


def run(args: list[str], data: Path, command: tuple[str, ...] = (str(KCITY),)) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "KCITY_"))}
    env |= {"KCITY_DATA_DIR": str(data), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120", "COLUMNS": "160", "KCITY_PREFECT_PORT": "1"}  # fmt: skip
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=600)


# `kcity` as the console script runs it, then the data stack it imported.
IMPORTS = (
    "import sys; from kcity.cli import main; code = main(sys.argv[1:]);"
    "print('imported:', sorted(m for m in ('pandas', 'pyarrow', 'polars', 'pandera') if m in sys.modules));"
    "sys.exit(code)"
)


def test_a_nightly_with_nothing_new_imports_no_data_stack(tmp_path):
    """Nothing new to read: no pandas, Arrow, Polars or Pandera (~0.35 s of a nothing-new night
    for pandas alone, which DuckDB's client imports on the first bound parameter)."""
    data = tmp_path / "data"
    write_sample(data / "inbox")
    first = run(["nightly", "--date", "2020-04-19"], data, (sys.executable, "-c", IMPORTS))
    assert first.returncode == 0, first.stderr[-3000:]
    assert "imported: ['pandas', 'pandera', 'polars', 'pyarrow']" in first.stdout  # it loaded files
    again = run(["nightly", "--date", "2020-04-19"], data, (sys.executable, "-c", IMPORTS))
    assert again.returncode == 0, again.stderr[-3000:]
    assert "23 countries, 80 requests" in again.stdout
    assert "Shortlist (10 countries)" in again.stdout
    assert "imported: []" in again.stdout, again.stdout[-500:]
    # The next day with nothing delivered: the summary re-dated, the checks run again (the
    # warehouse changed) and a report rendered for the new date, still without them.
    report = data / "reports" / "kcity-report-2020-04-20.html"
    assert not report.exists()
    next_day = run(["nightly", "--date", "2020-04-20"], data, (sys.executable, "-c", IMPORTS))
    assert next_day.returncode == 0, next_day.stderr[-3000:]
    assert "23 countries, 80 requests" in next_day.stdout
    assert "imported: []" in next_day.stdout, next_day.stdout[-500:]
    assert "As of 2020-04-20" in report.read_text(encoding="utf-8")


def test_nightly_prints_the_summary_and_exits_zero(tmp_path):
    data = tmp_path / "data"
    write_sample(data / "inbox")
    done = run(["nightly", "--date", "2020-04-19"], data)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "23 countries, 80 requests" in done.stdout
    assert "Shortlist (10 countries)" in done.stdout
    assert "portal_export_0320.xlsx: portal_export_0320.xlsx: not a readable XLSX workbook" in done.stdout
    assert query(data / "kcity.duckdb", "SELECT n_countries, n_requests FROM marts.headline") == [(23, 80)]
    assert (data / "prefect").is_dir()  # Prefect's state stays in the data folder


def test_the_console_script_leaves_the_process_frozen_for_its_exit(tmp_path):
    """`kcity` is `console`: `main`, then gc.freeze, so the interpreter's final collections skip
    what the run left (0.3-0.6 s of every run's exit); the exit status is main's."""
    from importlib.metadata import entry_points

    assert entry_points(group="console_scripts")["kcity"].value == "kcity.cli:console"
    probe = (
        "import gc, sys; from kcity.cli import console; code = console(sys.argv[1:]);"
        "print('frozen:', gc.get_freeze_count() > 0); sys.exit(code)"
    )
    done = run(["export", "--as-of", "2020-04-19"], tmp_path / "data", (sys.executable, "-c", probe))
    assert done.returncode == 1 and "No warehouse at" in done.stderr  # main's status and message
    assert "frozen: True" in done.stdout


def test_reversed_or_future_backfill_is_refused_before_any_work(tmp_path):
    done = run(["backfill", "--start", "2020-04-10", "--end", "2020-04-01"], tmp_path / "data")
    assert done.returncode == 2
    assert "reversed: start 2020-04-10 is after end 2020-04-01" in done.stderr
    done = run(["backfill", "--start", "2020-04-10", "--end", "2999-01-01"], tmp_path / "data")
    assert done.returncode == 2 and "ends in the future" in done.stderr
    assert not (tmp_path / "data" / "internal").exists()


def test_two_nightlies_and_a_backfill_at_the_same_moment_equal_them_one_after_the_other(tmp_path):
    import pandas as pd

    from flows.backfill import backfill
    from flows.nightly import nightly
    from tests.integration.helpers import published_tables

    together, apart = tmp_path / "together", tmp_path / "apart"
    for data in (together, apart):
        write_sample(data / "inbox")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "KCITY_"))}
    env |= {"KCITY_DATA_DIR": str(together), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120", "KCITY_PREFECT_PORT": "1"}  # fmt: skip
    # Hold the writer lock while the three start, so each must wait (and say so) whatever
    # their start-up timing; release it once all three are waiting.
    import fcntl
    import time

    lock_path = together / "internal" / "writer.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    holder = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(holder, fcntl.LOCK_EX)
    logs = [tmp_path / f"run{n}.log" for n in range(3)]
    runs = (
        ["nightly", "--date", "2020-04-19"],
        ["nightly", "--date", "2020-04-19"],
        ["backfill", "--start", "2020-04-10", "--end", "2020-04-19"],
    )
    procs = [
        subprocess.Popen([str(KCITY), *args], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        for args, log in zip(runs, logs, strict=True)
    ]
    deadline = time.monotonic() + 300
    while not all("waiting for it to finish" in log.read_text() for log in logs):
        assert time.monotonic() < deadline, [log.read_text()[-2000:] for log in logs]
        assert all(p.poll() is None for p in procs), [log.read_text()[-2000:] for log in logs]
        time.sleep(0.5)
    fcntl.flock(holder, fcntl.LOCK_UN)
    os.close(holder)
    for p in procs:
        p.wait(timeout=600)
    outputs = [log.read_text() for log in logs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert "Could not set lock" not in "".join(outputs)  # DuckDB's lock conflict never happens

    os.environ["KCITY_DATA_DIR"] = str(apart)
    try:
        nightly(as_of=dt.date(2020, 4, 19))
        nightly(as_of=dt.date(2020, 4, 19))
        backfill(start=dt.date(2020, 4, 10), end=dt.date(2020, 4, 19))
    finally:
        del os.environ["KCITY_DATA_DIR"]
    a, b = published_tables(together / "kcity.duckdb"), published_tables(apart / "kcity.duckdb")
    assert a.keys() == b.keys()
    for name in a:
        if name == "run_ledger":
            continue
        drop = [c for c in ("loaded_at",) if c in a[name].columns]
        pd.testing.assert_frame_equal(a[name].drop(columns=drop), b[name].drop(columns=drop), obj=name)
