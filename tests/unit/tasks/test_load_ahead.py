"""`ahead`: the next batch is made in a background thread while the caller inserts this one;
order, errors and early stops behave as with a plain generator, and at most two are alive."""

import threading
import time

import pytest

from tasks.ingest import Ahead, ahead


def counted(made: list[int], n: int):
    """0..n-1, each appended to `made` when it is made."""
    for i in range(n):
        made.append(i)
        yield i


def test_items_come_in_order_and_all_of_them():
    assert list(ahead(iter(range(50)))) == list(range(50))
    assert list(ahead(iter([]))) == []


def test_the_next_item_is_made_while_the_caller_works_on_this_one():
    made: list[int] = []
    stream = ahead(counted(made, 3))
    assert next(stream) == 0
    deadline = time.monotonic() + 5
    while len(made) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert made == [0, 1], "item 1 is made while the caller holds item 0"
    time.sleep(0.2)
    assert made == [0, 1], "never more than two items alive: item 2 waits for the caller"
    assert next(stream) == 1
    assert list(stream) == [2]


def test_an_error_of_the_producer_is_raised_to_the_caller_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("row 7, column country: broken")

    got = []
    with pytest.raises(ValueError, match="row 7"):
        for item in ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_a_caller_that_stops_early_stops_the_producer_and_closes_its_items():
    closed = threading.Event()

    def items():
        try:
            yield from range(1000)
        finally:
            closed.set()

    stream = ahead(items())
    assert next(stream) == 0
    stream.close()  # what a rollback does to the load loop
    assert closed.wait(5), "the source (an open CSV file) is closed"
    assert not any(t.name == "kcity-load-ahead" for t in threading.enumerate())


def test_before_the_caller_takes_the_first_item_only_one_is_made():
    made: list[int] = []
    stream = ahead(counted(made, 3))  # a file read before its turn: one batch waits, not two
    time.sleep(0.3)
    assert made == [0]
    assert list(stream) == [0, 1, 2]


def test_a_stream_after_another_starts_when_that_one_is_done():
    first = ahead(iter([1, 2]))
    made: list[int] = []

    def items():
        made.append(9)
        yield 9

    second = Ahead(items(), after=first.finished)
    time.sleep(0.3)
    assert made == [], "waits while the first has items to make"
    assert list(first) == [1, 2]
    deadline = time.monotonic() + 5
    while not made and time.monotonic() < deadline:
        time.sleep(0.01)
    assert made == [9], "starts once the first is done, before its caller takes anything"
    assert list(second) == [9]
    closed = Ahead(iter([1]), after=threading.Event())  # never let go: close still stops it
    closed.close()
    assert closed.finished.is_set()
