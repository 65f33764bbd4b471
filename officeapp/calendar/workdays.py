"""工作日 arithmetic on the maintained calendar.

A date is a working day when a CalendarDay says 调休上班, or when no CalendarDay says 节假日 and it is
Monday to Friday. A year not in CalendarYear has no official data: the arithmetic falls back to plain
weekends for it and says so — every page that shows a computed deadline shows `warnings` through
the include "calendar/fallback_warning.html".

Deadlines follow the usual government reading: "within n working days" ends on the n-th working day
after the start date (the start date itself does not count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from officeapp.calendar.models import CalendarDay, CalendarYear, DayKind

FALLBACK_WARNING = "{year} 年节假日安排尚未维护，按周末计算"
# Ten years of working days: far beyond any 办理时限, and a bound on a typo's cost.
MAX_SPAN_DAYS = 3660


def fallback_warning(year: int) -> str:
    return FALLBACK_WARNING.format(year=year)


@dataclass(frozen=True)
class DeadlineResult:
    due_on: date
    warnings: tuple[str, ...] = ()

    @property
    def is_fallback(self) -> bool:
        return bool(self.warnings)

    @property
    def warning(self) -> str:
        return "；".join(self.warnings)


@dataclass
class WorkingCalendar:
    """Loads each year once (one query for the maintained years, one per year for its days), so a
    page computing many deadlines can share one instance."""

    _maintained: set[int] | None = None
    _days: dict[int, dict[date, str]] = field(default_factory=dict)

    def _year(self, year: int) -> dict[date, str]:
        if year not in self._days:
            self._days[year] = dict(CalendarDay.objects.filter(date__year=year).values_list("date", "kind"))
        return self._days[year]

    def is_maintained(self, year: int) -> bool:
        if self._maintained is None:
            self._maintained = set(CalendarYear.objects.values_list("year", flat=True))
        return year in self._maintained

    def warnings(self, first: date, last: date) -> tuple[str, ...]:
        low, high = sorted((first, last))
        return tuple(fallback_warning(y) for y in range(low.year, high.year + 1) if not self.is_maintained(y))

    def is_working_day(self, d: date) -> bool:
        kind = self._year(d.year).get(d)
        if kind is not None:
            return kind == DayKind.WORKDAY
        return d.weekday() < 5

    def add_working_days(self, start: date, n: int) -> DeadlineResult:
        if abs(n) > MAX_SPAN_DAYS:
            raise ValueError(f"工作日数过大：{n}")
        step = timedelta(days=1 if n >= 0 else -1)
        d, counted = start, 0
        while counted < abs(n):
            d += step
            if self.is_working_day(d):
                counted += 1
        return DeadlineResult(d, self.warnings(start + step, d) if n else ())

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]: add_working_days(a, n).due_on == b gives n when b is a working day.
        Negative when b is before a."""
        if abs((b - a).days) > MAX_SPAN_DAYS * 2:
            raise ValueError("日期跨度过大")
        low, high, sign = (a, b, 1) if a <= b else (b, a, -1)
        count = 0
        d = low
        while d < high:
            d += timedelta(days=1)
            count += self.is_working_day(d)
        return sign * count


def is_working_day(d: date) -> bool:
    return WorkingCalendar().is_working_day(d)


def add_working_days(start_date: date, n: int) -> DeadlineResult:
    return WorkingCalendar().add_working_days(start_date, n)


def working_days_between(a: date, b: date) -> int:
    return WorkingCalendar().working_days_between(a, b)


def calendar_warnings(a: date, b: date) -> tuple[str, ...]:
    """The fallback warnings for any computation over [a, b] (e.g. a remaining-days count)."""
    return WorkingCalendar().warnings(a, b)
