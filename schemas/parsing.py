"""Vectorised parsers for the contract's value formats: dates, numbers, scores, e-mails.

Used twice on purpose: by the Pandera checks (is this value acceptable?) and by the
staging transform (what does it mean?), so the two can never disagree. Polars Series in,
Polars Series out (Rust regexes: `[0-9]`, never `\\d`, which there matches every Unicode digit).
"""

from __future__ import annotations

import functools

import polars as pl

# 2020-03-15, 2020-03-15T09:30, 2020-03-15 09:30:00.123+09:00, ...Z
_ISO = (
    r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
    r"(?:[T ](?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:[.,][0-9]+)?)?)?"
    r"[ ]?(?P<tz>Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)
# 2020.03.15 / 2020. 3. 15. / 2020.3.15 09:30
_DOTTED = (
    r"^(?P<y>[0-9]{4})\.[ ]*(?P<m>[0-9]{1,2})\.[ ]*(?P<d>[0-9]{1,2})\.?"
    r"(?:[ ]+(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?)?$"
)
SEOUL_OFFSET_MIN = 9 * 60
_NUMBER = r"^(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?:[eE][+]?[0-9]{1,2})?$"
_SCORE = r"^[1-5](?:\.0+)?$"
EMAIL = r"^[^@ \t\r\n\f\v<>(),;:\"]+@[^@ \t\r\n\f\v<>(),;:\"]+\.[^@ \t\r\n\f\v<>(),;:\".]{2,}$"

# Each parser's table of its previous call (distinct text -> value): staging parses the rows
# validation just parsed, so it finds every value there.
_LAST: dict[str, pl.DataFrame] = {}


def _per_distinct(parse):
    """Run a parser once per distinct text, not once per row (dates and codes repeat a lot),
    and not again for the texts of its previous call. Missing in, missing out."""

    @functools.wraps(parse)
    def wrapper(values: pl.Series) -> pl.Series:
        values = values.cast(pl.String)
        texts = values.drop_nulls().unique()
        last = _LAST.get(parse.__name__)
        if last is None or not texts.is_in(last["text"].implode()).all():
            last = pl.DataFrame({"text": texts, "value": parse(texts)})
            _LAST[parse.__name__] = last
        joined = values.to_frame("text").join(last, on="text", how="left", maintain_order="left")
        return joined["value"].alias(values.name)

    return wrapper


def _strip(values: pl.Series) -> pl.Series:
    return values.cast(pl.String).str.strip_chars()


def _timestamps(text: pl.Expr) -> pl.Expr:
    """Text -> naive Seoul datetime, null where not a valid contract date."""
    iso, dotted = text.str.extract_groups(_ISO), text.str.extract_groups(_DOTTED)

    def part(name: str) -> pl.Expr:
        return pl.coalesce(iso.struct.field(name), dotted.struct.field(name)).cast(pl.Int32)

    y, mo, d = part("y"), part("m"), part("d")
    hh, mm, ss = (part(k).fill_null(0) for k in ("H", "M", "S"))
    tz = iso.struct.field("tz")
    digits = tz.str.replace_all("[^0-9]", "")
    tz_h = digits.str.slice(0, 2).cast(pl.Int32, strict=False).fill_null(0)
    tz_m = digits.str.slice(2, 2).cast(pl.Int32, strict=False).fill_null(0)
    ok = y.is_between(1900, 2999) & (hh <= 23) & (mm <= 59) & (ss <= 59)
    ok = ok & (tz.is_null() | ((tz_h <= 14) & (tz_m <= 59)))
    # An impossible day (2020-02-30) does not parse: null.
    stamp = pl.format("{}-{}-{} {}:{}:{}", y, mo, d, hh, mm, ss).str.to_datetime(
        "%Y-%m-%d %H:%M:%S", strict=False, time_unit="us"
    )
    # A zone given: shift to Seoul local time; no zone means Seoul already.
    offset = pl.when(tz.str.starts_with("-")).then(-1).otherwise(1) * (tz_h * 60 + tz_m)
    shift = pl.when(tz.is_null()).then(0).otherwise(SEOUL_OFFSET_MIN - offset)
    return pl.when(ok).then(stamp + pl.duration(minutes=shift))


# The usual zone-less forms, two digits per field: parsed straight by Polars' strptime (the
# full regex path costs twice as much). A value of these forms means the same under both.
_HMS = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?"
_PLAIN = (
    rf"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}(?:[T ]{_HMS})?$|^[0-9]{{4}}\.[0-9]{{2}}\.[0-9]{{2}}(?: {_HMS})?$"
)


def _plain_timestamps(text: pl.Expr) -> pl.Expr:
    full = text.str.replace_all(".", "-", literal=True).str.replace("T", " ", literal=True)
    full = pl.when(full.str.len_bytes() == 10).then(full + " 00:00:00").otherwise(full)
    full = pl.when(full.str.len_bytes() == 16).then(full + ":00").otherwise(full)
    stamp = full.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
    return pl.when(stamp.dt.year().is_between(1900, 2999)).then(stamp)


@_per_distinct
def parse_timestamp(values: pl.Series) -> pl.Series:
    """Text -> naive Asia/Seoul timestamps (Datetime us); null where not a valid contract date."""
    frame = values.to_frame("t").with_columns(pl.col("t").str.strip_chars())
    plain = frame["t"].str.contains(_PLAIN).fill_null(False)
    out = frame.select(pl.when(plain).then(_plain_timestamps(pl.col("t")))).to_series()
    if not plain.all():
        rest = frame.filter(~plain).select(_timestamps(pl.col("t"))).to_series()
        out = out.scatter((~plain).arg_true(), rest)
    return out


@_per_distinct
def parse_number(values: pl.Series) -> pl.Series:
    """Text like `1,200,000` or `1200000.50` -> float; null where not a finite number >= 0."""
    text = _strip(values)
    out = text.str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False)
    return pl.select(pl.when(text.str.contains(_NUMBER) & out.is_finite()).then(out)).to_series()


@_per_distinct
def parse_score(values: pl.Series) -> pl.Series:
    """Text `1`..`5` (or `4.0` from spreadsheets) -> Int64; null where blank or not a valid score."""
    text = _strip(values)
    score = text.str.slice(0, 1).cast(pl.Int64, strict=False)
    return pl.select(pl.when(text.str.contains(_SCORE)).then(score)).to_series()


def is_email(values: pl.Series) -> pl.Series:
    """True where the text looks like one e-mail address."""
    return _strip(values).str.contains(EMAIL).fill_null(False)


def normalize_token(values: pl.Series) -> pl.Series:
    """Enumerated values match without regard to case and surrounding spaces."""
    return _strip(values).str.to_lowercase()
