"""The `kcity` console script as an operator runs it (own process, own temporary Prefect)."""

import os
import subprocess
import sys
from pathlib import Path

from kcity.sample import write_sample
from tests.integration.helpers import query

KCITY = Path(sys.executable).with_name("kcity")


def run(args: list[str], data: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "KCITY_"))}
    env |= {"KCITY_DATA_DIR": str(data), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120", "COLUMNS": "160"}  # fmt: skip
    return subprocess.run([str(KCITY), *args], env=env, capture_output=True, text=True, timeout=600)


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


def test_reversed_or_future_backfill_is_refused_before_any_work(tmp_path):
    done = run(["backfill", "--start", "2020-04-10", "--end", "2020-04-01"], tmp_path / "data")
    assert done.returncode == 2
    assert "reversed: start 2020-04-10 is after end 2020-04-01" in done.stderr
    done = run(["backfill", "--start", "2020-04-10", "--end", "2999-01-01"], tmp_path / "data")
    assert done.returncode == 2 and "ends in the future" in done.stderr
    assert not (tmp_path / "data" / "internal").exists()
