"""The contract's value formats: dates (naive = Asia/Seoul), numbers, scores, e-mails."""

import pandas as pd
import pytest

from schemas import parsing


@pytest.mark.parametrize(
    ("text", "seoul"),
    [
        ("2020-03-15", "2020-03-15 00:00"),
        ("2020-03-15T09:30:00", "2020-03-15 09:30"),
        ("2020-03-15 09:30", "2020-03-15 09:30"),
        ("2020-03-15T00:30:00Z", "2020-03-15 09:30"),
        ("2020-03-14T23:00:00-05:00", "2020-03-15 13:00"),
        ("2020-03-15T09:30:00+09:00", "2020-03-15 09:30"),
        ("2020.03.15", "2020-03-15 00:00"),
        ("2020. 3. 15.", "2020-03-15 00:00"),
        ("2020.3.5 13:05", "2020-03-05 13:05"),
        (" 2020-03-15 ", "2020-03-15 00:00"),
    ],
)
def test_dates_parse_to_seoul_local_time(text, seoul):
    assert parsing.parse_timestamp(pd.Series([text]))[0] == pd.Timestamp(seoul)


@pytest.mark.parametrize(
    "text", ["2020-02-30", "03/04/2020", "15.03.2020", "2020-03-15T25:00", "yesterday", ""]
)
def test_impossible_or_ambiguous_dates_are_rejected(text):
    assert pd.isna(parsing.parse_timestamp(pd.Series([text]))[0])


def test_numbers():
    got = parsing.parse_number(
        pd.Series(["1,200,000", "12", "0.5", "1e6", "-1", "NaN", "1e309", "1,20", "12 USD"])
    )
    assert got.tolist()[:4] == [1_200_000.0, 12.0, 0.5, 1_000_000.0]
    assert got[4:].isna().all()


def test_scores():
    got = parsing.parse_score(pd.Series(["1", "5", "4.0", " 3 ", "0", "6", "4.5", "5점", "N/A"]))
    assert got.tolist()[:4] == [1, 5, 4, 3]
    assert got[4:].isna().all()


def test_emails():
    assert parsing.is_email(pd.Series(["a.b@gov.example.org", "a@b", "a b@c.org", "a@@b.org"])).tolist() == [
        True, False, False, False,
    ]  # fmt: skip
