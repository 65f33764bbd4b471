"""notify(), mark_read(), mark_all_read() and the urgent offline delivery."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import PermissionDenied
from django.db import transaction

from officeapp.audit.models import AuditEvent
from officeapp.notify import presence, services, tasks
from officeapp.notify.models import Notification, OfflineChannel

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """What would have gone to the channel layer (the real layer is covered in test_socket.py)."""
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(services, "send_to_groups", sent.extend)
    return sent


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """Tasks handed to the worker; the tests run them synchronously themselves."""
    calls: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(services, "async_task", lambda func, *args, **kwargs: calls.append((func, args)))
    return calls


def test_notify_pushes_to_the_recipients_group_only_after_commit(
    cast, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rows = services.notify(
            [cast.dept_head],
            kind="documents.review",
            title="请审核《关于春节值班的通知》",
            url="/documents/1/",
            actor=cast.drafter,
        )
    assert pushes == []  # nothing before commit
    for callback in callbacks:
        callback()
    assert pushes == [(f"user.{cast.dept_head.pk}", rows[0].as_frame())]
    assert pushes[0][1]["title"] == "请审核《关于春节值班的通知》"


def test_rolled_back_notify_pushes_nothing_and_leaves_no_row(
    cast, pushes, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.notify([cast.dept_head], kind="documents.review", title="请审核", actor=cast.drafter)
        raise RuntimeError("the calling service failed")
    assert callbacks == []
    assert pushes == []
    assert not Notification.objects.filter(recipient=cast.dept_head).exists()


def test_notify_writes_one_row_per_distinct_active_recipient(
    cast, pushes, django_capture_on_commit_callbacks
):
    cast.outsider.is_active = False
    cast.outsider.save(update_fields=["is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        rows = services.notify(
            [cast.leader, cast.leader, cast.clerk, cast.outsider],
            kind="meetings.notice",
            title="会议通知",
            actor=cast.office_secretary,
        )
    assert sorted(r.recipient_id for r in rows) == sorted([cast.leader.pk, cast.clerk.pk])
    assert len(pushes) == 2


def test_notify_audit_event_holds_no_text(cast, pushes):
    services.notify(
        [cast.leader],
        kind="documents.sign_off",
        title="请签发《机密内容标题》",
        body="正文摘要不入审计",
        actor=cast.drafter,
    )
    event = AuditEvent.objects.filter(action="notify.send").latest("id")
    assert event.details == {"kind": "documents.sign_off", "urgency": "normal", "recipients": 1}
    assert "机密内容标题" not in str(event.details)


@pytest.mark.parametrize("url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_notify_refuses_a_link_off_this_site(cast, url):
    with pytest.raises(ValueError):
        services.notify([cast.leader], kind="x.y", title="t", url=url)


def test_notify_refuses_unknown_urgency_and_empty_title(cast):
    with pytest.raises(ValueError):
        services.notify([cast.leader], kind="x.y", title="t", urgency="panic")
    with pytest.raises(ValueError):
        services.notify([cast.leader], kind="x.y", title="   ")


def test_long_title_and_body_are_shortened_not_refused(cast, pushes):
    (row,) = services.notify([cast.leader], kind="x.y", title="长" * 300, body="摘" * 900)
    assert len(row.title) == 200 and row.title.endswith("…")
    assert len(row.body) == 500


def test_urgent_notification_to_offline_user_is_texted_exactly_once(
    cast, pushes, queued, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = services.notify(
            [cast.leader],
            kind="documents.sign_off",
            title="特急件请签发",
            urgency="urgent",
            url="/documents/7/",
            actor=cast.office_director,
        )
    assert queued == [("officeapp.notify.tasks.deliver_offline", (row.pk,))]
    assert tasks.deliver_offline(row.pk) == OfflineChannel.SMS
    assert tasks.deliver_offline(row.pk) == OfflineChannel.SMS  # a retried task sends nothing more
    assert sms_outbox == [(cast.leader.mobile, "【协同办公】特急件请签发")]
    row.refresh_from_db()
    assert row.offline_sent_at is not None


def test_urgent_notification_to_offline_user_without_mobile_is_mailed_once(
    cast, pushes, queued, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    cast.leader.mobile = ""
    cast.leader.save(update_fields=["mobile"])
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = services.notify(
            [cast.leader],
            kind="documents.sign_off",
            title="特急件请签发",
            urgency="urgent",
            url="/documents/7/",
        )
    for _ in range(2):
        tasks.deliver_offline(row.pk)
    assert sms_outbox == []
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [cast.leader.email]
    assert "特急件请签发" in mailoutbox[0].subject
    assert "/documents/7/" in mailoutbox[0].body


def test_urgent_notification_to_online_user_sends_no_sms(
    cast, pushes, queued, sms_outbox, django_capture_on_commit_callbacks
):
    key = async_to_sync(presence.claim)(cast.leader.pk, "tab-1")
    assert key is not None and presence.is_online(cast.leader.pk)
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = services.notify([cast.leader], kind="documents.sign_off", title="特急件", urgency="urgent")
    assert tasks.deliver_offline(row.pk) == OfflineChannel.SOCKET
    assert sms_outbox == []
    async_to_sync(presence.release)(key, "tab-1")
    assert not presence.is_online(cast.leader.pk)


def test_normal_notification_is_never_sent_offline(cast, pushes, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify([cast.leader], kind="x.y", title="普通通知")
    assert queued == []


def test_recipient_marks_read_and_other_tabs_hear_of_it(cast, pushes, django_capture_on_commit_callbacks):
    (row,) = services.notify([cast.drafter], kind="x.y", title="t")
    pushes.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_read(row, actor=cast.drafter)
    row.refresh_from_db()
    assert row.read_at is not None
    assert pushes == [
        (f"user.{cast.drafter.pk}", {"type": "notifications.read", "ids": [row.pk], "unread": 0})
    ]


def test_someone_else_cannot_mark_a_notification_read(cast, pushes):
    (row,) = services.notify([cast.drafter], kind="x.y", title="t")
    with pytest.raises(PermissionDenied):
        services.mark_read(row, actor=cast.outsider)
    row.refresh_from_db()
    assert row.read_at is None


def test_mark_all_read_touches_only_the_actors_rows(cast, pushes):
    services.notify([cast.drafter, cast.clerk], kind="x.y", title="一")
    services.notify([cast.drafter], kind="x.y", title="二")
    assert services.mark_all_read(actor=cast.drafter) == 2
    assert services.mark_all_read(actor=cast.drafter) == 0
    assert Notification.objects.filter(recipient=cast.clerk, read_at__isnull=True).count() == 1
