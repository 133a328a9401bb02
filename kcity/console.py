"""Readable tables of a run summary for the terminal (rich ships with Prefect)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from tasks.summary import RunSummary


def _table(title: str, frame: pd.DataFrame) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col])
        table.add_column(str(col), justify="right" if numeric else "left", overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*["" if pd.isna(v) else str(v) for v in row])
    return table


def print_summary(summary: RunSummary, published: Path) -> None:
    """Headline, track split, shortlist and load report."""
    console = Console(width=max(Console().width, 110))
    h = summary.headline.iloc[0]
    console.print(
        f"\n[bold]K-City Network as of {summary.as_of}[/bold]: "
        f"[bold]{h.n_countries}[/bold] countries, [bold]{h.n_requests}[/bold] requests, "
        f"{h.n_reviews} reviews ({h.n_reviews_waiting} waiting for their submission)"
    )
    console.print(_table("Requests by track", summary.tracks))
    shortlist = summary.shortlist.rename(
        columns=lambda c: c.removeprefix("avg_").replace("country_", "").replace("n_", "")
    )
    console.print(_table(f"Shortlist ({len(shortlist)} countries)", shortlist))
    report = summary.load_report
    files = pd.DataFrame(
        {
            "delivered": report["delivery_date"].astype("str").replace({"NaT": "-", "None": "-"}),
            "source": report["source"],
            "file": report["file_name"],
            "status": report["status"],
            "read": report["rows_read"],
            "loaded": report["rows_loaded"],
            "quarantined": report["rows_quarantined"],
        }
    )
    console.print(_table("Load report", files))
    for row in report[report["error"].notna()].itertuples():
        console.print(f"  [yellow]{row.status}[/yellow] {row.path}: {row.error}")
    rejected, quarantined = summary.rejected_files, summary.quarantined_rows
    if rejected or quarantined:
        console.print(
            f"[bold yellow]Attention:[/bold yellow] {rejected} rejected file(s), "
            f"{quarantined} quarantined row(s): see marts.load_report and marts.quarantine."
        )
    console.print(f"Published: {published}")
    if summary.report is not None:
        console.print(f"Committee report: {summary.report}")
