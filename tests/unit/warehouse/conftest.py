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

    def file(
        self,
        sha: str,
        source: str,
        delivered: str,
        name: str,
        rows: list[dict],
        quarantined: tuple[int, ...] = (),
    ) -> "Given":
        """One loaded file content: `rows` staged, and the rows numbered `quarantined` read
        but quarantined (a country not in the reference)."""
        ledger = {
            "sha256": sha, "source": source, "delivery_date": dt.date.fromisoformat(delivered),
            "file_name": name, "rel_path": f"{source}/{delivered}/{name}", "status": "loaded",
            "rows_read": len(rows), "rows_loaded": len(rows), "rows_quarantined": 0, "error": None, "notes": None,
        }  # fmt: skip
        staged = pd.DataFrame(rows)
        if source == "feedback":
            staged = staged.astype({"cooperation": "Int64", "prospects": "Int64", "business": "Int64"})
        raw = staged[["row_number", "submission_id"]]  # the raw record, as far as the checks look
        bad = pd.DataFrame({"row_number": list(quarantined), "submission_id": None})
        raw = pd.concat([raw, bad], ignore_index=True) if quarantined else raw
        quarantine = pd.DataFrame(
            {
                "row_number": list(quarantined),
                "column_name": "country_iso3",
                "rule": "in_reference",
                "value": "XXX",
            }
        )
        one = loading.LoadBatch(raw, staged, quarantine)  # one batch
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
