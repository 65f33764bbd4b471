"""The 系统管理员's calendar page: who may use it, what it shows, and what bad input does."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from officeapp.audit.models import AuditEvent
from officeapp.calendar.models import CalendarDay, CalendarYear, DayKind
from officeapp.calendar.workdays import add_working_days
from officeapp.outbox.models import OutboxEvent

pytestmark = pytest.mark.django_db

MANAGE = reverse("calendar:manage")
ADD = reverse("calendar:add_day")


def test_system_admin_sees_the_national_day_of_a_year(cast: Any, sign_in_verified: Any) -> None:
    response = sign_in_verified(cast.system_admin).get(MANAGE, {"year": 2026})
    html = response.content.decode()
    assert response.status_code == 200
    assert "2026-10-01" in html and "国庆节" in html and "调休上班" in html
    assert "已维护" in html


def test_an_unmaintained_year_shows_the_fallback_warning(cast: Any, sign_in_verified: Any) -> None:
    html = sign_in_verified(cast.system_admin).get(MANAGE, {"year": 2028}).content.decode()
    assert "2028 年节假日安排尚未维护，按周末计算" in html


@pytest.mark.parametrize("who", ["drafter", "security_admin", "audit_admin", "outsider"])
def test_other_users_get_403(cast: Any, sign_in_verified: Any, who: str) -> None:
    client = sign_in_verified(getattr(cast, who))
    assert client.get(MANAGE).status_code == 403
    assert client.post(ADD, {"date": "2028-10-02", "kind": "holiday", "name": "国庆节"}).status_code == 403
    assert not CalendarDay.objects.filter(date=date(2028, 10, 2)).exists()


def test_anonymous_visitor_is_sent_to_sign_in(client: Any) -> None:
    response = client.get(MANAGE)
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_adding_a_holiday_changes_deadlines_and_is_audited(cast: Any, sign_in_verified: Any) -> None:
    client = sign_in_verified(cast.system_admin)
    response = client.post(ADD, {"date": "2028-10-02", "kind": "holiday", "name": "国庆节"})

    assert response.status_code == 302 and response["Location"].endswith("?year=2028")
    assert CalendarDay.objects.get(date=date(2028, 10, 2)).name == "国庆节"
    assert add_working_days(date(2028, 9, 29), 1).due_on == date(2028, 10, 3)
    event = AuditEvent.objects.get(action="calendar.day.set")
    assert event.actor == cast.system_admin and event.details["kind"] == "holiday"
    assert OutboxEvent.objects.filter(topic="calendar.changed", object_id="2028").exists()
    assert "已保存" in client.get(response["Location"]).content.decode()


def test_changing_an_existing_day_updates_it(cast: Any, sign_in_verified: Any) -> None:
    sign_in_verified(cast.system_admin).post(
        ADD, {"date": "2026-10-08", "kind": "holiday", "name": "国庆节（延长）"}
    )
    assert CalendarDay.objects.get(date=date(2026, 10, 8)).name == "国庆节（延长）"


def test_a_make_up_workday_on_a_weekday_is_refused_with_what_was_typed(
    cast: Any, sign_in_verified: Any
) -> None:
    response = sign_in_verified(cast.system_admin).post(
        ADD, {"date": "2028-10-09", "kind": "workday", "name": "国庆调休"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "调休上班日应为周六或周日" in html
    assert 'value="国庆调休"' in html and 'value="2028-10-09"' in html
    assert not CalendarDay.objects.filter(date=date(2028, 10, 9)).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"date": "", "kind": "holiday", "name": "国庆节"}, "请填写日期"),
        ({"date": "2028-13-40", "kind": "holiday", "name": "国庆节"}, "日期格式应为 YYYY-MM-DD"),
        ({"date": "2028-10-02", "kind": "party", "name": "国庆节"}, "类型应为"),
        ({"date": "2028-10-02", "kind": "holiday", "name": ""}, "请填写名称"),
        ({"date": "2028-10-02", "kind": "holiday", "name": "节" * 40}, "名称最多 32 个字"),
        ({"date": "2200-10-02", "kind": "holiday", "name": "国庆节"}, "年份应为"),
    ],
)
def test_bad_input_re_renders_with_a_chinese_message(
    cast: Any, sign_in_verified: Any, data: dict[str, str], message: str
) -> None:
    response = sign_in_verified(cast.system_admin).post(ADD, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AuditEvent.objects.filter(action="calendar.day.set").exists()


def test_a_bad_year_in_the_address_is_explained(cast: Any, sign_in_verified: Any) -> None:
    response = sign_in_verified(cast.system_admin).get(MANAGE, {"year": "abc"})
    assert response.status_code == 400
    assert "年份应为 1990–2100 之间的整数" in response.content.decode()


def test_removing_a_day_restores_the_weekend_rule(cast: Any, sign_in_verified: Any) -> None:
    day = CalendarDay.objects.get(date=date(2026, 10, 10))  # Saturday, 调休上班
    response = sign_in_verified(cast.system_admin).post(reverse("calendar:remove_day", args=[day.pk]))

    assert response.status_code == 302
    assert not CalendarDay.objects.filter(pk=day.pk).exists()
    assert add_working_days(date(2026, 9, 30), 3).due_on == date(2026, 10, 12)
    assert AuditEvent.objects.filter(action="calendar.day.remove").count() == 1


def test_removing_a_missing_day_is_404(cast: Any, sign_in_verified: Any) -> None:
    assert (
        sign_in_verified(cast.system_admin).post(reverse("calendar:remove_day", args=[999999])).status_code
        == 404
    )


def test_marking_a_year_maintained_ends_the_fallback(cast: Any, sign_in_verified: Any) -> None:
    client = sign_in_verified(cast.system_admin)
    client.post(reverse("calendar:mark_year", args=[2028]), {"maintained": "1"})

    entry = CalendarYear.objects.get(year=2028)
    assert entry.maintained_by == cast.system_admin
    assert add_working_days(date(2028, 9, 29), 1).warnings == ()

    client.post(reverse("calendar:mark_year", args=[2028]), {"maintained": "0"})
    assert not CalendarYear.objects.filter(year=2028).exists()
    assert AuditEvent.objects.filter(action__startswith="calendar.year.").count() == 2


def test_marking_an_absurd_year_is_refused(cast: Any, sign_in_verified: Any) -> None:
    response = sign_in_verified(cast.system_admin).post(
        reverse("calendar:mark_year", args=[3000]), {"maintained": "1"}
    )
    assert response.status_code == 400
    assert not CalendarYear.objects.filter(year=3000).exists()


def test_forms_are_csrf_protected(cast: Any, sign_in_verified: Any) -> None:
    client = sign_in_verified(cast.system_admin)
    client.handler.enforce_csrf_checks = True
    assert (
        client.post(ADD, {"date": "2028-10-02", "kind": DayKind.HOLIDAY, "name": "国庆节"}).status_code == 403
    )
    assert not CalendarDay.objects.filter(date=date(2028, 10, 2)).exists()
