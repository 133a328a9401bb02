"""Contract-conforming deliveries at any size, for the benchmark (deterministic per seed).

Submissions: CSV form exports over several delivery days (~420 bytes a row). Feedback:
three reviews per request from five ministries, as CSV (one ministry in CP949 with Korean
headers) plus a few XLSX files. About 1% of rows break a rule, cycling through every kind
the contract names; `manifest.json` records, per file, how many rows it holds and how many
must end in quarantine, so a run over the inbox can be reconciled exactly.

    python bench/generate.py --out /tmp/bench --rows 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

SUB_FIELDS = [
    "submission_id", "submitted_at", "country", "institution", "institution_type", "track",
    "category", "project_title", "description", "budget_usd", "contact_name", "contact_email", "status",
]  # fmt: skip
FB_FIELDS = ["submission_id", "ministry", "cooperation", "prospects", "business", "comment", "reviewed_at"]
KOREAN_FB = ["제출번호", "부처", "정부간협력", "사업전망", "기업협력", "의견", "검토일"]
MINISTRIES = ["MOFA", "MOEF", "KOTRA", "KOICA", "KIND"]
CP949_MINISTRY = "MOEF"
COUNTRIES = [
    "Indonesia", "Viet Nam", "Vietnam", "VNM", "the Philippines", "India", "Türkiye", "Turkey",
    "Lao PDR", "Thailand", "Cambodia", "Mongolia", "Uzbekistan", "Kazakhstan", "Colombia",
    "Egypt", "Kenya", "Ghana", "Ethiopia", "Peru", "Chile", "Rwanda", "인도네시아", "베트남",
]  # fmt: skip
PAIRS = [
    ("urban_development", c)
    for c in ["new_city", "station_area", "industrial_complex", "roadmap", "airport_relocation", "urban_regeneration"]
] + [
    ("smart_solution", c)
    for c in ["ai_transport", "e_government", "data_center", "water_sewage", "waste", "energy", "safety"]
] + [("other", "capacity_building"), ("other", "other")]  # fmt: skip
WORDS = (
    "feasibility study for integrated transport corridor, water supply, district heating, "
    'smart metering and "digital twin" pilots; capacity building for municipal staff, '
    "public-private partnership structuring and environmental assessment"
).split(" ")
# Bad-row kinds, each a rule the contract names (applied round-robin to 1% of rows).
SUB_BAD = [
    "required", "length_1_64", "date_format", "country_known", "max_length_300",
    "institution_type_allowed", "track_allowed", "category_in_track", "number_non_negative",
    "email_format", "status_allowed", "unique_within_file", "field_count",
]  # fmt: skip
FB_BAD = ["required", "score_1_to_5", "at_least_one_score", "date_format", "field_count"]
BAD_SHARE = 0.01
START = dt.date(2020, 3, 2)


def _text_pool(rng: np.random.Generator, n: int, words: int) -> np.ndarray:
    return np.array([" ".join(rng.choice(WORDS, words)) for _ in range(n)], dtype=object)


def _bad_rows(rng: np.random.Generator, n: int, kinds: list[str]) -> dict[int, str]:
    picks = np.sort(rng.choice(n, size=max(len(kinds), int(n * BAD_SHARE)), replace=False))
    return {int(i): kinds[k % len(kinds)] for k, i in enumerate(picks)}


def _write_csv(frame: pd.DataFrame, path: Path, ragged: list[int], encoding: str = "utf-8") -> None:
    """CSV as a form tool exports it; `ragged` rows (positions) get one stray extra field."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = frame.to_csv(index=False, lineterminator="\n")
    if ragged:
        lines = text.split("\n")  # no quoted line breaks in generated rows
        for pos in ragged:
            lines[pos + 1] += ",stray"
        text = "\n".join(lines)
    path.write_bytes(text.encode(encoding))


