"""红黄绿灯 of 督办事项, day by day with frozen dates across 国庆节 2026 (10月1日–7日 off, 中秋节 9月25日
off) and its 调休 Saturday (10月10日 worked): the exact light and reason for each day, each report
frequency's due dates, yellow from a missing report far from the deadline, roll-up to a parent,
closed items keeping their light."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from officeapp.calendar.models import CalendarDay, CalendarYear, DayKind
from workflows.models import (
    ItemState,
    Light,
    ProgressReport,
    ReportFrequency,
    ReportState,
    SupervisionItem,
    SupervisionSource,
)
from workflows.supervision_lights import light_for, next_report_due, refresh_light, report_due_dates

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = date(2026, 10, 9)  # the Friday after 国庆节


@pytest.fixture(autouse=True)
def autumn_2026(db: Any) -> None:
    """September–October 2026 as these tests read it, written as the calendar page does: 中秋节 9月25日
    and 国庆节 10月1日–7日 off, 10月10日 (Saturday) worked; every other day by its weekday."""
    CalendarYear.objects.get_or_create(year=2026)
    CalendarDay.objects.filter(date__range=(date(2026, 9, 1), date(2026, 10, 31))).delete()
    holidays = [date(2026, 9, 25)] + [date(2026, 10, d) for d in range(1, 8)]
    CalendarDay.objects.bulk_create(
        [
            CalendarDay(date=d, kind=DayKind.HOLIDAY, name="国庆节" if d.month == 10 else "中秋节")
            for d in holidays
        ]
        + [CalendarDay(date=date(2026, 10, 10), kind=DayKind.WORKDAY, name="国庆节调休")]
    )


def make_item(cast: Any, **fields: Any) -> SupervisionItem:
    """An item being handled (承办) by 综合处, built directly: the light reads only these fields."""
    values: dict[str, Any] = {
        "agency": cast.gov_office,
        "source": SupervisionSource.INSTRUCTION,
        "title": "推进政务服务“一网通办”",
        "lead_department": cast.general_dept,
        "received_on": date(2026, 9, 1),
        "due_on": DEADLINE,
        "report_frequency": ReportFrequency.ONCE,
        "supervisor": cast.supervisor,
        "created_by": cast.supervisor,
        "state": ItemState.HANDLE,
    }
    values.update(fields)
    return SupervisionItem.objects.create(**values)


def report_on(
    item: SupervisionItem, day: date, *, state: str = ReportState.SUBMITTED, is_lead: bool = True
) -> Any:
    """A report of the item's lead unit (or a 协办 unit) sent at 10:00 Beijing time on `day`."""
    at = datetime.combine(day, time(10, 0), tzinfo=SHANGHAI)
    return ProgressReport.objects.create(
        item=item,
        department=item.lead_department,
        unit_label="综合处",
        is_lead=is_lead,
        text="已完成系统对接。",
        percentage=40,
        state=state,
        author=item.created_by,
        created_at=at,
        submitted_at=at if state != ReportState.DRAFT else None,
    )


def lights(item: SupervisionItem, days: list[date]) -> dict[date, tuple[str, str]]:
    return {d: light_for(item, today=d) for d in days}


# --- the deadline --------------------------------------------------------------------------------


def test_deadline_light_day_by_day_across_national_day(cast: Any) -> None:
    item = make_item(cast)

    assert lights(item, [date(2026, 9, d) for d in (24, 28, 29, 30)]) == {
        date(2026, 9, 24): (Light.GREEN, "进展正常"),  # 9月28–30日, 10月8–9日: 5 working days left
        date(2026, 9, 28): (Light.GREEN, "进展正常"),
        date(2026, 9, 29): (Light.YELLOW, "距完成时限还有3个工作日"),
        date(2026, 9, 30): (Light.YELLOW, "距完成时限还有2个工作日"),
    }
    # The whole holiday counts no working day down.
    for day in range(1, 8):
        assert light_for(item, today=date(2026, 10, day)) == (Light.YELLOW, "距完成时限还有2个工作日")
    assert light_for(item, today=date(2026, 10, 8)) == (Light.YELLOW, "距完成时限还有1个工作日")
    assert light_for(item, today=date(2026, 10, 9)) == (Light.YELLOW, "今天是完成时限")
    # The 调休 Saturday is the first working day late.
    assert light_for(item, today=date(2026, 10, 10)) == (Light.RED, "已超期1个工作日")
    assert light_for(item, today=date(2026, 10, 11)) == (Light.RED, "已超期1个工作日")
    assert light_for(item, today=date(2026, 10, 12)) == (Light.RED, "已超期2个工作日")


