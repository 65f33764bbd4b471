"""The notification list, mark-read over htmx, and the bell's count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from officeapp.notify import services
from officeapp.notify.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def drafter_note(cast):
    (row,) = services.notify(
        [cast.drafter],
        kind="documents.review",
        title="《值班安排》已退回修改",
        body="请按意见修改",
        url="/documents/3/",
    )
    return row


def test_list_shows_an_unread_notification_with_its_mark_read_button(cast, sign_in, drafter_note):
    response = sign_in(cast.drafter).get(reverse("notify:list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "《值班安排》已退回修改" in page
    assert "标为已读" in page
    assert "全部标为已读" in page
    assert 'href="/documents/3/"' in page


def test_unread_tab_leaves_out_read_notifications(cast, sign_in, drafter_note):
    services.notify([cast.drafter], kind="x.y", title="第二条通知")
    services.mark_read(drafter_note, actor=cast.drafter)
    page = sign_in(cast.drafter).get(reverse("notify:list") + "?show=unread").content.decode()
    assert "第二条通知" in page
    assert "《值班安排》已退回修改" not in page


def test_list_pages_backwards_by_id(cast, sign_in):
    for i in range(25):
        services.notify([cast.drafter], kind="x.y", title=f"第{i:02d}号通知")
    client = sign_in(cast.drafter)
    first = client.get(reverse("notify:list")).content.decode()
    assert "第24号通知" in first and "第04号通知" not in first
    assert "更早的通知" in first
    oldest_on_first = Notification.objects.filter(recipient=cast.drafter).order_by("-id")[19]
    second = client.get(reverse("notify:list") + f"?before={oldest_on_first.pk}").content.decode()
    assert "第04号通知" in second and "第24号通知" not in second
    assert "回到最新" in second


@pytest.mark.parametrize("cursor", ["²", "abc", "-3", "99999999999999999999999"])
def test_a_malformed_page_cursor_shows_the_newest_page(cast, sign_in, drafter_note, cursor):
    response = sign_in(cast.drafter).get(reverse("notify:list"), {"before": cursor})
    assert response.status_code == 200
    assert "《值班安排》已退回修改" in response.content.decode()


def test_nobody_sees_someone_elses_notifications(cast, sign_in, drafter_note):
    page = sign_in(cast.outsider).get(reverse("notify:list")).content.decode()
    assert "《值班安排》已退回修改" not in page
    assert "暂无通知" in page


def test_mark_read_over_htmx_swaps_the_item_and_the_bell(cast, sign_in, drafter_note):
    response = sign_in(cast.drafter).post(
        reverse("notify:mark_read", args=[drafter_note.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert f'id="notification-{drafter_note.pk}"' in fragment
    assert "已读" in fragment and "标为已读" not in fragment
    assert 'hx-swap-oob="true"' in fragment
    drafter_note.refresh_from_db()
    assert drafter_note.read_at is not None


def test_mark_read_over_htmx_shows_the_remaining_unread_count_without_loading_the_list(
    cast, sign_in, drafter_note
):
    services.notify([cast.drafter], kind="x.y", title="另一条")
    client = sign_in(cast.drafter)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("notify:mark_read", args=[drafter_note.pk]), HTTP_HX_REQUEST="true")
    assert 'data-bell-count hx-swap-oob="true">1</span>' in response.content.decode()
    # The bell needs only a count, not a page of rows of the list.
    row_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "notify_notification"."id"') and "ORDER BY" in q["sql"]
    ]
    assert row_reads == []


def test_mark_read_without_javascript_redirects_back_to_the_list(cast, sign_in, drafter_note):
    response = sign_in(cast.drafter).post(
        reverse("notify:mark_read", args=[drafter_note.pk]), {"show": "unread"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("notify:list") + "?show=unread"


def test_outsider_gets_404_marking_another_users_notification_read(cast, sign_in, drafter_note):
    response = sign_in(cast.outsider).post(reverse("notify:mark_read", args=[drafter_note.pk]))
    assert response.status_code == 404
    drafter_note.refresh_from_db()
    assert drafter_note.read_at is None


def test_missing_notification_gives_the_same_404(cast, sign_in):
    assert sign_in(cast.drafter).post(reverse("notify:mark_read", args=[999999])).status_code == 404


def test_mark_read_refuses_get(cast, sign_in, drafter_note):
    assert sign_in(cast.drafter).get(reverse("notify:mark_read", args=[drafter_note.pk])).status_code == 405


def test_mark_read_requires_the_csrf_token(cast, drafter_note):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.drafter, backend="officeapp.accounts.backends.LockoutAwareBackend")
    assert client.post(reverse("notify:mark_read", args=[drafter_note.pk])).status_code == 403
    drafter_note.refresh_from_db()
    assert drafter_note.read_at is None


def test_mark_all_read_over_htmx_says_how_many(cast, sign_in, drafter_note):
    services.notify([cast.drafter], kind="x.y", title="另一条")
    response = sign_in(cast.drafter).post(reverse("notify:mark_all_read"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "已将 2 条通知标为已读。" in response.content.decode()
    assert not Notification.objects.filter(recipient=cast.drafter, read_at__isnull=True).exists()


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("notify:list"))
    assert response.status_code == 302
    assert reverse("accounts:sign_in") in response["Location"]


def test_bell_count_is_one_query_and_caps_at_99_plus(cast, django_assert_num_queries):
    template = Template("{% load notify_tags %}[{% unread_notification_count %}]")
    assert template.render(Context({"user": cast.drafter})) == "[]"
    services.notify([cast.drafter], kind="x.y", title="一")
    with django_assert_num_queries(1):
        assert template.render(Context({"user": cast.drafter})) == "[1]"
    Notification.objects.bulk_create(
        [Notification(recipient=cast.drafter, kind="x.y", title=str(i)) for i in range(120)]
    )
    assert template.render(Context({"user": cast.drafter})) == "[99+]"


def test_bell_on_a_page_shows_the_unread_count(cast, sign_in, drafter_note):
    page = sign_in(cast.drafter).get(reverse("notify:list")).content.decode()
    assert '<span class="bell-count" id="bell-count" data-bell-count>1</span>' in page
