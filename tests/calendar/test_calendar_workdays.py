"""工作日 arithmetic on the seeded calendar: 国庆 with 调休 weekends, and the fallback for unknown years."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string

from officeapp.calendar.models import CalendarDay, CalendarYear, DayKind
from officeapp.calendar.workdays import (
    WorkingCalendar,
    add_working_days,
    calendar_warnings,
    is_working_day,
    working_days_between,
)

pytestmark = pytest.mark.django_db


def test_announced_years_are_seeded_by_the_migration() -> None:
    assert CalendarYear.objects.filter(year__in=[2025, 2026]).count() == 2
    assert CalendarDay.objects.get(date=date(2026, 10, 1)).name == "国庆节"
    assert CalendarDay.objects.get(date=date(2026, 10, 10)).kind == DayKind.WORKDAY


def test_national_day_2025_holidays_and_make_up_weekends() -> None:
    assert not is_working_day(date(2025, 10, 1))
    assert not is_working_day(date(2025, 10, 8))  # a Wednesday inside the holiday
    assert is_working_day(date(2025, 9, 28))  # Sunday, 调休上班
    assert is_working_day(date(2025, 10, 11))  # Saturday, 调休上班
    assert not is_working_day(date(2025, 10, 12))  # an ordinary Sunday


def test_deadline_across_national_day_2025_skips_the_whole_holiday() -> None:
    result = add_working_days(date(2025, 9, 30), 1)
    assert result.due_on == date(2025, 10, 9)
    assert result.warnings == ()
    # 9 Oct (Thu), 10 Oct (Fri), 11 Oct (Sat, 调休上班)
    assert add_working_days(date(2025, 9, 30), 3).due_on == date(2025, 10, 11)


def test_deadline_across_national_day_2026_counts_the_make_up_saturday() -> None:
    assert add_working_days(date(2026, 9, 30), 1).due_on == date(2026, 10, 8)
    assert add_working_days(date(2026, 9, 30), 3).due_on == date(2026, 10, 10)  # Saturday, 调休上班
    assert add_working_days(date(2026, 9, 18), 2).due_on == date(2026, 9, 21)  # Sunday 20 Sep is 调休上班


def test_the_start_date_itself_does_not_count() -> None:
    # Friday + 1 working day is the next Monday, not the Friday.
    assert add_working_days(date(2026, 11, 20), 1).due_on == date(2026, 11, 23)
    assert add_working_days(date(2026, 11, 20), 0).due_on == date(2026, 11, 20)


def test_counting_backwards_mirrors_counting_forwards() -> None:
    assert add_working_days(date(2026, 10, 8), -1).due_on == date(2026, 9, 30)


def test_working_days_between_is_the_inverse_of_adding() -> None:
    start = date(2026, 9, 30)
    for n in (1, 3, 10, 40):
        due = add_working_days(start, n).due_on
        assert working_days_between(start, due) == n
    assert working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == -3
    assert working_days_between(start, start) == 0


def test_a_year_without_data_falls_back_to_weekends_with_a_warning() -> None:
    result = add_working_days(date(2028, 9, 29), 1)  # Friday
    assert result.due_on == date(2028, 10, 2)  # plain Monday: 2028's 国庆 is not maintained
    assert result.warnings == ("2028 年节假日安排尚未维护，按周末计算",)
    assert result.is_fallback


def test_a_span_into_unknown_years_names_each_of_them() -> None:
    assert calendar_warnings(date(2026, 12, 1), date(2028, 1, 5)) == (
        "2027 年节假日安排尚未维护，按周末计算",
        "2028 年节假日安排尚未维护，按周末计算",
    )
    assert calendar_warnings(date(2026, 1, 1), date(2026, 12, 31)) == ()


def test_a_maintained_year_is_used_without_warning() -> None:
    CalendarYear.objects.create(year=2028)
    CalendarDay.objects.create(date=date(2028, 10, 2), kind=DayKind.HOLIDAY, name="国庆节")

    result = add_working_days(date(2028, 9, 29), 1)

    assert result.due_on == date(2028, 10, 3)
    assert result.warnings == ()


def test_absurd_spans_are_refused() -> None:
    with pytest.raises(ValueError, match="工作日数过大"):
        add_working_days(date(2026, 1, 1), 100_000)


def test_one_calendar_loads_each_year_once(django_assert_max_num_queries: object) -> None:
    cal = WorkingCalendar()
    with django_assert_max_num_queries(3):  # type: ignore[operator]
        for day in range(1, 29):
            cal.add_working_days(date(2026, 2, day), 5)


def test_fallback_warning_include_shows_the_warning_and_nothing_without_one() -> None:
    result = add_working_days(date(2028, 3, 1), 5)
    html = render_to_string("calendar/fallback_warning.html", {"warnings": result.warnings})
    assert "2028 年节假日安排尚未维护，按周末计算" in html
    assert render_to_string("calendar/fallback_warning.html", {"warnings": ()}).strip() == ""


def test_seed_calendar_adds_only_years_not_yet_maintained(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("seed_calendar")
    assert "nothing new" in capsys.readouterr().out

    CalendarYear.objects.filter(year=2026).delete()
    CalendarDay.objects.filter(date__year=2026).delete()
    call_command("seed_calendar")

    assert "2026" in capsys.readouterr().out
    assert CalendarDay.objects.get(date=date(2026, 10, 10)).kind == DayKind.WORKDAY