def test_a_deadline_passed_over_a_weekend_is_red_before_the_next_working_day(cast: Any) -> None:
    item = make_item(cast, due_on=date(2026, 10, 16))  # a Friday

    assert light_for(item, today=date(2026, 10, 17)) == (Light.RED, "已超过完成时限（10月16日）")
    assert light_for(item, today=date(2026, 10, 19)) == (Light.RED, "已超期1个工作日")


@override_settings(SUPERVISION_YELLOW_DAYS=5)
def test_the_yellow_threshold_is_a_setting(cast: Any) -> None:
    item = make_item(cast)

    assert light_for(item, today=date(2026, 9, 23)) == (Light.GREEN, "进展正常")  # 6 working days
    assert light_for(item, today=date(2026, 9, 24)) == (Light.YELLOW, "距完成时限还有5个工作日")


def test_an_item_without_a_deadline_stays_green_without_reports_due(cast: Any) -> None:
    item = make_item(cast, due_on=None)

    assert light_for(item, today=date(2027, 6, 1)) == (Light.GREEN, "进展正常")
    assert next_report_due(item, today=date(2027, 6, 1)) is None


def test_the_light_uses_beijing_today_by_default(cast: Any) -> None:
    item = make_item(cast)

    # 10月9日 23:30 in Beijing is still the deadline day although it is 15:30 UTC.
    with time_machine.travel(datetime(2026, 10, 9, 23, 30, tzinfo=SHANGHAI), tick=False):
        assert light_for(item) == (Light.YELLOW, "今天是完成时限")
    with time_machine.travel(datetime(2026, 10, 10, 0, 30, tzinfo=SHANGHAI), tick=False):
        assert light_for(item) == (Light.RED, "已超期1个工作日")


# --- report schedules ----------------------------------------------------------------------------


def first_dues(item: SupervisionItem, n: int) -> list[date]:
    dues = report_due_dates(item)
    return [next(dues) for _ in range(n)]


def test_weekly_reports_fall_on_each_weeks_last_working_day(cast: Any) -> None:
    # Received on a Wednesday: its own week is not a whole period, the first report is next week's.
    item = make_item(
        cast,
        received_on=date(2026, 9, 16),
        due_on=date(2026, 12, 31),
        report_frequency=ReportFrequency.WEEKLY,
    )

    assert first_dues(item, 4) == [
        date(2026, 9, 24),  # Thursday: Friday 9月25日 is 中秋节
        date(2026, 9, 30),  # Wednesday before 国庆节
        date(2026, 10, 10),  # the 调休 Saturday closes the week after the holiday
        date(2026, 10, 16),
    ]


def test_weekly_reports_day_by_day(cast: Any) -> None:
    item = make_item(
        cast,
        received_on=date(2026, 9, 16),
        due_on=date(2026, 12, 31),
        report_frequency=ReportFrequency.WEEKLY,
    )

    assert light_for(item, today=date(2026, 9, 24)) == (Light.GREEN, "进展正常")  # due today, not late
    assert light_for(item, today=date(2026, 9, 25)) == (Light.YELLOW, "进展反馈逾期（应于9月24日反馈）")

    # Late for 9月24日, and written in the week of 9月28日: it answers both.
    report_on(item, date(2026, 9, 28))
    assert next_report_due(item, today=date(2026, 9, 28)) == date(2026, 10, 10)
    assert light_for(item, today=date(2026, 10, 1)) == (Light.GREEN, "进展正常")
    assert light_for(item, today=date(2026, 10, 10)) == (Light.GREEN, "进展正常")
    assert light_for(item, today=date(2026, 10, 11)) == (Light.YELLOW, "进展反馈逾期（应于10月10日反馈）")

    report_on(item, date(2026, 10, 12))
    assert light_for(item, today=date(2026, 10, 12)) == (Light.GREEN, "进展正常")
    assert next_report_due(item) == date(2026, 10, 23)


def test_a_report_on_its_due_day_answers_that_day_only(cast: Any) -> None:
    item = make_item(
        cast,
        received_on=date(2026, 9, 16),
        due_on=date(2026, 12, 31),
        report_frequency=ReportFrequency.WEEKLY,
    )
    report_on(item, date(2026, 9, 24))

    assert next_report_due(item, today=date(2026, 9, 24)) == date(2026, 9, 30)


def test_monthly_reports_are_due_by_the_25th_or_the_working_day_before(cast: Any) -> None:
    item = make_item(
        cast,
        received_on=date(2026, 9, 16),
        due_on=date(2027, 6, 30),
        report_frequency=ReportFrequency.MONTHLY,
    )
    late_starter = make_item(
        cast,
        received_on=date(2026, 9, 28),
        due_on=date(2027, 6, 30),
        report_frequency=ReportFrequency.MONTHLY,
    )

    # 10月25日 is a Sunday: the Friday before.
    assert first_dues(item, 3) == [date(2026, 10, 23), date(2026, 11, 25), date(2026, 12, 25)]
    # Received after 9月25日: October's period had begun, its first report is November's.
    assert first_dues(late_starter, 1) == [date(2026, 11, 25)]


