"""Vectorised parsers for the contract's value formats: dates, numbers, scores, e-mails.

Used twice on purpose: by the Pandera checks (is this value acceptable?) and by the
staging transform (what does it mean?), so the two can never disagree.
Regexes avoid \\s and \\S: pandas 3.1 sends such patterns to Python's re row by row.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import numpy as np
import pandas as pd

# 2020-03-15, 2020-03-15T09:30, 2020-03-15 09:30:00.123+09:00, ...Z
_ISO = (
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?)?"
    r"[ ]?(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
# 2020.03.15 / 2020. 3. 15. / 2020.3.15 09:30
_DOTTED = (
    r"^(?P<y>\d{4})\.[ ]*(?P<m>\d{1,2})\.[ ]*(?P<d>\d{1,2})\.?"
    r"(?:[ ]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?$"
)
SEOUL_OFFSET_MIN = 9 * 60
_NUMBER = r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+]?\d{1,2})?$"
_SCORE = r"^[1-5](?:\.0+)?$"
EMAIL = r"^[^@ \t\r\n\f\v<>(),;:\"]+@[^@ \t\r\n\f\v<>(),;:\"]+\.[^@ \t\r\n\f\v<>(),;:\".]{2,}$"


def _strip(values: pd.Series) -> pd.Series:
    return values.astype("str").str.strip()


# Each parser's results of its previous call, by distinct text: staging parses the rows
# validation just parsed, so it finds every value here.
_LAST: dict[str, pd.Series] = {}


def _per_distinct(parse):
    """Run a parser once per distinct text, not once per row (dates and codes repeat a lot),
    and not again for the texts of its previous call."""

    @functools.wraps(parse)
    def wrapper(values: pd.Series) -> pd.Series:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        last = _LAST.get(parse.__name__)
        found = last.index.get_indexer(uniques) if last is not None else None
        if found is not None and (found >= 0).all():
            parsed = last.take(found).reset_index(drop=True)
        else:
            parsed = parse(pd.Series(uniques, dtype=values.dtype)).reset_index(drop=True)
            _LAST[parse.__name__] = parsed.set_axis(pd.Index(uniques))
        # One more entry: the parsed value of a missing input.
        table = pd.concat([parsed, parse(pd.Series([None], dtype=values.dtype))], ignore_index=True)
        out = table.take(np.where(codes < 0, len(uniques), codes))
        out.index, out.name = values.index, values.name
        return out

    return wrapper


_ISO_RE = re.compile(_ISO.replace(r"\d", "[0-9]"))
_DOTTED_RE = re.compile(_DOTTED.replace(r"\d", "[0-9]"))


def _one_timestamp(text: str | None) -> dt.datetime | None:
    """One text -> naive Seoul datetime, None where not a valid contract date."""
    if text is None:
        return None
    text = text.strip()
    m = _ISO_RE.match(text) or _DOTTED_RE.match(text)
    if m is None:
        return None
    g = m.groupdict()
    y, mo, d = int(g["y"]), int(g["m"]), int(g["d"])
    hh, mm, ss = (int(g[k]) if g[k] else 0 for k in ("H", "M", "S"))
    if not 1900 <= y <= 2999 or hh > 23 or mm > 59 or ss > 59:
        return None
    try:
        stamp = dt.datetime(y, mo, d, hh, mm, ss)
    except ValueError:  # 2020-02-30
        return None
    tz = g.get("tz")
    if tz:  # a zone given: shift to Seoul local time; no zone means Seoul already
        digits = "".join(c for c in tz if c.isdigit())
        hours, mins = int(digits[:2] or 0), int(digits[2:4] or 0)
        if hours > 14 or mins > 59:
            return None
        offset = (-1 if tz.startswith("-") else 1) * (hours * 60 + mins)
        stamp += dt.timedelta(minutes=SEOUL_OFFSET_MIN - offset)
    return stamp


# Zone-less forms that pandas parses in C; every value they do not fit goes to the full
# parser. A value they fit means the same under both (no zone = Seoul time).
_FAST_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y.%m.%d")


@_per_distinct
def parse_timestamp(values: pd.Series) -> pd.Series:
    """Text -> naive Asia/Seoul timestamps (datetime64[us]); NaT where not a valid contract date."""
    text = values.astype("str").str.strip()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    todo = text.notna().to_numpy().copy()
    for fmt in _FAST_FORMATS:
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce").astype("datetime64[us]")
        ok = parsed.notna() & parsed.dt.year.between(1900, 2999)
        out[parsed.index[ok]] = parsed[ok]
        todo[np.flatnonzero(todo)[ok.to_numpy()]] = False
    rest = text[todo].astype("object")
    out[rest.index] = pd.Series([_one_timestamp(v) for v in rest], index=rest.index, dtype="datetime64[us]")
    return out


@_per_distinct
def parse_number(values: pd.Series) -> pd.Series:
    """Text like `1,200,000` or `1200000.50` -> float; NaN where not a finite number >= 0."""
    text = _strip(values)
    good = text.str.fullmatch(_NUMBER).fillna(False).astype(bool)
    out = pd.to_numeric(text.where(good).str.replace(",", "", regex=False), errors="coerce")
    return out.where(np.isfinite(out.astype("float64")))


@_per_distinct
def parse_score(values: pd.Series) -> pd.Series:
    """Text `1`..`5` (or `4.0` from spreadsheets) -> Int64; NA where blank or not a valid score."""
    text = _strip(values)
    good = text.str.fullmatch(_SCORE).fillna(False).astype(bool)
    return pd.to_numeric(text.where(good).str.slice(0, 1), errors="coerce").astype("Int64")


@_per_distinct
def is_email(values: pd.Series) -> pd.Series:
    """True where the text looks like one e-mail address."""
    return _strip(values).str.fullmatch(EMAIL).fillna(False).astype(bool)


def normalize_token(values: pd.Series) -> pd.Series:
    """Enumerated values match without regard to case and surrounding spaces."""
    return _strip(values).str.lower()
