"""Given rows in staging, build one snapshot, expect rows in the marts (jaffle-shop style)."""

import datetime as dt

import pandas as pd
import pytest

from warehouse import db, loading

DEFAULTS = {
    "w_cooperation": 1.0,
    "w_prospects": 1.0,
    "w_business": 1.0,
    "shortlist_size": 10,
    "trim_reviews": False,
    "normalize_ministries": False,
}


def submission(sid: str, iso3: str = "IDN", track: str = "urban_development", category: str = "new_city",
               status: str = "submitted", row: int = 2) -> dict:  # fmt: skip
    return {
        "row_number": row, "submission_id": sid, "submitted_at": dt.datetime(2020, 2, 1), "country_iso3": iso3,
        "institution": "Inst", "institution_type": None, "track": track, "category": category,
        "project_title": "T", "description": None, "budget_usd": None, "contact_name": "N",
        "contact_email": "n@x.org", "status": status,
    }  # fmt: skip


def review(
    sid: str, ministry: str, c=None, p=None, b=None, reviewed: str = "2020-04-01", row: int = 2
) -> dict:
    return {
        "row_number": row, "submission_id": sid, "ministry": ministry, "cooperation": c, "prospects": p,
        "business": b, "comment": None, "reviewed_at": pd.Timestamp(reviewed),
    }  # fmt: skip


class Given:
    """A throw-away internal warehouse to put staging rows in and build snapshots from."""

    def __init__(self, path):
        self.path = path
        db.init_warehouse(path)

    def file(self, sha: str, source: str, delivered: str, name: str, rows: list[dict]) -> "Given":
        ledger = {
            "sha256": sha, "source": source, "delivery_date": dt.date.fromisoformat(delivered),
            "file_name": name, "rel_path": f"{source}/{delivered}/{name}", "status": "loaded",
            "rows_read": len(rows), "rows_loaded": len(rows), "rows_quarantined": 0, "error": None, "notes": None,
        }  # fmt: skip
        staged = pd.DataFrame(rows)
        if source == "feedback":
            staged = staged.astype({"cooperation": "Int64", "prospects": "Int64", "business": "Int64"})
        raw = staged[["row_number", "submission_id"]]  # the raw record, as far as the checks look
        empty = pd.DataFrame(columns=["row_number", "column_name", "rule", "value"])
        one = loading.LoadBatch(raw, staged, empty)  # one batch, no quarantine
        loading.load_content(self.path, ledger, lambda _pages: iter([one]))
        return self

    def mart(self, name: str, as_of: str, order: str = "ALL", **params) -> pd.DataFrame:
        day = dt.date.fromisoformat(as_of)
        db.build_snapshot(self.path, day, {**DEFAULTS, **params})
        if name in db.LATEST_ONLY:  # kept for the newest day only; computed on request for others
            frame = db.snapshot_tables(self.path, day)[name].drop(columns=["as_of"])
            keys = [c.strip() for c in order.split(",")] if order != "ALL" else list(frame.columns)
            return frame.sort_values(keys).reset_index(drop=True)
        with db.connect(self.path) as con:
            return con.execute(
                f"SELECT * EXCLUDE (as_of) FROM hist.{name} WHERE as_of = ? ORDER BY {order}",
                [dt.date.fromisoformat(as_of)],
            ).df()


@pytest.fixture
def given(tmp_path):
    return Given(tmp_path / "internal.duckdb")
