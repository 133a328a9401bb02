"""Read the published marts back for the run summary the CLI prints (and artifacts show).

Plain rows, not DataFrames: a nothing-new night never imports pandas (bench/RESULTS.md,
twelfth session).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from prefect import task

from warehouse import db


@dataclass
class Rows:
    """A query's result: its column names and rows."""

    columns: list[str]
    rows: list[tuple] = field(default_factory=list)

    @classmethod
    def of(cls, con: duckdb.DuckDBPyConnection, sql: str) -> Rows:
        cur = con.execute(sql)
        return cls([c[0] for c in cur.description], cur.fetchall())

    def __len__(self) -> int:
        return len(self.rows)

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]


@dataclass
class RunSummary:
    """What an operator wants to see at the end of a run."""

    as_of: str | None
    headline: Rows
    tracks: Rows
    shortlist: Rows
    load_report: Rows
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
        return sum(status == "rejected" for status in self.load_report.column("status"))

    @property
    def quarantined_rows(self) -> int:
        return sum(n or 0 for n in self.load_report.column("rows_quarantined"))


@task(name="summarize")
def summarize(published: Path, files_this_run: list[dict]) -> RunSummary:
    """Headline, track split, shortlist and load report, as BI tools will see them."""
    with db.connect(published, read_only=True) as con:
        headline = Rows.of(con, "SELECT * FROM marts.headline")
        return RunSummary(
            as_of=str(headline.column("as_of")[0]) if len(headline) else None,
            headline=headline,
            tracks=Rows.of(
                con, "SELECT track, n_requests, n_countries FROM marts.track_summary ORDER BY track"
            ),
            shortlist=Rows.of(
                con,
                "SELECT rank, country_iso3, country_name, n_requests, n_reviews, avg_cooperation,"
                " avg_prospects, avg_business, score FROM marts.country_summary"
                " WHERE shortlisted ORDER BY rank",
            ),
            load_report=Rows.of(
                con,
                "SELECT delivery_date, source, file_name, status, rows_read, rows_loaded,"
                " rows_quarantined, error, path FROM marts.load_report",
            ),
            files_this_run=files_this_run,
        )
