"""The benchmark splits each `kcity` run into loading, snapshot and publish, and the flow run's
wait at its end, from the Prefect log the run writes, and its start and exit around the flow
run (bench/run.py, run_parts)."""

import datetime as dt

import pytest

from bench.run import run_parts

# One new day's run as the benchmark logged it (abridged: the lines it reads, and others).
LOG = """\
$ /work/main/.venv/bin/kcity nightly --date 2020-03-10
05:20:44.879 | INFO    | Flow run 'light-hawk' - Beginning flow run 'light-hawk' for flow 'kcity-nightly'
05:20:44.940 | INFO    | Task run 'scan-inbox-d22' - Finished in state Completed()
05:20:45.118 | INFO    | Task run 'prepare-warehouse-70d' - Finished in state Completed()
05:20:45.587 | WARNING | Task run 'ingest-file-6a8' - Loaded submissions/2020-03-10/late_export.csv: 1000 read
05:20:45.590 | INFO    | Task run 'ingest-file-6a8' - Finished in state Completed()
05:20:45.611 | INFO    | Task run 'snapshot-dates-e2e' - Finished in state Completed()
05:20:54.938 | INFO    | Task run 'build-snapshots-ce7' - Built snapshot(s): 2020-03-10
05:20:54.941 | INFO    | Task run 'build-snapshots-ce7' - Finished in state Completed()
05:20:55.121 | INFO    | Task run 'record-run-days-19b' - Finished in state Completed()
05:20:59.096 | INFO    | Task run 'publish-266' - Published /work/main/bench/work/default/run/kcity.duckdb
05:20:59.099 | INFO    | Task run 'publish-266' - Finished in state Completed()
05:20:59.909 | INFO    | Flow run 'light-hawk' - Finished in state Completed with issues('0 rejected file(s)')
"""


def test_a_runs_parts_are_read_from_its_task_finishes():
    parts = run_parts(LOG)
    assert parts == {
        "loading": pytest.approx(45.611 - 45.118),
        "snapshot": pytest.approx(54.941 - 45.611),
        "publish": pytest.approx(59.099 - 55.121),
        "end wait": pytest.approx(59.909 - 59.099),  # the flow run's end after its last task
    }


def test_a_run_across_midnight_and_a_part_that_did_not_finish():
    log = LOG.replace("05:20:4", "23:59:5").replace("05:20:5", "00:00:0")
    parts = run_parts(log)
    assert parts["snapshot"] == pytest.approx(4.941 + 60 - 55.611)
    assert parts["end wait"] == pytest.approx(0.909 - 0.099)
    cut = run_parts(log.split("record-run-days")[0])  # stopped before publishing
    assert set(cut) == {"loading", "snapshot"}


def test_the_prefect_floors_no_op_flow_has_only_its_end_wait():
    log = """\
20:02:02.024 | INFO    | Flow run 'discreet-firefly' - Beginning flow run 'discreet-firefly' for flow 'bench-noop'
20:02:02.041 | INFO    | Task run 'nothing-0a3' - Finished in state Completed()
20:02:02.047 | INFO    | Task run 'nothing-5c1' - Finished in state Completed()
20:02:03.048 | INFO    | Flow run 'discreet-firefly' - Finished in state Completed()
"""
    assert run_parts(log) == {"end wait": pytest.approx(3.048 - 2.047)}


def test_the_start_and_exit_are_read_against_the_process_start_and_end():
    # The process started 1.25 s before the flow run's beginning and ended 0.5 s after its
    # finish, in local time as the log is written.
    day = dt.datetime(2020, 3, 10).timestamp()
    began, finished = 5 * 3600 + 20 * 60 + 44.879, 5 * 3600 + 20 * 60 + 59.909
    parts = run_parts(LOG, day + began - 1.25, day + finished + 0.5)
    assert parts["start"] == pytest.approx(1.25)
    assert parts["exit"] == pytest.approx(0.5)
    assert parts["snapshot"] == pytest.approx(54.941 - 45.611)  # the other parts as before
    # A process that started before midnight, its flow run after.
    late = LOG.replace("05:20:4", "00:00:0").replace("05:20:5", "00:00:1")
    assert run_parts(late, day - 0.75)["start"] == pytest.approx(4.879 + 0.75)
