"""The date-normalisation task: dates written the ways people write them, and their ISO form.

A small sequence-to-sequence problem that needs no download: each source is a date
in one of many human formats, each target the same date as ``YYYY-MM-DD``::

    "3rd of March 1998"  -> "1998-03-03"
    "03/03/98"           -> "1998-03-03"
    "Tuesday, March 3, 1998" -> "1998-03-03"

Every source has exactly one reading, so a perfect model exists:

* numeric dates with slashes are month first (US: ``03/14/98``), with dots day
  first (``14.03.1998``); a 4-digit year written first is year-month-day;
* two-digit years mean 1950-2049 (``98`` is 1998, ``07`` is 2007), which is why
  every date is drawn from 1950-01-01 .. 2049-12-31.

`date_pairs` draws them reproducibly from a seed; `DATE_FORMATS` names the formats.

>>> date_pairs(3, seed=1)
[('February 9, 1974', '1974-02-09'), ('October 8th, 1995', '1995-10-08'), ('23.11.38', '2038-11-23')]
>>> format_date(datetime.date(1998, 3, 3), "ordinal_of")
'3rd of March 1998'
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Sequence

from lstmkit.errors import ConfigError

__all__ = ["date_pairs", "format_date", "DATE_FORMATS", "FIRST_DATE", "LAST_DATE"]

FIRST_DATE = datetime.date(1950, 1, 1)
LAST_DATE = datetime.date(2049, 12, 31)

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _month(d: datetime.date) -> str:
    return _MONTHS[d.month - 1]


def _mon(d: datetime.date) -> str:
    return _MONTHS[d.month - 1][:3]


def _yy(d: datetime.date) -> str:
    return f"{d.year % 100:02d}"


# name -> how a date is written; every format reads back to exactly one date in range
DATE_FORMATS: dict[str, Callable[[datetime.date], str]] = {
    "ordinal_of": lambda d: f"{_ordinal(d.day)} of {_month(d)} {d.year}",  # 3rd of March 1998
    "the_ordinal_of": lambda d: f"the {_ordinal(d.day)} of {_month(d)}, {d.year}",  # the 3rd of March, 1998
    "month_day_year": lambda d: f"{_month(d)} {d.day}, {d.year}",  # March 3, 1998
    "month_ordinal_year": lambda d: f"{_month(d)} {_ordinal(d.day)}, {d.year}",  # March 3rd, 1998
    "day_month_year": lambda d: f"{d.day} {_month(d)} {d.year}",  # 3 March 1998
    "weekday_month_day_year": lambda d: f"{_WEEKDAYS[d.weekday()]}, {_month(d)} {d.day}, {d.year}",
    "weekday_day_month_year": lambda d: f"{_WEEKDAYS[d.weekday()][:3]} {d.day} {_mon(d)} {d.year}",  # Tue 3 Mar 1998
    "mon_day_year": lambda d: f"{_mon(d)} {d.day} {d.year}",  # Mar 3 1998
    "day_mon_yy": lambda d: f"{d.day:02d}-{_mon(d)}-{_yy(d)}",  # 03-Mar-98
    "day_mon_year_lower": lambda d: f"{d.day} {_mon(d).lower()} {d.year}",  # 3 mar 1998
    "month_day_year_upper": lambda d: f"{_month(d).upper()} {d.day}, {d.year}",  # MARCH 3, 1998
    "us_slash_yy": lambda d: f"{d.month:02d}/{d.day:02d}/{_yy(d)}",  # 03/03/98
    "us_slash_year": lambda d: f"{d.month}/{d.day}/{d.year}",  # 3/3/1998
    "eu_dot_year": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",  # 03.03.1998
    "eu_dot_yy": lambda d: f"{d.day}.{d.month}.{_yy(d)}",  # 3.3.98
    "year_slash": lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",  # 1998/03/03
    "year_dot": lambda d: f"{d.year}.{d.month:02d}.{d.day:02d}",  # 1998.03.03
    "compact": lambda d: f"{d.year}{d.month:02d}{d.day:02d}",  # 19980303
}


def format_date(date: datetime.date, fmt: str) -> str:
    """Write ``date`` in the named format (a key of `DATE_FORMATS`).

    >>> format_date(datetime.date(2007, 11, 22), "us_slash_yy"), format_date(datetime.date(2007, 11, 22), "eu_dot_yy")
    ('11/22/07', '22.11.07')
    """
    if fmt not in DATE_FORMATS:
        raise ConfigError(f"unknown date format {fmt!r}; known: {', '.join(DATE_FORMATS)}")
    if not FIRST_DATE <= date <= LAST_DATE:
        raise ConfigError(f"date {date} is outside {FIRST_DATE} .. {LAST_DATE}, where two-digit years are unambiguous")
    return DATE_FORMATS[fmt](date)


def date_pairs(
    n: int, seed: int = 0, formats: Sequence[str] | None = None, unique: bool = True
) -> list[tuple[str, str]]:
    """Draw ``n`` (human date, ISO date) pairs, the same ones for the same seed.

    Dates are uniform over 1950-01-01 .. 2049-12-31, formats uniform over ``formats``.

    Args:
        n: number of pairs.
        seed: the random seed.
        formats: names from `DATE_FORMATS` to use (default all).
        unique: never repeat a source text (so a split of the pairs never has the
            same source on both sides).

    Returns:
        A list of ``(source, target)`` tuples.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigError(f"n must be a non-negative integer, got {n!r}")
    names = list(DATE_FORMATS) if formats is None else list(formats)
    unknown = [f for f in names if f not in DATE_FORMATS]
    if unknown or not names:
        raise ConfigError(f"unknown date format(s) {unknown}; known: {', '.join(DATE_FORMATS)}")
    span = (LAST_DATE - FIRST_DATE).days
    if unique and n > len(names) * (span + 1):
        raise ConfigError(
            f"cannot draw {n} distinct dates with formats {names}: there are only {span + 1} days "
            f"in {FIRST_DATE} .. {LAST_DATE} for each format; ask for fewer"
        )
    rng = random.Random(seed)
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    attempts = 0
    while len(pairs) < n:
        attempts += 1
        if attempts > 20 * n + 1000:
            raise ConfigError(f"cannot draw {n} distinct dates with formats {names}; ask for fewer")
        date = FIRST_DATE + datetime.timedelta(days=rng.randrange(span + 1))
        source = DATE_FORMATS[rng.choice(names)](date)
        if unique and source in seen:
            continue
        seen.add(source)
        pairs.append((source, date.isoformat()))
    return pairs
