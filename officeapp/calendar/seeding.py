"""Seeding from the `chinese-calendar` package, which knows the years the State Council has announced.

Used by the data migration (so every database starts with the known years) and by
`manage.py seed_calendar` after a package upgrade adds a year. Years already in CalendarYear are
never touched: the 系统管理员's corrections win over the package.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import chinese_calendar

# The package names holidays in English; the page and deadlines speak Chinese.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def _name(value: Any) -> str:
    text = getattr(value, "value", value)
    return HOLIDAY_NAMES.get(str(text), str(text))[:32]


def package_years() -> list[int]:
    return sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})


def package_days(year: int) -> list[tuple[date, str, str]]:
    """(date, kind, name) for one year, holidays and 调休 working days."""
    days = [(d, "holiday", _name(n)) for d, n in chinese_calendar.holidays.items() if d.year == year]
    days += [
        (d, "workday", f"{_name(n)}调休上班"[:32])
        for d, n in chinese_calendar.workdays.items()
        if d.year == year
    ]
    return sorted(days)


def seed_years(calendar_day: Any, calendar_year: Any, years: list[int] | None = None) -> list[int]:
    """Insert the package's data for years not yet known. Takes the model classes, so the data
    migration can pass its historical models."""
    known = set(calendar_year.objects.values_list("year", flat=True))
    seeded = []
    for year in years if years is not None else package_years():
        if year in known:
            continue
        rows = package_days(year)
        existing = set(calendar_day.objects.filter(date__year=year).values_list("date", flat=True))
        calendar_day.objects.bulk_create(
            [calendar_day(date=d, kind=kind, name=name) for d, kind, name in rows if d not in existing]
        )
        calendar_year.objects.create(year=year, source="package")
        seeded.append(year)
    return seeded
