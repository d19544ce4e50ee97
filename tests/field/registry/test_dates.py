"""Registry dates: Buddhist era, Thai digits and months, Excel cells."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from field.registry import dates
from field.registry.dates import DateInput, DateProblem, parse_registry_date

TODAY = date(2026, 11, 21)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("25/01/2559", date(2016, 1, 25)),
        ("5/1/2560", date(2017, 1, 5)),
        ("05-01-2560", date(2017, 1, 5)),
        ("05.01.2560", date(2017, 1, 5)),
        ("25/01/2016", date(2016, 1, 25)),
        ("2017-01-05", date(2017, 1, 5)),
        ("2560-01-05", date(2017, 1, 5)),
        ("๒๕/๐๑/๒๕๕๙", date(2016, 1, 25)),
        ("5 ม.ค. 2560", date(2017, 1, 5)),
        ("5 มกราคม 2560", date(2017, 1, 5)),
        ("5 มกราคม พ.ศ. 2560", date(2017, 1, 5)),
        ("๕ ธ.ค. ๒๕๖๐", date(2017, 12, 5)),
        ("29 ก.พ. 2563", date(2020, 2, 29)),
        ("5มค2560", date(2017, 1, 5)),
        ("5 Jan 2017", date(2017, 1, 5)),
        ("05/01/2560 00:00:00", date(2017, 1, 5)),
        ("2017-01-05T00:00:00", date(2017, 1, 5)),
        (" \ufeff25/01/2559 ", date(2016, 1, 25)),
        (datetime(2017, 1, 5, 0, 0), date(2017, 1, 5)),  # noqa: DTZ001 (XLSX cells are naive)
        (date(2017, 1, 5), date(2017, 1, 5)),
        # A BE year typed into an Excel date cell.
        (datetime(2560, 1, 5), date(2017, 1, 5)),  # noqa: DTZ001
        (42740, date(2017, 1, 5)),
        (42740.75, date(2017, 1, 5)),
        ("42740", date(2017, 1, 5)),
        (TODAY, TODAY),
    ],
)
def test_accepted(raw: DateInput, expected: date) -> None:
    assert parse_registry_date(raw, today=TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("31/02/2560", dates.REASON_IMPOSSIBLE),
        ("29/02/2562", dates.REASON_IMPOSSIBLE),
        ("5/13/2560", dates.REASON_IMPOSSIBLE),
        ("00/01/2560", dates.REASON_IMPOSSIBLE),
        ("5/1/60", dates.REASON_TWO_DIGIT_YEAR),
        ("5 ม.ค. 60", dates.REASON_TWO_DIGIT_YEAR),
        ("5/1/256", dates.REASON_FORMAT),
        ("", dates.REASON_BLANK),
        ("   ", dates.REASON_BLANK),
        (None, dates.REASON_BLANK),
        ("เมื่อวาน", dates.REASON_FORMAT),
        ("5 มกร 2560", dates.REASON_MONTH),
        ("01/01/1700", dates.REASON_YEAR),
        ("22/11/2026", dates.REASON_FUTURE),
        ("22/11/2569", dates.REASON_FUTURE),
        (10, dates.REASON_SERIAL),
        (float("nan"), dates.REASON_SERIAL),
        (10**12, dates.REASON_SERIAL),
        (True, dates.REASON_FORMAT),
    ],
)
def test_refused(raw: DateInput, reason: str) -> None:
    with pytest.raises(DateProblem) as caught:
        parse_registry_date(raw, today=TODAY)
    assert caught.value.reason == reason


def test_today_defaults_to_bangkok() -> None:
    with pytest.raises(DateProblem):
        parse_registry_date(date(2999, 1, 1).replace(year=2399))
    assert parse_registry_date("01/01/2560") == date(2017, 1, 1)
