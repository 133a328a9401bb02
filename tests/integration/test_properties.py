"""Property tests (Hypothesis): random mixes of valid and invalid rows over several
deliveries. Reconciliation always holds, the result does not depend on the order files are
read within a day, and a second run changes nothing."""

import datetime as dt
import os
import shutil
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.nightly import nightly
from tests.integration.helpers import published_tables

HEADER = ["submission_id", "submitted_at", "country", "institution", "track", "category", "project_title",
          "contact_email", "status"]  # fmt: skip
FB_HEADER = ["submission_id", "cooperation", "prospects", "business", "reviewed_at"]
AS_OF = dt.date(2020, 4, 30)
GOOD = {"submitted_at": "2020-03-01", "country": "Peru", "institution": "Lima", "track": "urban_development",
        "category": "new_city", "project_title": "T", "contact_email": "a@lima.gob.pe", "status": "submitted"}  # fmt: skip
BREAKS = [
    {}, {}, {},  # valid rows are the common case
    {"country": "Atlantis"}, {"contact_email": "nope"}, {"submitted_at": "2020-02-30"},
    {"category": "waste"}, {"status": "withdrawn"}, {"country": "라오스", "track": "smart_solution", "category": "waste"},
]  # fmt: skip

sub_rows = st.lists(st.tuples(st.integers(1, 6), st.sampled_from(range(len(BREAKS)))), min_size=1, max_size=6)
fb_rows = st.lists(
    st.tuples(st.integers(1, 6), st.sampled_from(["MOFA", "MOEF", "mofa"]),
              st.sampled_from(["1", "3", "5", "", "9", "x"]), st.sampled_from(["2", "4", ""])),  # fmt: skip
    min_size=1, max_size=5,
)  # fmt: skip
days = st.lists(
    st.tuples(st.sampled_from(["submissions", "feedback"]), st.integers(1, 3), st.integers(0, 2)),
    min_size=2,
    max_size=5,
)


def csv_text(header: list[str], rows: list[list[str]]) -> bytes:
    return ("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode()


def build_files(spec, subs, fbs) -> dict[str, bytes]:
    files = {}
    for n, (source, day, _) in enumerate(spec):
        folder = f"{source}/2020-04-0{day}"
        if source == "submissions":
            rows = [[f"P-{i}", *(GOOD | BREAKS[b] | {"project_title": f"T{n}"}).values()] for i, b in subs]
            files[f"{folder}/f{n}.csv"] = csv_text(HEADER, [[r[0], *r[1:]] for r in rows])
        else:
            rows = [[f"P-{i}", coop, prosp, "", "2020-04-01"] for i, _, coop, prosp in fbs]
            files[f"{folder}/{fbs[0][1]}_f{n}.csv"] = csv_text(FB_HEADER, rows)
    return files


def run(data: Path) -> dict[str, pd.DataFrame]:
    os.environ["KCITY_DATA_DIR"] = str(data)
    try:
        nightly(as_of=AS_OF)
    finally:
        del os.environ["KCITY_DATA_DIR"]
    tables = published_tables(data / "kcity.duckdb")
    tables.pop("run_ledger")
    tables["load_report"] = tables["load_report"].drop(columns=["loaded_at"])
    return tables


def write(data: Path, files: dict[str, bytes]) -> None:
    for rel, content in files.items():
        path = data / "inbox" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=days, subs=sub_rows, fbs=fb_rows)
def test_reconciliation_order_independence_and_idempotence(tmp_path_factory, spec, subs, fbs):
    files = build_files(spec, subs, fbs)
    base = tmp_path_factory.mktemp("prop")
    shutil.rmtree(base, ignore_errors=True)
    one, two = base / "all_at_once", base / "day_files_in_reverse"
    write(one, files)
    result = run(one)
    report = result["load_report"]
    readable = report[report["status"] == "loaded"]
    assert (readable["rows_read"] == readable["rows_loaded"] + readable["rows_quarantined"]).all()
    distinct = {files[p] for p in files}
    assert len(readable) + (report["status"] == "duplicate").sum() == len(files) >= len(distinct)
    rows_in_files = sum(len(files[p].splitlines()) - 1 for p in readable["path"])
    assert readable["rows_read"].sum() == rows_in_files

    # the same deliveries, each day's files arriving (and read) last-name-first over two runs
    by_day: dict[str, list[str]] = {}
    for rel in sorted(files):
        by_day.setdefault(rel.rsplit("/", 1)[0], []).append(rel)
    write(two, {rel: files[rel] for names in by_day.values() for rel in names[-1:]})
    run(two)
    write(two, files)
    other = run(two)
    for name in result:
        pd.testing.assert_frame_equal(result[name], other[name], obj=name)

    again = run(one)  # a second run changes nothing
    for name in result:
        pd.testing.assert_frame_equal(result[name], again[name], obj=name)
