"""Readable tables of a run summary for the terminal (rich ships with Prefect)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tasks.summary import Rows, RunSummary


def _table(title: str, rows: Rows, headers: list[str] | None = None) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for i, col in enumerate(headers or rows.columns):
        values = [r[i] for r in rows.rows if r[i] is not None]
        numeric = bool(values) and all(
            isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in values
        )
        table.add_column(col, justify="right" if numeric else "left", overflow="fold")
    for row in rows.rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    return table


def print_summary(summary: RunSummary, published: Path) -> None:
    """Headline, track split, shortlist and load report."""
    console = Console(width=max(Console().width, 110))
    h = summary.headline.records()[0]
    console.print(
        f"\n[bold]K-City Network as of {summary.as_of}[/bold]: "
        f"[bold]{h['n_countries']}[/bold] countries, [bold]{h['n_requests']}[/bold] requests, "
        f"{h['n_reviews']} reviews ({h['n_reviews_waiting']} waiting for their submission)"
    )
    console.print(_table("Requests by track", summary.tracks))
    shortlist = [
        c.removeprefix("avg_").replace("country_", "").replace("n_", "") for c in summary.shortlist.columns
    ]
    console.print(_table(f"Shortlist ({len(summary.shortlist)} countries)", summary.shortlist, shortlist))
    report = summary.load_report.records()
    files = Rows(
        ["delivered", "source", "file", "status", "read", "loaded", "quarantined"],
        [
            (
                r["delivery_date"].isoformat() if isinstance(r["delivery_date"], dt.date) else "-",
                r["source"],
                r["file_name"],
                r["status"],
                r["rows_read"],
                r["rows_loaded"],
                r["rows_quarantined"],
            )
            for r in report
        ],
    )
    console.print(_table("Load report", files))
    for r in report:
        if r["error"] is not None:
            console.print(f"  [yellow]{r['status']}[/yellow] {r['path']}: {r['error']}")
    rejected, quarantined = summary.rejected_files, summary.quarantined_rows
    if rejected or quarantined:
        console.print(
            f"[bold yellow]Attention:[/bold yellow] {rejected} rejected file(s), "
            f"{quarantined} quarantined row(s): see marts.load_report and marts.quarantine."
        )
    console.print(f"Published: {published}")
    if summary.report is not None:
        console.print(f"Committee report: {summary.report}")
