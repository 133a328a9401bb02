"""The next file is read and validated while the file before it loads (`read_ahead`); its
load takes that reading over and ends exactly as a load that read the file itself."""

import datetime as dt
import threading
import time

import pytest

from tasks import ingest as ingesting
from tasks.plan import LoadItem
from tests.unit.tasks.test_batched_ingest import HEADER, row
from warehouse import db


@pytest.fixture
def inbox(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "submissions" / "2020-03-02").mkdir(parents=True)
    return inbox


def put(inbox, name: str, text: str) -> LoadItem:
    rel = f"submissions/2020-03-02/{name}"
    (inbox / rel).write_bytes(text.encode("utf-8"))
    return LoadItem(f"sha-{name}", "submissions", dt.date(2020, 3, 2), rel, name, True)


def load(tmp_path, inbox, item: LoadItem, ahead: bool) -> tuple[dict, dict]:
    internal = tmp_path / f"{item.file_name}-{ahead}.duckdb"
    db.init_warehouse(internal)
    if ahead:
        ingesting.read_ahead(inbox, item)
    ledger = ingesting._ingest(internal, inbox, item)
    with db.connect(internal) as con:
        tables = {
            t: con.execute(f"SELECT * EXCLUDE (sha256) FROM {t} ORDER BY ALL").fetchall()
            for t in ("raw.submission_rows", "stg.submissions", "ops.quarantine")
        }
    return {k: v for k, v in ledger.items() if k != "loaded_at"}, tables


CONTENTS = {
    "good.csv": "\n".join([HEADER, *(row(f"S-{i}") for i in range(1, 30)), row("S-1"), "S-99,x"]) + "\n",
    "bom.csv": "\ufeff" + "\n".join([HEADER, row("S-1")]) + "\n",  # a note: byte-order mark
    "no_header.csv": "a,b\n1,2\n",  # unreadable: rejected
    "empty.csv": "",
    "long.csv": "\n".join([HEADER, row("S-1"), row("S-2", "x" * 3000)]) + "\n",  # > one block
}


@pytest.mark.parametrize("name", CONTENTS)
def test_a_file_read_ahead_loads_exactly_as_one_read_at_its_turn(tmp_path, inbox, monkeypatch, name):
    monkeypatch.setattr(ingesting, "CSV_BLOCK_BYTES", 1024)
    item = put(inbox, name, CONTENTS[name])
    assert load(tmp_path, inbox, item, ahead=True) == load(tmp_path, inbox, item, ahead=False)
    assert ingesting._READ_AHEAD == {}


def test_the_file_is_read_and_validated_before_its_turn_and_not_read_again(tmp_path, inbox, monkeypatch):
    opened: list[str] = []
    validated = threading.Event()
    open_raw, validate = ingesting.open_raw, ingesting.validate_rows

    def counting_open(path, *args, **kwargs):
        opened.append(path.name)
        return open_raw(path, *args, **kwargs)

    def signalling_validate(*args):
        checked = validate(*args)
        validated.set()
        return checked

    monkeypatch.setattr(ingesting, "open_raw", counting_open)
    monkeypatch.setattr(ingesting, "validate_rows", signalling_validate)
    item = put(inbox, "good.csv", CONTENTS["good.csv"])
    internal = tmp_path / "w.duckdb"
    db.init_warehouse(internal)
    ingesting.read_ahead(inbox, item)
    assert validated.wait(30), "the first batch is validated before the file's load starts"
    ledger = ingesting._ingest(internal, inbox, item)
    assert (ledger["rows_read"], ledger["rows_loaded"], ledger["rows_quarantined"]) == (31, 28, 3)
    assert opened == ["good.csv"]


def test_readings_no_load_took_over_are_stopped_and_their_files_closed(tmp_path, inbox, monkeypatch):
    import tempfile

    monkeypatch.setattr(ingesting, "CSV_BLOCK_BYTES", 1024)
    made = tmp_path / "tmp"
    made.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(made))
    lines = [HEADER, *(row(f"S-{i}") for i in range(1, 500))]  # many batches: the reader waits
    item = put(inbox, "big.csv", "\n".join(lines) + "\n")
    ingesting.read_ahead(inbox, item)
    deadline = time.monotonic() + 10
    while not any(made.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any(made.iterdir()), "the reading started (its temporary folder exists)"
    ingesting.drop_read_ahead()
    assert ingesting._READ_AHEAD == {}
    assert not any(t.name == "kcity-load-ahead" for t in threading.enumerate())
    assert not any(made.iterdir()), "its temporary folder is gone"


def test_a_run_stopped_by_an_error_stops_the_next_file_s_reading(tmp_path, inbox, monkeypatch):
    from types import SimpleNamespace

    from flows.ingest import ingest

    items = [put(inbox, f"f{i}.csv", CONTENTS["good.csv"]) for i in range(3)]
    started: list[list] = []

    def failing(internal, inbox, item):
        started.append(sorted(ingesting._READ_AHEAD))
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingesting, "ingest_file", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest(SimpleNamespace(internal_db=tmp_path / "w.duckdb", inbox=inbox), items)
    assert started == [[(i.rel_path, i.sha256) for i in items[:2]]], "this file and the next one"
    assert ingesting._READ_AHEAD == {}
    assert not any(t.name == "kcity-load-ahead" for t in threading.enumerate())


def test_the_next_file_is_read_once_the_file_before_it_has_made_its_last_batch(tmp_path, inbox, monkeypatch):
    """Two batches alive at most, as without reading ahead: the next file waits for the one
    before it to be read to its end (its last batch being inserted)."""
    monkeypatch.setattr(ingesting, "CSV_BLOCK_BYTES", 1024)
    opened: list[str] = []
    open_raw = ingesting.open_raw

    def counting_open(path, *args, **kwargs):
        opened.append(path.name)
        return open_raw(path, *args, **kwargs)

    monkeypatch.setattr(ingesting, "open_raw", counting_open)
    big = put(inbox, "big.csv", "\n".join([HEADER, *(row(f"S-{i}") for i in range(1, 300))]) + "\n")
    small = put(inbox, "small.csv", CONTENTS["good.csv"])
    internal = tmp_path / "w.duckdb"
    db.init_warehouse(internal)
    try:
        ingesting.read_ahead(inbox, big)
        ingesting.read_ahead(inbox, small)
        time.sleep(1.0)
        assert opened == ["big.csv"], "the small file waits: the big one has batches to come"
        assert ingesting._ingest(internal, inbox, big)["rows_loaded"] == 299
        deadline = time.monotonic() + 10
        while len(opened) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert opened == ["big.csv", "small.csv"], "read once the big one is, before its turn"
        assert ingesting._ingest(internal, inbox, small)["rows_loaded"] == 28
        assert opened == ["big.csv", "small.csv"]
    finally:
        ingesting.drop_read_ahead()
