"""Read the published marts back for the run summary the CLI prints (and artifacts show)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from prefect import task

from warehouse import db


@dataclass
class RunSummary:
    """What an operator wants to see at the end of a run."""

    as_of: str | None
    headline: pd.DataFrame
    tracks: pd.DataFrame
    shortlist: pd.DataFrame
    load_report: pd.DataFrame
    files_this_run: list[dict]
    report: Path | None = None

    @property
    def issues_this_run(self) -> str | None:
        """'2 rejected files, 4 quarantined rows' when this run met bad input, else None."""
        rejected = sum(f["status"] == "rejected" for f in self.files_this_run)
        quarantined = sum(f["rows_quarantined"] for f in self.files_this_run)
        if not rejected and not quarantined:
            return None
        return f"{rejected} rejected file(s), {quarantined} quarantined row(s)"

    @property
    def rejected_files(self) -> int:
        return int((self.load_report["status"] == "rejected").sum())

    @property
    def quarantined_rows(self) -> int:
        return int(self.load_report["rows_quarantined"].sum())


@task(name="summarize")
def summarize(published: Path, files_this_run: list[dict]) -> RunSummary:
    """Headline, track split, shortlist and load report, as BI tools will see them."""
    with db.connect(published, read_only=True) as con:

        def q(sql: str) -> pd.DataFrame:
            return con.execute(sql).df()

        headline = q("SELECT * FROM marts.headline")
        return RunSummary(
            as_of=str(headline["as_of"].iloc[0].date()) if len(headline) else None,
            headline=headline,
            tracks=q("SELECT track, n_requests, n_countries FROM marts.track_summary ORDER BY track"),
            shortlist=q(
                "SELECT rank, country_iso3, country_name, n_requests, n_reviews, avg_cooperation,"
                " avg_prospects, avg_business, score FROM marts.country_summary"
                " WHERE shortlisted ORDER BY rank"
            ),
            load_report=q(
                "SELECT delivery_date, source, file_name, status, rows_read, rows_loaded,"
                " rows_quarantined, error, path FROM marts.load_report"
            ),
            files_this_run=files_this_run,
        )
