"""消息保存期限: only the 安全管理员 sets it; the daily job empties what is older, files included."""

from __future__ import annotations

from typing import Any

import pytest

from chat import retention
from chat.errors import ChatError
from chat.models import ChatRetention
from officeapp.audit.models import AuditEvent
from tests.chat.chat_cast import ChatCast

pytestmark = pytest.mark.django_db

RETENTION = "/chat/retention/"


def test_security_admin_sets_the_days_and_it_is_audited(chat: ChatCast, sign_in_verified: Any) -> None:
    client = sign_in_verified(chat.security_admin)
    page = client.get(RETENTION)
    assert page.status_code == 200
    html = page.content.decode()
    assert "消息保存期限" in html and "永久保存" in html and "无法恢复" in html
    assert f'href="{RETENTION}"' in html  # reached from the 安全管理员's navigation

    response = client.post(RETENTION, {"days": "180"}, follow=True)

    assert "已设置：消息保存 180 天。" in response.content.decode()
    assert retention.current_retention().days == 180
    event = AuditEvent.objects.get(action="chat.retention.set")
    assert event.actor == chat.security_admin and event.details == {"days": 180, "previous": 0}


def test_invalid_days_rerender_with_what_was_typed(chat: ChatCast, sign_in_verified: Any) -> None:
    client = sign_in_verified(chat.security_admin)

    response = client.post(RETENTION, {"days": "-3"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "保存天数不能小于 0。" in html and 'value="-3"' in html
    assert retention.current_retention().days == 0
    assert not AuditEvent.objects.filter(action="chat.retention.set").exists()


@pytest.mark.parametrize("who", ["owner", "admin", "outsider"])
def test_anyone_but_the_security_admin_is_refused_the_page(chat: ChatCast, sign_in: Any, who: str) -> None:
    client = sign_in(getattr(chat, who))

    assert client.get(RETENTION).status_code == 403
    assert client.post(RETENTION, {"days": "1"}).status_code == 403
    assert not ChatRetention.objects.filter(days=1).exists()


def test_audit_admin_is_refused_the_page(chat: ChatCast, sign_in_verified: Any) -> None:
    client = sign_in_verified(chat.audit_admin)

    assert client.post(RETENTION, {"days": "1"}).status_code == 403
    with pytest.raises(ChatError, match="只有安全管理员可以设置消息保存期限。"):
        retention.set_retention(actor=chat.audit_admin, days=1)


def test_signed_out_visitor_is_sent_to_sign_in(client: Any) -> None:
    response = client.get(RETENTION)
    assert response.status_code == 302 and "next=" in response["Location"]


# --- the daily purge -------------------------------------------------------------------------------


@pytest.fixture
def old_group(chat: ChatCast, settings: Any, tmp_path: Any, monkeypatch: Any) -> Any:
    """A group whose first messages (a text and a file) were sent 40 days ago, and one sent today."""
    from datetime import timedelta

    from django.utils import timezone

    from chat import live, services
    from chat.models import Message
    from tests.blobs.conftest import docx_bytes, upload

    monkeypatch.setattr(live, "publish", lambda *args: None)
    monkeypatch.setattr(live, "publish_to_users", lambda *args: None)
    settings.S3_ENDPOINT = ""
    settings.BLOB_DIR = tmp_path / "blobs"
    group = services.create_group(actor=chat.owner, name="跨厅工作组", members=chat.members())
    old_text = services.send_text(group, actor=chat.owner, body="四十天前的安排")
    old_file = services.send_file(
        group, actor=chat.finance_member, upload=upload("预算表.docx", docx_bytes())
    )
    Message.objects.filter(conversation=group).update(created_at=timezone.now() - timedelta(days=40))
    recent = services.send_text(group, actor=chat.owner, body="今天的安排")
    return group, old_text, old_file, recent


def test_purged_message_shows_no_text_and_no_file(chat: ChatCast, old_group: Any, sign_in: Any) -> None:
    from chat.frames import message_frame
    from chat.models import Message
    from chat.services import ChatFilesReferrer

    group, old_text, old_file, recent = old_group
    blob_id = old_file.blob_id
    retention.set_retention(actor=chat.security_admin, days=30)

    purged = retention.purge_expired()

    assert purged == 3  # the "创建了群聊" system message, the text and the file
    text, file, kept = (Message.objects.get(pk=m.pk) for m in (old_text, old_file, recent))
    assert message_frame(text)["body"] == "" and text.purged_at is not None
    assert message_frame(file)["file"] is None and file.file_name == "" and file.blob_id is None
    assert message_frame(kept)["body"] == "今天的安排" and kept.purged_at is None
    assert blob_id not in set(ChatFilesReferrer().referenced_blob_ids().values_list("pk", flat=True))
    assert sign_in(chat.finance_member).get(f"/chat/m/{old_file.pk}/file/").status_code == 404
    page = sign_in(chat.owner).get(f"/chat/c/{group.pk}/messages/").json()
    bodies = [m["body"] for m in page["messages"]]
    assert "四十天前的安排" not in bodies and "今天的安排" in bodies
    event = AuditEvent.objects.get(action="chat.retention.purge")
    assert event.details["count"] == 3 and "安排" not in str(event.details)


def test_purging_again_changes_nothing_and_zero_days_keeps_everything(chat: ChatCast, old_group: Any) -> None:
    from chat.models import Message

    assert retention.purge_expired() == 0  # 0 days: kept for ever
    retention.set_retention(actor=chat.security_admin, days=30)
    retention.purge_expired()

    assert retention.purge_expired() == 0
    assert Message.objects.filter(purged_at__isnull=False).count() == 3


def test_a_run_is_bounded_and_the_next_run_continues(
    chat: ChatCast, old_group: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(retention, "BATCH", 2)
    retention.set_retention(actor=chat.security_admin, days=30)

    assert retention.purge_expired(max_batches=1) == 2
    assert retention.purge_expired(max_batches=1) == 1
    assert retention.purge_expired(max_batches=1) == 0


def test_the_daily_job_and_demo_builder_are_registered() -> None:
    from officeapp.registries import demo_builders, worker_schedules

    assert worker_schedules["chat.retention"].func == "chat.retention.purge_expired_job"
    assert worker_schedules["chat.department_groups"].func == "chat.department_groups.nightly_sync_job"
    assert "60-chat" in demo_builders
