from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from officeapp.integration.models import App, AppStatus
from officeapp.org.models import Role
from officeapp.registries import inbox_sources


@dataclass
class FakeTask:
    title: str
    url: str
    when: datetime


class ListSource:
    """An inbox source as the workflows app will register one (here: plain lists)."""

    def __init__(self, to_do):
        self._to_do = to_do

    def to_do(self, user):
        return self._to_do

    def done(self, user):
        return []


def notify(user, count):
    from officeapp.notify.models import Notification

    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                kind="test",
                title=f"第{i}条通知",
                url="/",
                created_at=now + timedelta(seconds=i),
            )
            for i in range(count)
        ]
    )


def test_workbench_shows_the_foundation_tiles_with_friendly_empty_states(cast, sign_in_verified):
    response = sign_in_verified(cast.drafter).get(reverse("workbench:home"))
    assert response.status_code == 200
    for title in ("待办", "待阅", "已办", "通知", "应用"):
        assert f">{title}<" in response.text
    assert "暂无待办事项" in response.text
    assert "没有未读通知" in response.text


def test_workbench_needs_sign_in(client, db):
    assert client.get(reverse("workbench:home")).status_code == 302


def test_notification_tile_shows_the_latest_five_unread_and_the_count(cast, sign_in_verified):
    notify(cast.drafter, 7)
    from officeapp.notify.models import Notification

    Notification.objects.filter(title="第6条通知").update(read_at=timezone.now())
    response = sign_in_verified(cast.drafter).get(reverse("workbench:home"))
    text = response.text
    assert "第5条通知" in text and "第1条通知" in text
    assert "第0条通知" not in text  # sixth newest unread: beyond the five shown
    assert "第6条通知" not in text  # read
    assert 'aria-label="通知 6 项"' in text


def test_someone_elses_notifications_do_not_appear(cast, sign_in_verified):
    notify(cast.clerk, 2)
    assert "第1条通知" not in sign_in_verified(cast.drafter).get(reverse("workbench:home")).text


@pytest.mark.parametrize("count", [1, 50])
def test_workbench_query_count_does_not_grow_with_notifications(
    cast, sign_in_verified, django_assert_max_num_queries, count
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = sign_in_verified(cast.drafter)
    client.get(reverse("workbench:home"))  # warm the session
    # The baseline is measured with no notification at all, in this run: other apps' tiles add their
    # own (constant) queries, and what matters is that rows do not add any.
    with CaptureQueriesContext(connection) as empty:
        client.get(reverse("workbench:home"))
    notify(cast.drafter, count)
    with django_assert_max_num_queries(len(empty.captured_queries)):
        response = client.get(reverse("workbench:home"))
    assert response.status_code == 200
    assert f"第{count - 1}条通知" in response.text


def test_workbench_query_count_is_the_same_for_1_and_50_notifications_and_tasks(
    cast, sign_in_verified, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = sign_in_verified(cast.drafter)
    counts = []
    now = timezone.now()
    for n in (1, 50):
        notify(cast.drafter, n)
        inbox_sources.register("test_tasks", ListSource([FakeTask(f"任务{i}", "/", now) for i in range(n)]))
        try:
            client.get(reverse("workbench:home"))
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(reverse("workbench:home"))
        finally:
            inbox_sources.unregister("test_tasks")
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_registered_inbox_source_fills_the_todo_tile(cast, sign_in_verified):
    now = timezone.now()
    tasks = [
        FakeTask("关于印发年度计划的请示", "/tasks/1/", now),
        FakeTask("旧任务", "/tasks/2/", now - timedelta(days=1)),
    ]
    inbox_sources.register("test_tasks", ListSource(tasks))
    try:
        response = sign_in_verified(cast.drafter).get(reverse("workbench:home"))
    finally:
        inbox_sources.unregister("test_tasks")
    text = response.text
    assert "关于印发年度计划的请示" in text and 'href="/tasks/1/"' in text
    assert 'aria-label="待办 2 项"' in text
    assert text.index("关于印发年度计划的请示") < text.index("旧任务")


def test_app_launcher_shows_registered_apps_by_agency_and_role(cast, sign_in_verified):
    province = cast.gov_office.parent
    everyone = App.objects.create(name="全省公文", url="/apps/docs/", icon="文", owner_agency=cast.gov_office)
    everyone.visible_agencies.add(province)
    finance_only = App.objects.create(
        name="预算系统", url="/apps/budget/", icon="预", owner_agency=cast.gov_office
    )
    finance_only.visible_agencies.add(cast.finance)
    clerks = App.objects.create(
        name="收发登记", url="/apps/clerk/", owner_agency=cast.finance, visible_roles=[Role.CLERK]
    )
    clerks.visible_agencies.add(province)
    App.objects.create(
        name="停用的应用", url="/apps/off/", owner_agency=cast.gov_office, status=AppStatus.SUSPENDED
    )

    drafter_page = sign_in_verified(cast.drafter).get(reverse("workbench:home")).text
    assert "全省公文" in drafter_page
    assert (
        "预算系统" not in drafter_page and "收发登记" not in drafter_page and "停用的应用" not in drafter_page
    )

    other_clerk_page = sign_in_verified(cast.other_clerk).get(reverse("workbench:home")).text
    assert (
        "全省公文" in other_clerk_page and "预算系统" in other_clerk_page and "收发登记" in other_clerk_page
    )


def test_profile_shows_own_details_and_account_links(cast, sign_in_verified):
    response = sign_in_verified(cast.drafter).get(reverse("workbench:profile"))
    assert response.status_code == 200
    text = response.text
    assert "林小梅" in text and "BGT001" in text and "综合处" in text and "拟稿人" in text
    assert reverse("org:delegations") in text


def test_every_signed_in_page_carries_the_watermark_with_name_and_number(cast, sign_in_verified):
    text = sign_in_verified(cast.drafter).get(reverse("workbench:home")).text
    assert 'class="watermark"' in text
    assert 'data-text="林小梅 BGT001 ' in text
    assert "officeapp/shell.js" in text and "officeapp/shell.css" in text


def test_navigation_offers_org_management_only_to_administrators(cast, sign_in_verified):
    assert reverse("org:manage") not in sign_in_verified(cast.drafter).get(reverse("workbench:home")).text
    assert reverse("org:manage") in sign_in_verified(cast.system_admin).get(reverse("workbench:home")).text


def test_agency_administrator_sees_org_management_but_no_calendar_link_that_would_refuse_them(
    cast, sign_in_verified
):
    from officeapp.org.services import grant_role

    grant_role(actor=None, user=cast.office_director, role=Role.AGENCY_ADMIN, agency=cast.gov_office)
    client = sign_in_verified(cast.office_director)
    text = client.get(reverse("workbench:home")).text
    assert reverse("org:manage") in text
    assert reverse("calendar:manage") not in text
    assert client.get(reverse("calendar:manage")).status_code == 403
    assert (
        reverse("calendar:manage") in sign_in_verified(cast.system_admin).get(reverse("workbench:home")).text
    )


def test_a_huge_backlog_is_counted_up_to_the_cap_and_shown_with_a_plus(cast, sign_in_verified, monkeypatch):
    from officeapp.workbench import tiles

    monkeypatch.setattr(tiles, "COUNT_CAP", 3)
    monkeypatch.setattr(tiles.head_and_count, "__defaults__", (3,))
    notify(cast.drafter, 7)
    text = sign_in_verified(cast.drafter).get(reverse("workbench:home")).text
    assert 'aria-label="通知 3+ 项"' in text
