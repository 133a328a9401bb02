"""ops.inbox_files: a night whose inbox is as recorded writes nothing (and so imports no
pandas); every change an inbox can show is still written."""

import datetime as dt

from warehouse import db

UP_TO = dt.date(2020, 3, 10)


def seen(rel: str, sha: str, delivered: str | None, problem: str | None = None, stat: str = "k1") -> dict:
    return {
        "rel_path": rel, "sha256": sha, "source": "submissions",
        "delivery_date": dt.date.fromisoformat(delivered) if delivered else None,
        "file_name": rel.rsplit("/", 1)[-1], "size_bytes": 10, "problem": problem, "stat_key": stat,
    }  # fmt: skip


def recorded(path) -> list[tuple]:
    with db.connect(path) as con:
        return con.execute(
            "SELECT rel_path, sha256, problem, stat_key, present, first_seen_at FROM ops.inbox_files ORDER BY ALL"
        ).fetchall()


def unchanged(path, files: list[dict], up_to: dt.date = UP_TO) -> bool:
    with db.connect(path) as con:
        return db._inbox_unchanged(con, files, up_to)


def test_each_change_of_the_inbox_is_recorded_and_an_unchanged_inbox_writes_nothing(tmp_path):
    path = tmp_path / "internal.duckdb"
    db.init_warehouse(path)
    a, b = seen("s/2020-03-02/a.csv", "A", "2020-03-02"), seen("s/2020-03-05/b.csv", "B", "2020-03-05")
    later = seen("s/2020-03-20/c.csv", "C", "2020-03-20")
    undated = seen("s/x/d.csv", "D", None)
    assert not unchanged(path, [a])
    db.record_inbox_files(path, [a, b, later, undated], UP_TO)
    first = recorded(path)
    assert [r[4] for r in first] == [True] * 4

    assert unchanged(path, [a, b, later, undated])
    db.record_inbox_files(path, [a, b, later, undated], UP_TO)
    assert recorded(path) == first  # first sightings kept
    # A file delivered after the date being run, not seen now: nothing to mark yet.
    assert unchanged(path, [a, b, undated])

    changes = {
        "a new content at a known path": [seen("s/2020-03-02/a.csv", "A2", "2020-03-02"), b, later, undated],
        "a new stat key": [a | {"stat_key": "k2"}, b, later, undated],
        "a new problem": [a | {"problem": "not a readable CSV"}, b, later, undated],
        "a file gone": [a, later, undated],
        "an undated file gone": [a, b, later],
    }
    for name, files in changes.items():
        assert not unchanged(path, files), name

    db.record_inbox_files(path, [a | {"stat_key": "k2", "problem": "p"}, later, undated], UP_TO)
    rows = {r[0]: r for r in recorded(path)}
    assert rows["s/2020-03-02/a.csv"][2:5] == ("p", "k2", True)
    assert rows["s/2020-03-05/b.csv"][4] is False  # gone, delivered before UP_TO
    assert unchanged(path, [a | {"stat_key": "k2", "problem": "p"}, later, undated])
    assert not unchanged(path, [a | {"stat_key": "k2", "problem": "p"}, b, later, undated]), "b is back"

    db.record_inbox_files(path, [a | {"stat_key": "k2", "problem": "p"}, b, later, undated], UP_TO)
    assert {r[0]: r[4] for r in recorded(path)}["s/2020-03-05/b.csv"] is True
