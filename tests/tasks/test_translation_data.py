"""The translator's data: the date generator (every format reads back to its ISO date) and pairs files."""

import datetime
import re

import pytest

from lstmkit.data.corpora import read_pairs
from lstmkit.data.dates import DATE_FORMATS, FIRST_DATE, LAST_DATE, date_pairs, format_date
from lstmkit.errors import ConfigError, DataError

MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}


def _year(text: str) -> int:
    y = int(text)
    if len(text) == 4:
        return y
    return 1900 + y if y >= 50 else 2000 + y  # the rule the module states


def _read_back(source: str) -> datetime.date:
    """An independent reader of every format, written from the documented conventions."""
    s = source.lower().replace(",", "")
    if m := re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s):
        return datetime.date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{4})[/.](\d{2})[/.](\d{2})", s):
        return datetime.date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})", s):  # slashes: month first
        return datetime.date(_year(m[3]), int(m[1]), int(m[2]))
    if m := re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})", s):  # dots: day first
        return datetime.date(_year(m[3]), int(m[2]), int(m[1]))
    if m := re.fullmatch(r"(\d{2})-([a-z]{3})-(\d{2})", s):
        month = next(v for k, v in MONTHS.items() if k.startswith(m[2]))
        return datetime.date(_year(m[3]), month, int(m[1]))
    words = s.replace("the ", "").replace(" of ", " ").split()
    words = [
        w
        for w in words
        if w
        not in (
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
            "mon",
            "tue",
            "wed",
            "thu",
            "fri",
            "sat",
            "sun",
        )
    ]
    day = month = year = None
    for w in words:
        if w.isdigit() and len(w) == 4:
            year = int(w)
        elif re.fullmatch(r"\d{1,2}(st|nd|rd|th)?", w):
            day = int(re.match(r"\d+", w)[0])
        else:
            month = next(v for k, v in MONTHS.items() if k.startswith(w))
    return datetime.date(year, month, day)


def test_every_format_reads_back_to_its_target():
    pairs = date_pairs(3000, seed=7)
    for source, target in pairs:
        assert _read_back(source).isoformat() == target, source
    assert len({s for s, _ in pairs}) == len(pairs)  # unique sources
    assert all(FIRST_DATE.isoformat() <= t <= LAST_DATE.isoformat() for _, t in pairs)


def test_each_named_format_and_the_examples_of_the_issue():
    d = datetime.date(1998, 3, 3)
    assert format_date(d, "ordinal_of") == "3rd of March 1998"
    assert format_date(d, "us_slash_yy") == "03/03/98"
    assert format_date(d, "month_day_year") == "March 3, 1998"
    assert format_date(datetime.date(2011, 11, 11), "month_ordinal_year") == "November 11th, 2011"
    assert format_date(datetime.date(2022, 1, 22), "ordinal_of") == "22nd of January 2022"
    for name in DATE_FORMATS:
        assert _read_back(format_date(d, name)) == d, name


def test_reproducible_from_the_seed_and_restricted_formats():
    assert date_pairs(50, seed=1) == date_pairs(50, seed=1)
    assert date_pairs(50, seed=1) != date_pairs(50, seed=2)
    only = date_pairs(30, seed=0, formats=["compact"])
    assert all(re.fullmatch(r"\d{8}", s) for s, _ in only)


def test_date_errors():
    with pytest.raises(ConfigError, match="unknown date format"):
        date_pairs(3, formats=["roman"])
    with pytest.raises(ConfigError, match="outside 1950-01-01 .. 2049-12-31"):
        format_date(datetime.date(1949, 12, 31), "compact")
    with pytest.raises(ConfigError, match="cannot draw 40000 distinct dates"):  # 36,524 days exist
        date_pairs(40000, formats=["year_dot"])


def test_read_pairs_tsv_with_and_without_header(tmp_path):
    plain = tmp_path / "plain.tsv"
    plain.write_text("Go.\tVa !\tCC-BY\n\nHi.\tSalut !\n", encoding="utf-8")
    assert read_pairs(plain) == [("Go.", "Va !"), ("Hi.", "Salut !")]
    header = tmp_path / "header.tsv"
    header.write_text("id\ttarget\tsource\n1\tun\tone\n", encoding="utf-8")
    assert read_pairs(header) == [("one", "un")]
    named = tmp_path / "named.tsv"
    named.write_text("en\tfr\none\tun\n", encoding="utf-8")
    assert read_pairs(named, source_col="en", target_col="fr") == [("one", "un")]
    with pytest.raises(DataError, match="no header line with columns \\['de', 'fr'\\]"):
        read_pairs(named, source_col="de", target_col="fr")


def test_read_pairs_csv(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('a,b\n"x, y",z\n', encoding="utf-8")
    assert read_pairs(path) == [("x, y", "z")]  # no source/target columns: the first two
    with pytest.raises(DataError, match="column\\(s\\) \\['src'\\] not found"):
        read_pairs(path, source_col="src", target_col="b")
    only_header = tmp_path / "h.csv"
    only_header.write_text("source,target\n", encoding="utf-8")
    with pytest.raises(DataError, match="a header but no pairs"):
        read_pairs(only_header)