def submissions(rng: np.random.Generator, n: int, offset: int) -> tuple[pd.DataFrame, dict[int, str]]:
    """n form rows with ids from `offset`, ~1% broken; returns (rows as text, position -> bad kind)."""
    ids = np.char.add("KCN-B-", np.arange(offset, offset + n).astype(str))
    minutes = rng.integers(0, 60 * 24 * 20, n)
    stamps = pd.Timestamp("2020-02-10 08:00") + pd.to_timedelta(minutes, unit="m")
    style = rng.integers(0, 3, n)
    submitted = np.where(
        style == 0,
        stamps.strftime("%Y-%m-%dT%H:%M:%S"),
        np.where(style == 1, stamps.strftime("%Y-%m-%d %H:%M"), stamps.strftime("%Y.%m.%d")),
    )
    pair = rng.integers(0, len(PAIRS), n)
    country = np.array(COUNTRIES, dtype=object)[rng.integers(0, len(COUNTRIES), n)]
    budget = rng.integers(1, 500, n) * 25_000
    frame = pd.DataFrame(
        {
            "submission_id": ids,
            "submitted_at": submitted,
            "country": country,
            "institution": np.char.add("Ministry of Urban Affairs no. ", (np.arange(n) % 97).astype(str)),
            "institution_type": np.array(
                ["central_government", "local_government", "public_agency", ""], dtype=object
            )[np.arange(n) % 4],
            "track": np.array([p[0] for p in PAIRS], dtype=object)[pair],
            "category": np.array([p[1] for p in PAIRS], dtype=object)[pair],
            "project_title": np.char.add(
                "Smart city master plan, phase ", (np.arange(n) % 5 + 1).astype(str)
            ),
            "description": _text_pool(rng, 997, 30)[np.arange(n) % 997],
            "budget_usd": np.where(np.arange(n) % 3 == 0, [f"{b:,}" for b in budget], budget.astype(str)),
            "contact_name": np.char.add("Contact Person ", (np.arange(n) % 1000).astype(str)),
            "contact_email": np.char.add(
                np.char.add("contact", (np.arange(n) % 1000).astype(str)), "@gov.example.org"
            ),
            "status": np.array(["submitted", "", "submitted", "withdrawn"], dtype=object)[
                np.where(np.arange(n) % 50 == 0, 3, np.arange(n) % 3)
            ],
        }
    ).astype(object)
    bad = _bad_rows(rng, n, SUB_BAD)
    for pos, kind in bad.items():
        col = {
            "required": ("institution", ""),
            "length_1_64": ("submission_id", "X" * 70 + str(pos)),
            "date_format": ("submitted_at", "2020-02-30"),
            "country_known": ("country", "Atlantis"),
            "max_length_300": ("project_title", "T" * 301),
            "institution_type_allowed": ("institution_type", "ngo"),
            "track_allowed": ("track", "space"),
            "category_in_track": None,
            "number_non_negative": ("budget_usd", "-5"),
            "email_format": ("contact_email", "no-at-sign.example.org"),
            "status_allowed": ("status", "pending"),
            "unique_within_file": ("submission_id", frame.at[0, "submission_id"]),  # across batches
            "field_count": None,
        }[kind]
        if kind == "category_in_track":
            frame.at[pos, "track"], frame.at[pos, "category"] = "urban_development", "waste"
        elif col:
            frame.at[pos, col[0]] = col[1]
    if any(k == "unique_within_file" for k in bad.values()) and 0 not in bad:
        bad[0] = "unique_within_file"  # the first row's id is repeated: it is quarantined too
    return frame, bad


def feedback(
    rng: np.random.Generator, ids: np.ndarray, ministry: str, day: dt.date
) -> tuple[pd.DataFrame, dict]:
    n = len(ids)
    scores = rng.integers(1, 6, (n, 3)).astype(str).astype(object)
    scores[np.arange(n) % 7 == 0, 2] = ""  # "not rated"
    frame = pd.DataFrame(
        {
            "submission_id": ids,
            "ministry": ministry,
            "cooperation": scores[:, 0],
            "prospects": scores[:, 1],
            "business": scores[:, 2],
            "comment": np.array(["", "협력 가능성 높음", "follow up with the embassy"], dtype=object)[
                np.arange(n) % 3
            ],
            "reviewed_at": day.isoformat(),
        }
    ).astype(object)
    bad = _bad_rows(rng, n, FB_BAD)
    for pos, kind in bad.items():
        if kind == "required":
            frame.at[pos, "submission_id"] = ""
        elif kind == "score_1_to_5":
            frame.at[pos, "cooperation"] = "6"
        elif kind == "at_least_one_score":
            frame.loc[pos, ["cooperation", "prospects", "business"]] = ""
        elif kind == "date_format":
            frame.at[pos, "reviewed_at"] = "2020-04-31"
    return frame, bad


