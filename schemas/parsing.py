"""Vectorised parsers for the contract's value formats: dates, numbers, scores, e-mails.

Used twice on purpose: by the Pandera checks (is this value acceptable?) and by the
staging transform (what does it mean?), so the two can never disagree.
Regexes avoid \\s and \\S: pandas 3.1 sends such patterns to Python's re row by row.
"""

from __future__ import annotations

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


def parse_timestamp(values: pd.Series) -> pd.Series:
    """Text -> naive Asia/Seoul timestamps (datetime64[us]); NaT where not a valid contract date."""
    text = _strip(values)
    parts = text.str.extract(_ISO)
    dotted = text.str.extract(_DOTTED)
    use_dotted = parts["y"].isna() & dotted["y"].notna()
    for col in ("y", "m", "d", "H", "M", "S"):
        parts[col] = parts[col].where(~use_dotted, dotted[col])
    parts.loc[use_dotted, "tz"] = pd.NA
    num = {c: pd.to_numeric(parts[c], errors="coerce") for c in ("y", "m", "d", "H", "M", "S")}
    ok = num["y"].between(1900, 2999) & num["H"].fillna(0).le(23) & num["M"].fillna(0).le(59)
    ok &= num["S"].fillna(0).le(59)
    stamp = pd.to_datetime(
        pd.DataFrame(
            {
                "year": num["y"].where(ok),
                "month": num["m"].where(ok),
                "day": num["d"].where(ok),
                "hour": num["H"].fillna(0),
                "minute": num["M"].fillna(0),
                "second": num["S"].fillna(0),
            }
        ),
        errors="coerce",
    ).astype("datetime64[us]")
    # A zone given: shift to Seoul local time. No zone means Seoul already.
    tz = parts["tz"].astype("str")
    sign = np.where(tz.str.startswith("-"), -1, 1)
    digits = tz.str.replace(r"[^0-9]", "", regex=True)
    hours = pd.to_numeric(digits.str.slice(0, 2), errors="coerce").fillna(0)
    mins = pd.to_numeric(digits.str.slice(2, 4), errors="coerce").fillna(0)
    offset = pd.Series(sign * (hours * 60 + mins), index=values.index)
    has_tz = tz.notna()
    valid_tz = ~has_tz | (hours.le(14) & mins.le(59))
    shift = (SEOUL_OFFSET_MIN - offset).where(has_tz, 0)
    stamp = stamp + pd.to_timedelta(shift, unit="m")
    return stamp.where(valid_tz)


def parse_number(values: pd.Series) -> pd.Series:
    """Text like `1,200,000` or `1200000.50` -> float; NaN where not a finite number >= 0."""
    text = _strip(values)
    good = text.str.fullmatch(_NUMBER).fillna(False).astype(bool)
    out = pd.to_numeric(text.where(good).str.replace(",", "", regex=False), errors="coerce")
    return out.where(np.isfinite(out.astype("float64")))


def parse_score(values: pd.Series) -> pd.Series:
    """Text `1`..`5` (or `4.0` from spreadsheets) -> Int64; NA where blank or not a valid score."""
    text = _strip(values)
    good = text.str.fullmatch(_SCORE).fillna(False).astype(bool)
    return pd.to_numeric(text.where(good).str.slice(0, 1), errors="coerce").astype("Int64")


def is_email(values: pd.Series) -> pd.Series:
    """True where the text looks like one e-mail address."""
    return _strip(values).str.fullmatch(EMAIL).fillna(False).astype(bool)


def normalize_token(values: pd.Series) -> pd.Series:
    """Enumerated values match without regard to case and surrounding spaces."""
    return _strip(values).str.lower()
