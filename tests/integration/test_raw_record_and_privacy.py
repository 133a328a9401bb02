"""The raw record keeps loaded data when inbox files change or go; personal data stays out of
the published file, the Prefect artifacts and INFO logs."""

import asyncio
import datetime as dt
import logging
import os

import pytest
from prefect.client.orchestration import get_client

from flows.backfill import backfill
from flows.nightly import nightly
from kcity.sample import write_sample
from tests.integration.helpers import published_tables, query

EVE = dt.date(2020, 4, 19)
PERSONAL = ["Contact Person", "@gov-", "contact at ministry", ".example.org"]


@pytest.fixture
def sample(kcity_env):
    write_sample(kcity_env.inbox)
    return kcity_env


def test_a_changed_file_under_an_old_name_is_a_new_delivery_and_nothing_is_lost(sample):
    nightly(as_of=EVE)
    path = sample.inbox / "submissions/2020-03-13/form_export_0313.csv"
    original = path.read_bytes()
    path.write_bytes(original.replace(b"KCN-2020-080", b"KCN-2020-180"))  # the sender "fixed" an id
    old = dt.datetime(2020, 3, 13, 12, tzinfo=dt.UTC).timestamp()
    os.utime(path, (old, old))
    nightly(as_of=EVE)
    report = published_tables(sample.published_db)["load_report"]
    rows = report[report["path"] == "submissions/2020-03-13/form_export_0313.csv"]
    assert len(rows) == 2 and set(rows["status"]) == {"loaded"}
    assert rows["notes"].str.contains("changed file").all()
    assert rows["in_inbox"].tolist().count(False) == 1
    ids = {r[0] for r in query(sample.published_db, "SELECT submission_id FROM marts.submissions")}
    assert {"KCN-2020-080", "KCN-2020-180"} <= ids  # the earlier content was not deleted silently


def test_a_removed_file_keeps_what_it_loaded_and_the_report_says_it_is_gone(sample):
    nightly(as_of=EVE)
    before = query(sample.published_db, "SELECT n_requests, n_reviews FROM marts.headline")
    (sample.inbox / "feedback/2020-04-10/KOTRA_feedback.xlsx").unlink()
    nightly(as_of=EVE)
    assert query(sample.published_db, "SELECT n_requests, n_reviews FROM marts.headline") == before
    report = published_tables(sample.published_db)["load_report"].set_index("file_name")
    assert not report.loc["KOTRA_feedback.xlsx", "in_inbox"]
    assert "no longer in the inbox" in report.loc["KOTRA_feedback.xlsx", "notes"]
    backfill(start=dt.date(2020, 4, 10), end=dt.date(2020, 4, 10))  # re-validated from the raw record
    assert query(sample.published_db, "SELECT n_requests, n_reviews FROM marts.headline") == before


def test_no_personal_data_in_published_file_artifacts_or_info_logs(sample, caplog):
    caplog.set_level(logging.INFO)
    nightly(as_of=EVE)
    backfill(start=dt.date(2020, 4, 1), end=dt.date(2020, 4, 5))
    published = "".join(t.astype("str").to_csv() for t in published_tables(sample.published_db).values())

    async def artifact_text() -> str:
        async with get_client() as client:
            artifacts = await client.read_artifacts(limit=200)
            return "".join(str(a.data) + str(a.description) for a in artifacts)

    artifacts = asyncio.run(artifact_text())
    assert "kcity" in artifacts.lower() or "Nightly" in artifacts  # the artifacts were read
    logs = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "Loaded submissions/2020-02-07/form_export_0207.csv" in logs  # the logs were captured
    raw = (sample.inbox / "submissions/2020-02-07/form_export_0207.csv").read_text()
    assert "Contact Person" in raw and "contact at ministry" in raw  # the inbox does hold personal data
    for where, text in (("published file", published), ("artifacts", artifacts), ("INFO logs", logs)):
        for needle in PERSONAL:
            assert needle not in text, f"{needle!r} in {where}"


def test_revalidating_from_the_raw_record_keeps_row_shape_findings(kcity_env):
    from tests.integration.test_bad_input_corpus import CASES

    rel, content = next((r, c) for r, c, _ in CASES if r.endswith("broken_line.jsonl"))
    path = kcity_env.inbox / rel
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    day = dt.date.fromisoformat(rel.split("/")[1])
    nightly(as_of=day)
    before = published_tables(kcity_env.published_db)["quarantine"][["row_number", "column_name", "rule"]]
    assert before["rule"].tolist() == ["json_line_broken"]
    path.unlink()
    backfill(start=day, end=day)
    after = published_tables(kcity_env.published_db)["quarantine"][["row_number", "column_name", "rule"]]
    assert after.equals(before)
