"""What every run shares: who it is (for the ledger) and how it ends (its final state)."""

from __future__ import annotations

import datetime as dt

from prefect.runtime import flow_run
from prefect.states import Completed, State

from tasks.summary import RunSummary

ISSUES_STATE = "Completed with issues"


def current_run() -> dict:
    """Id, flow name and start time of this flow run, for the run ledger."""
    return {
        "id": str(flow_run.id or "local"),
        "flow_name": str(flow_run.flow_name or "kcity"),
        "started_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
    }


def final_state(summary: RunSummary) -> State:
    """Completed, or 'Completed with issues' when this run met rejected files or quarantined
    rows, so the run list shows it and an automation can alert on it."""
    issues = summary.issues_this_run
    if issues:
        return Completed(data=summary, name=ISSUES_STATE, message=issues)
    return Completed(data=summary, message=f"as of {summary.as_of}: nothing rejected")
