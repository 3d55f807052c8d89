"""Message catalogues and locale formatting (English and Norwegian Bokmål) for the pages people read.

Every user-facing sentence of the summary and the resident page comes from
``analysis/locale/messages.csv`` (key, en, nb); names from the registry and the investment themes
are translated through ``analysis/locale/names.csv`` (a name without a translation, e.g. from a
city's own data, stays as given). Numbers, percentages and lists are formatted per locale by Babel
(``95 424`` and ``2,74 %`` in Bokmål, with no-break spaces as the CLDR data has them).
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent

LOCALE = Path(__file__).with_name("locale")
LANGUAGES = ("en", "nb")


def check_lang(lang: str) -> str:
    """The language code itself, or a ValueError naming the languages there are."""
    if lang not in LANGUAGES:
        raise ValueError(f"language '{lang}' is not supported; expected one of {', '.join(LANGUAGES)}")
    return lang


@functools.cache
def catalogue(name: str = "messages") -> dict[str, dict[str, str]]:
    """A catalogue of ``analysis/locale/<name>.csv`` as {first column: {language: text}}."""
    path = LOCALE / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    key = next(iter(rows[0]))
    out: dict[str, dict[str, str]] = {}
    for number, row in enumerate(rows, start=2):
        missing = [lang for lang in LANGUAGES if not (row.get(lang) or "").strip()]
        if missing:
            raise ValueError(f"{path}: row {number} ({row[key]}): no text for {', '.join(missing)}")
        out[row[key]] = {lang: row[lang] for lang in LANGUAGES}
    return out


def message(key: str, lang: str, **fields: object) -> str:
    """The catalogue text of ``key`` in ``lang`` with its ``{fields}`` filled in."""
    return catalogue("messages")[key][check_lang(lang)].format(**fields)


def name(text: str, lang: str) -> str:
    """A registry or theme name in ``lang``; names without a translation stay as given."""
    entry = catalogue("names").get(text)
    return entry[check_lang(lang)] if entry else text


def number(value: float, lang: str, decimals: int = 0) -> str:
    """A number to at most ``decimals`` places with the locale's separators ('95 424', '2,5').

    Thousands are grouped from 10 000 on, so that years and four-digit numbers stay whole ('2024').
    """
    fmt = ("#,##0" if abs(float(value)) >= 10_000 else "0") + ("." + "#" * decimals if decimals else "")
    return format_decimal(round(float(value), decimals), format=fmt, locale=check_lang(lang))


def percent(value: float, lang: str, decimals: int = 0) -> str:
    """A percentage given in percent units (2.74 → '2,74 %' in Bokmål, '2.74%' in English)."""
    pattern = Locale.parse(check_lang(lang)).percent_formats[None].pattern
    head, _, tail = pattern.rpartition("0")
    fmt = head + "0" + ("." + "0" * decimals if decimals else "") + tail
    return format_percent(float(value) / 100.0, format=fmt, locale=lang)


def join(items: Iterable[str], lang: str) -> str:
    """Items as a list in words ('a, b and c'; 'a, b og c')."""
    return format_list(list(items), locale=check_lang(lang))


def date(value, lang: str) -> str:
    """A date in the locale's long form ('1 December 2026'; '1. desember 2026')."""
    return format_date(value, format="long", locale=check_lang(lang))
