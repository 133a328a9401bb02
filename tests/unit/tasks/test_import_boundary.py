"""A run with nothing to read never imports the reading and validation stack (tasks/ingest.py's
promise): a nothing-new nightly starts faster without Pandera and Polars (~1 s of imports), and
without pandas and Arrow (~0.35 s; at run time: tests/integration/test_cli.py)."""

import subprocess
import sys


def test_the_nightly_flow_imports_no_data_stack_until_a_file_is_loaded():
    code = (
        "import sys, kcity.cli, kcity.console, flows.nightly, flows.backfill, tasks.load, tasks.summary,"
        " tasks.report, tasks.runlog, warehouse.db;"
        "print(sorted(m for m in ('pandera', 'polars', 'pandas', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, tasks.ingest; print('polars' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "True", "the check itself sees an import when there is one"
