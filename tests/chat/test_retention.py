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
