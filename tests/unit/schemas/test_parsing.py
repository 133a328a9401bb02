"""The contract's value formats: dates (naive = Asia/Seoul), numbers, scores, e-mails."""

import datetime as dt
import re

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    assert parsing.parse_timestamp(pl.Series([text]))[0] == dt.datetime.fromisoformat(seoul)


@pytest.mark.parametrize(
    "text", ["2020-02-30", "03/04/2020", "15.03.2020", "2020-03-15T25:00", "yesterday", ""]
)
def test_impossible_or_ambiguous_dates_are_rejected(text):
    assert parsing.parse_timestamp(pl.Series([text]))[0] is None


def test_numbers():
    got = parsing.parse_number(
        pl.Series(["1,200,000", "12", "0.5", "1e6", "-1", "NaN", "1e309", "1,20", "12 USD"])
    )
    assert got.to_list()[:4] == [1_200_000.0, 12.0, 0.5, 1_000_000.0]
    assert got[4:].is_null().all()


def test_scores():
    got = parsing.parse_score(pl.Series(["1", "5", "4.0", " 3 ", "0", "6", "4.5", "5점", "N/A"]))
    assert got.to_list()[:4] == [1, 5, 4, 3]
    assert got[4:].is_null().all()


def test_emails():
    assert parsing.is_email(pl.Series(["a.b@gov.example.org", "a@b", "a b@c.org", "a@@b.org"])).to_list() == [
        True, False, False, False,
    ]  # fmt: skip


# --- The date rule, written once more in plain Python (the contract's wording, value by value):
# the vectorised parser (a strptime fast path for the usual forms, regexes for the rest) must
# agree with it on every text.
_ISO_RE = re.compile(
    r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
    r"(?:[T ](?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:[.,][0-9]+)?)?)?"
    r"[ ]?(?P<tz>Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
_DOTTED_RE = re.compile(
    r"(?P<y>[0-9]{4})\.[ ]*(?P<m>[0-9]{1,2})\.[ ]*(?P<d>[0-9]{1,2})\.?"
    r"(?:[ ]+(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?)?"
)


def reference_timestamp(text: str) -> dt.datetime | None:
    m = _ISO_RE.fullmatch(text.strip(" \t")) or _DOTTED_RE.fullmatch(text.strip(" \t"))
    if m is None:
        return None
    g = m.groupdict()
    hh, mm, ss = (int(g[k]) if g[k] else 0 for k in ("H", "M", "S"))
    if not 1900 <= int(g["y"]) <= 2999 or hh > 23 or mm > 59 or ss > 59:
        return None
    try:
        stamp = dt.datetime(int(g["y"]), int(g["m"]), int(g["d"]), hh, mm, ss)
    except ValueError:
        return None
    tz = g.get("tz")
    if tz:
        digits = "".join(c for c in tz if c.isdigit())
        hours, mins = int(digits[:2] or 0), int(digits[2:4] or 0)
        if hours > 14 or mins > 59:
            return None
        stamp += dt.timedelta(minutes=9 * 60 - (-1 if tz.startswith("-") else 1) * (hours * 60 + mins))
    return stamp


_num = (
    st.integers(0, 99).map(str)
    | st.integers(0, 9).map(lambda n: f"0{n}")
    | st.sampled_from(["60", "24", "1", "00"])
)
_year = st.sampled_from(["1899", "1900", "2020", "2999", "3000", "0202", "20200"])
_zone = st.sampled_from(
    ["", "Z", "z", "+09:00", "-05:00", "+0900", "+09", "-1500", "+14:59", "+0960", " +09:00"]
)


@st.composite
def _date_texts(draw) -> str:
    sep = draw(st.sampled_from(["-", ".", ". ", "/"]))
    text = draw(_year) + sep + draw(_num) + sep + draw(_num) + draw(st.sampled_from(["", "."]))
    if draw(st.booleans()):
        text += draw(st.sampled_from(["T", " ", "  "])) + draw(_num) + ":" + draw(_num)
        if draw(st.booleans()):
            text += ":" + draw(_num) + draw(st.sampled_from(["", ".123", ",5"]))
    text += draw(_zone)
    return draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " "]))


@settings(max_examples=400, deadline=None)
@given(st.lists(_date_texts(), min_size=1, max_size=30))
def test_the_date_parser_agrees_with_the_rule_written_value_by_value(texts):
    got = parsing.parse_timestamp(pl.Series(texts, dtype=pl.String)).to_list()
    assert got == [reference_timestamp(t) for t in texts]