def _xlsx(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    book.set_properties({"created": dt.datetime(2020, 1, 1)})
    sheet = book.add_worksheet("Export")
    sheet.write_row(0, 0, list(frame.columns))
    for i, row in enumerate(frame.itertuples(index=False), 1):
        for j, v in enumerate(row):
            if v != "":
                sheet.write_string(i, j, str(v))
    book.close()


def generate(out: Path, rows: int, days: int = 5, seed: int = 2020, xlsx_rows: int | None = None) -> dict:
    """Write the inbox under out/inbox and out/manifest.json; return the manifest."""
    rng = np.random.default_rng(seed)
    inbox = out / "inbox"
    manifest: dict = {"rows": rows, "files": {}}

    def record(rel: str, n: int, bad: dict) -> None:
        manifest["files"][rel] = {"rows": n, "quarantined": len(bad)}

    per_day = -(-rows // days)
    all_ids = []
    for d in range(days):
        n = min(per_day, rows - d * per_day)
        frame, bad = submissions(rng, n, d * per_day)
        ragged = [p for p, k in bad.items() if k == "field_count"]
        rel = f"submissions/{START + dt.timedelta(days=d)}/form_export_{d + 1}.csv"
        _write_csv(frame, inbox / rel, ragged)
        record(rel, n, bad)
        all_ids.append(np.char.add("KCN-B-", np.arange(d * per_day, d * per_day + n).astype(str)))
    ids = np.concatenate(all_ids)
    # Three reviews per request, each from a different ministry, over three feedback days.
    xlsx_left = 3
    for r in range(3):
        day = START + dt.timedelta(days=days + r)
        for m, ministry in enumerate(MINISTRIES):
            mine = ids[(np.arange(len(ids)) + r) % len(MINISTRIES) == m]
            frame, bad = feedback(rng, mine, ministry, day)
            if xlsx_left and ministry == "KIND":
                # A few XLSX deliveries: KIND's reviews of the day, split off 2% of them.
                cut = max(1, len(frame) // 50)
                part = frame.iloc[:cut]
                rel = f"feedback/{day}/KIND_reviews_{r + 1}.xlsx"
                _xlsx(part, inbox / rel)
                record(rel, len(part), {p: k for p, k in bad.items() if p < cut and k != "field_count"})
                xlsx_left -= 1
                frame = frame.iloc[cut:].reset_index(drop=True)
                bad = {p - cut: k for p, k in bad.items() if p >= cut}
            ragged = [p for p, k in bad.items() if k == "field_count"]
            if ministry == CP949_MINISTRY:
                frame.columns = KOREAN_FB
                rel = f"feedback/{day}/{ministry}_검토결과_{r + 1}.csv"
                _write_csv(frame, inbox / rel, ragged, encoding="cp949")
            else:
                rel = f"feedback/{day}/{ministry}_feedback_{r + 1}.csv"
                _write_csv(frame, inbox / rel, ragged)
            record(rel, len(frame), bad)
    manifest["last_day"] = str(START + dt.timedelta(days=days + 2))
    if xlsx_rows:
        frame, _ = submissions(np.random.default_rng(seed + 1), xlsx_rows, 10_000_000)
        frame["country"] = "Indonesia"
        _xlsx(frame, out / "xlsx" / "form_export.xlsx")
        manifest["xlsx"] = {"path": "xlsx/form_export.xlsx", "rows": xlsx_rows}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return manifest


def one_day(out: Path, day: dt.date, rows: int = 1000, seed: int = 7) -> str:
    """A further small delivery (new ids) dated `day`; returns its inbox path."""
    frame, _ = submissions(np.random.default_rng(seed), rows, 50_000_000)
    rel = f"submissions/{day}/late_export.csv"
    _write_csv(frame, out / "inbox" / rel, [])
    return rel


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--days", type=int, default=5)
    p.add_argument("--xlsx-rows", type=int, default=0)
    args = p.parse_args()
    m = generate(args.out, args.rows, args.days, xlsx_rows=args.xlsx_rows or None)
    total = sum(f["rows"] for f in m["files"].values())
    print(f"{len(m['files'])} files, {total:,} rows under {args.out / 'inbox'}")


if __name__ == "__main__":
    main()