def test_a_missing_monthly_report_turns_yellow_far_from_the_deadline(cast: Any) -> None:
    item = make_item(
        cast,
        received_on=date(2026, 9, 16),
        due_on=date(2027, 6, 30),
        report_frequency=ReportFrequency.MONTHLY,
    )

    assert light_for(item, today=date(2026, 10, 23)) == (Light.GREEN, "进展正常")
    assert light_for(item, today=date(2026, 10, 24)) == (Light.YELLOW, "进展反馈逾期（应于10月23日反馈）")
    # The earliest missed date stays the one named until a report comes.
    assert light_for(item, today=date(2026, 11, 30)) == (Light.YELLOW, "进展反馈逾期（应于10月23日反馈）")

    report_on(item, date(2026, 11, 30))
    assert light_for(item, today=date(2026, 11, 30)) == (Light.GREEN, "进展正常")
    # Written after 11月25日, it also answers December's report.
    assert next_report_due(item) == date(2027, 1, 25)


def test_quarterly_reports_are_due_on_the_quarters_last_working_day(cast: Any) -> None:
    item = make_item(
        cast,
        received_on=date(2026, 6, 1),
        due_on=date(2027, 12, 31),
        report_frequency=ReportFrequency.QUARTERLY,
    )

    assert first_dues(item, 2) == [date(2026, 9, 30), date(2026, 12, 31)]
    assert light_for(item, today=date(2026, 9, 30)) == (Light.GREEN, "进展正常")
    # Late on the first day of the holiday already: the report was due before it.
    assert light_for(item, today=date(2026, 10, 1)) == (Light.YELLOW, "进展反馈逾期（应于9月30日反馈）")


def test_custom_reports_every_n_working_days_skip_the_holiday(cast: Any) -> None:
    item = make_item(
        cast,
        received_on=date(2026, 9, 21),
        due_on=date(2026, 12, 31),
        report_frequency=ReportFrequency.CUSTOM,
        report_interval_days=5,
    )

    # 9月22–24日, 28–29日; then 9月30日, 10月8–10日, 12日.
    assert first_dues(item, 2) == [date(2026, 9, 29), date(2026, 10, 12)]
    report_on(item, date(2026, 9, 29))
    assert light_for(item, today=date(2026, 10, 12)) == (Light.GREEN, "进展正常")
    assert light_for(item, today=date(2026, 10, 13)) == (Light.YELLOW, "进展反馈逾期（应于10月12日反馈）")


def test_a_one_time_report_is_due_on_the_deadline(cast: Any) -> None:
    item = make_item(cast)

    assert next_report_due(item) == DEADLINE
    report_on(item, date(2026, 9, 30))
    assert next_report_due(item) is None


def test_periodic_reports_stop_at_the_deadline(cast: Any) -> None:
    item = make_item(
        cast,
        received_on=date(2026, 9, 16),
        due_on=date(2026, 10, 20),
        report_frequency=ReportFrequency.MONTHLY,
    )
    report_on(item, date(2026, 10, 20))

    assert next_report_due(item) is None  # November's would fall after the 完成时限


def test_only_the_lead_units_signed_off_reports_count(cast: Any) -> None:
    item = make_item(
        cast,
        received_on=date(2026, 9, 16),
        due_on=date(2026, 12, 31),
        report_frequency=ReportFrequency.WEEKLY,
    )
    report_on(item, date(2026, 9, 22), state=ReportState.DRAFT)  # not signed off by the head
    report_on(item, date(2026, 9, 22), state=ReportState.RETURNED)
    report_on(item, date(2026, 9, 22), is_lead=False)  # a 协办 unit's contribution

    assert light_for(item, today=date(2026, 9, 25)) == (Light.YELLOW, "进展反馈逾期（应于9月24日反馈）")

    report_on(item, date(2026, 9, 22), state=ReportState.ACCEPTED)
    assert light_for(item, today=date(2026, 9, 25)) == (Light.GREEN, "进展正常")


def test_a_near_deadline_and_a_missing_report_both_show(cast: Any) -> None:
    item = make_item(
        cast,
        received_on=date(2026, 9, 16),
        due_on=date(2026, 10, 12),
        report_frequency=ReportFrequency.WEEKLY,
    )
    report_on(item, date(2026, 9, 24))

    assert light_for(item, today=date(2026, 10, 8)) == (
        Light.YELLOW,
        "距完成时限还有3个工作日；进展反馈逾期（应于9月30日反馈）",
    )


