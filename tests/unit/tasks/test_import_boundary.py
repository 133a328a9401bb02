"""A run with nothing to read never imports the reading and validation stack (tasks/ingest.py's
promise): a nothing-new nightly starts faster without Pandera and Polars (~1 s of imports), and
without pandas and Arrow (~0.35 s; at run time: tests/integration/test_cli.py)."""

import json
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


def test_validating_rows_imports_no_hypothesis_and_validates_the_same():
    # Pandera imports Hypothesis on its first validation when it is installed (0.1 s of one
    # new day's load), for strategies the pipeline never uses: tasks/validate.py keeps it
    # out. In a fresh process, as the pipeline runs, the same rows pass and fail as here
    # (pytest's Hypothesis plugin imported it), and a later import of Hypothesis works.
    code = """
import json, sys
from tests.unit.schemas.test_submission import GOOD, frame
from tasks.validate import validate_rows
rows = frame(GOOD, {**GOOD, "submission_id": "S-2", "country": "Atlantis", "budget_usd": "-5"})
checked = validate_rows(rows, "submissions")
print(json.dumps({
    "valid": checked.valid["row_number"].to_list(),
    "quarantine": checked.quarantine.astype(str).values.tolist(),
    "imported": "hypothesis" in sys.modules,
}))
import hypothesis
print(hypothesis.__name__)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, later = out.stdout.strip().splitlines()
    fresh = json.loads(first)
    assert fresh["imported"] is False
    assert later == "hypothesis"

    from tasks.validate import validate_rows
    from tests.unit.schemas.test_submission import GOOD, frame

    here = validate_rows(
        frame(GOOD, {**GOOD, "submission_id": "S-2", "country": "Atlantis", "budget_usd": "-5"}),
        "submissions",
    )
    assert fresh["valid"] == here.valid["row_number"].to_list() == [2]
    assert fresh["quarantine"] == here.quarantine.astype(str).values.tolist()
    assert {r[2] for r in fresh["quarantine"]} == {"country_known", "number_non_negative"}
