"""Regenerate schemas/data/countries.csv and country_aliases.csv from pycountry.

Run once when ISO 3166-1 changes: `uv pip install pycountry==26.2.16` into any venv,
then `python tools/build_country_table.py`. The pipeline never imports pycountry:
the committed CSVs are the reviewable source of truth, and manual aliases (the names
people actually write, in English and Korean) live in schemas/data/country_aliases_manual.csv.
"""

import csv
import gettext
from pathlib import Path

import pycountry

OUT = Path(__file__).resolve().parents[1] / "schemas" / "data"


def main() -> None:
    ko = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ko"])
    countries, aliases = [], []
    for c in sorted(pycountry.countries, key=lambda c: c.alpha_3):
        short = getattr(c, "common_name", None) or c.name
        name_ko = ko.gettext(c.name)
        countries.append((c.alpha_3, c.alpha_2, short, name_ko))
        aliases += [(c.alpha_3, c.alpha_3, "alpha3"), (c.alpha_2, c.alpha_3, "alpha2")]
        for kind, value in (
            ("name", c.name),
            ("common_name", getattr(c, "common_name", None)),
            ("official_name", getattr(c, "official_name", None)),
            ("korean", name_ko if name_ko != c.name else None),
        ):
            if value:
                aliases.append((value, c.alpha_3, kind))
    with open(OUT / "countries.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["iso3", "iso2", "name_en", "name_ko"])
        w.writerows(countries)
    with open(OUT / "country_aliases_iso.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["alias", "iso3", "kind"])
        w.writerows(aliases)


if __name__ == "__main__":
    main()