# --- states --------------------------------------------------------------------------------------


def test_before_handling_only_the_deadline_counts(cast: Any) -> None:
    item = make_item(
        cast,
        received_on=date(2026, 9, 16),
        due_on=date(2026, 12, 31),
        report_frequency=ReportFrequency.WEEKLY,
        state=ItemState.ACCEPT,  # not yet 签收: nobody can report
    )

    assert light_for(item, today=date(2026, 10, 12)) == (Light.GREEN, "进展正常")
    item.state = ItemState.ASSIGN
    assert light_for(item, today=date(2027, 1, 4))[0] == Light.RED


def test_a_completion_reported_in_time_is_green_while_in_review(cast: Any) -> None:
    on_time = make_item(
        cast, state=ItemState.REVIEW, completed_at=datetime(2026, 10, 9, 17, 0, tzinfo=SHANGHAI)
    )
    late = make_item(
        cast, state=ItemState.LEADER_REVIEW, completed_at=datetime(2026, 10, 12, 9, 0, tzinfo=SHANGHAI)
    )

    assert light_for(on_time, today=date(2026, 10, 20)) == (Light.GREEN, "已按时报送办结报告")
    assert light_for(late, today=date(2026, 10, 20)) == (Light.RED, "超期办结2个工作日")


@pytest.mark.parametrize(
    "state", [ItemState.CLOSE, ItemState.ARCHIVE, ItemState.ARCHIVED, ItemState.TERMINATED]
)
def test_a_closed_item_keeps_its_last_light(cast: Any, state: str) -> None:
    item = make_item(cast, light=Light.YELLOW, light_reason="距完成时限还有1个工作日")
    item.state = state
    item.save()

    assert light_for(item, today=date(2027, 3, 1)) == (Light.YELLOW, "距完成时限还有1个工作日")
    refresh_light(item, today=date(2027, 3, 1))
    item.refresh_from_db()
    assert (item.light, item.light_reason) == (Light.YELLOW, "距完成时限还有1个工作日")


# --- refresh and roll-up -------------------------------------------------------------------------


def test_refresh_light_saves_light_reason_and_next_report_date(cast: Any) -> None:
    item = make_item(
        cast,
        received_on=date(2026, 9, 16),
        due_on=date(2026, 12, 31),
        report_frequency=ReportFrequency.WEEKLY,
    )

    refresh_light(item, today=date(2026, 9, 25))

    stored = SupervisionItem.objects.get(pk=item.pk)
    assert (stored.light, stored.light_reason, stored.next_report_on) == (
        Light.YELLOW,
        "进展反馈逾期（应于9月24日反馈）",
        date(2026, 9, 24),
    )


def test_refresh_light_writes_nothing_when_nothing_changed(cast: Any, django_assert_num_queries: Any) -> None:
    item = make_item(cast)
    refresh_light(item, today=date(2026, 9, 24))

    # The latest report, the open children and the year's calendar: read; no UPDATE.
    with django_assert_num_queries(3):
        refresh_light(item, today=date(2026, 9, 24))


def test_a_parent_shows_its_worst_open_child(cast: Any) -> None:
    parent = make_item(cast, title="优化营商环境", due_on=date(2026, 12, 31))
    child = make_item(cast, title="压减审批时限", parent=parent, number="督〔2026〕12-1")
    refresh_light(parent, today=date(2026, 10, 10))
    assert SupervisionItem.objects.get(pk=parent.pk).light == Light.GREEN

    refresh_light(child, today=date(2026, 10, 10))

    parent.refresh_from_db()
    assert (parent.light, parent.light_reason) == (Light.RED, "子事项“督〔2026〕12-1”红灯：已超期1个工作日")
    assert light_for(parent, today=date(2026, 10, 10)) == (
        Light.RED,
        "子事项“督〔2026〕12-1”红灯：已超期1个工作日",
    )


def test_a_closed_child_no_longer_colours_its_parent(cast: Any) -> None:
    parent = make_item(cast, title="优化营商环境", due_on=date(2026, 12, 31))
    child = make_item(cast, title="压减审批时限", parent=parent)
    refresh_light(child, today=date(2026, 10, 12))
    assert SupervisionItem.objects.get(pk=parent.pk).light == Light.RED

    child.state = ItemState.CLOSE
    child.save()
    refresh_light(child, today=date(2026, 10, 12))

    parent.refresh_from_db()
    assert (parent.light, parent.light_reason) == (Light.GREEN, "进展正常")
    child.refresh_from_db()
    assert child.light == Light.RED  # its own last light stays
