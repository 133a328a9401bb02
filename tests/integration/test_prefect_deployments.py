"""A real Prefect server and worker started by `make serve`'s script: deployments from
prefect.yaml, a backfill created through the REST API exactly as the UI's run form does."""

import datetime as dt
import os
from pathlib import Path

from tests.integration import browser
from tests.integration.helpers import query

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_deployments_come_from_prefect_yaml_with_a_seoul_night_schedule(served):
    nightly = served.deployment("nightly")
    assert [
        (s["schedule"]["cron"], s["schedule"]["timezone"], s["active"]) for s in nightly["schedules"]
    ] == [("30 23 * * *", "Asia/Seoul", True)]
    props = served.deployment("backfill")["parameter_openapi_schema"]["properties"]
    assert (props["start"]["title"], props["start"]["format"]) == ("Start date", "date")
    assert (props["end"]["title"], props["end"]["format"]) == ("End date", "date")
    assert (props["dry_run"]["title"], props["dry_run"]["type"]) == ("Dry run", "boolean")
    assert all(props[p]["description"] for p in ("start", "end", "dry_run"))
    pools = served.api("/work_pools/filter", {})
    assert [(p["name"], p["type"]) for p in pools if p["name"] == "kcity"] == [("kcity", "process")]


def test_backfill_from_the_ui_form_runs_on_the_worker_and_fills_warehouse_and_ledger(served):
    run = served.run_from_ui_form("backfill", {"start": "2020-04-10", "end": "2020-04-19"})
    done = served.wait(run["id"])
    assert done["state"]["type"] == "COMPLETED", served.output()
    assert done["state"]["name"] == "Completed with issues"  # the sample has bad rows and a broken file
    db = served.data_dir / "kcity.duckdb"
    assert query(db, "SELECT as_of, n_countries, n_requests FROM marts.headline") == [
        (dt.date(2020, 4, 19), 23, 80)
    ]
    dates = query(db, "SELECT DISTINCT as_of FROM marts.country_summary_history ORDER BY 1")
    assert [d for (d,) in dates] == [dt.date(2020, 4, d) for d in range(10, 20)]
    ledger = query(
        db,
        "SELECT as_of, status, files_loaded, rows_read FROM marts.run_ledger WHERE flow_run_id = "
        f"'{run['id']}' ORDER BY as_of",
    )
    assert [r[0] for r in ledger] == [dt.date(2020, 4, d) for d in range(10, 20)]
    assert {r[1] for r in ledger} == {"completed"}
    loaded = query(db, "SELECT count(*) FROM marts.load_report WHERE status = 'loaded'")[0][0]
    assert sum(r[2] for r in ledger) == loaded == 12  # every readable file of the sample, loaded by this run
    keys = {
        a["key"]
        for a in served.api("/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run["id"]]}}})
    }
    assert {"kcity-run-summary", "kcity-shortlist", "kcity-backfill-progress"} <= keys


def test_a_reversed_range_from_the_ui_fails_with_a_clear_message_before_any_work(served):
    before = query(served.data_dir / "kcity.duckdb", "SELECT count(*) FROM marts.run_ledger")
    run = served.run_from_ui_form("backfill", {"start": "2020-04-19", "end": "2020-04-01"})
    done = served.wait(run["id"])
    assert done["state"]["type"] == "FAILED"
    assert "reversed: start 2020-04-19 is after end 2020-04-01" in done["state"]["message"]
    assert query(served.data_dir / "kcity.duckdb", "SELECT count(*) FROM marts.run_ledger") == before


def test_the_ui_shows_the_date_pickers_and_the_run_summary_in_a_real_browser(served, tmp_path):
    backfill = served.deployment("backfill")
    form_url = f"{served.base}/v2/deployments/deployment/{backfill['id']}/run"
    page = browser.dom(form_url)
    for text in ("Start date", "End date", "Dry run", "Pick a date"):
        assert text in page, text
    runs = served.api("/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [backfill["id"]]},
                                                          "state": {"type": {"any_": ["COMPLETED"]}}}})  # fmt: skip
    assert runs, "the backfill test above leaves a completed run"
    summary = served.api("/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [runs[0]["id"]]},
                                                             "key": {"any_": ["kcity-run-summary"]}}})[0]  # fmt: skip
    art_url = f"{served.base}/v2/artifacts/artifact/{summary['id']}"
    page = browser.dom(art_url)
    for text in ("Backfill 2020-04-10..2020-04-19", "This run", "Quarantined rows by rule", "Rejected files"):
        assert text in page, text
    # Screenshots for the README: refreshed under docs/ when KCITY_UPDATE_DOCS=1, else in tmp.
    out = DOCS if os.environ.get("KCITY_UPDATE_DOCS") == "1" else tmp_path
    for name, url, size in (("ui-backfill-form.png", form_url, "1300,1000"),
                            ("ui-run-summary.png", art_url, "1300,1500")):  # fmt: skip
        png = browser.screenshot(url, out / name, size)
        assert png.stat().st_size > 20_000  # a rendered page, not a blank one


def test_nightly_resolves_its_date_from_the_scheduled_time_in_seoul(served):
    dep = served.deployment("nightly")
    # 2020-04-19 14:30 UTC is 23:30 in Seoul: the scheduled night of 2020-04-19
    body = {
        "parameters": {},
        "state": {"type": "SCHEDULED", "state_details": {"scheduled_time": "2020-04-19T14:30:00Z"}},
    }
    run = served.api(f"/deployments/{dep['id']}/create_flow_run", body)
    assert served.wait(run["id"])["state"]["type"] == "COMPLETED", served.output()
    ledger = query(
        served.data_dir / "kcity.duckdb",
        f"SELECT as_of FROM marts.run_ledger WHERE flow_run_id = '{run['id']}'",
    )
    assert ledger == [(dt.date(2020, 4, 19),)]


def test_runs_started_together_on_the_worker_both_complete_one_after_the_other(served):
    runs = [
        served.run_from_ui_form("backfill", {"start": "2020-04-15", "end": "2020-04-19"}),
        served.run_from_ui_form("nightly", {"as_of": "2020-04-19"}),
    ]
    finished = [served.wait(r["id"]) for r in runs]
    assert [f["state"]["type"] for f in finished] == ["COMPLETED", "COMPLETED"], served.output()
    spans = sorted(
        query(
            served.data_dir / "kcity.duckdb",
            "SELECT min(started_at), max(finished_at) FROM marts.run_ledger WHERE flow_run_id IN "
            f"('{runs[0]['id']}', '{runs[1]['id']}') GROUP BY flow_run_id",
        )
    )
    assert len(spans) == 2
