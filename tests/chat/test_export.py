"""导出聊天记录: the owner takes the history away as Excel or text, bounded and audited without text."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from chat import export, services
from chat.models import Conversation
from officeapp.audit.models import AuditEvent
from tests.chat.chat_cast import ChatCast

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quiet_live(monkeypatch: Any) -> None:
    from chat import live

    monkeypatch.setattr(live, "publish", lambda *args: None)
    monkeypatch.setattr(live, "publish_to_users", lambda *args: None)


@pytest.fixture
def group(chat: ChatCast) -> Conversation:
    group = services.create_group(actor=chat.owner, name="跨厅工作组", members=chat.members())
    first = services.send_text(group, actor=chat.owner, body="请各位周五前报送材料")
    services.send_text(group, actor=chat.finance_member, body="收到，财政厅这边没问题", reply_to=first)
    mistake = services.send_text(group, actor=chat.education_member, body="发错了的内容")
    services.recall(mistake, actor=chat.education_member)
    services.send_text(group, actor=chat.admin, body='=HYPERLINK("http://x")')
    return group


def url(group: Conversation, fmt: str = "") -> str:
    return f"/chat/c/{group.pk}/export/" + (f"?format={fmt}" if fmt else "")


def test_owner_exports_text_with_recalled_messages_as_a_marker(
    chat: ChatCast, group: Conversation, sign_in: Any
) -> None:
    response = sign_in(chat.owner).get(url(group, "txt"))

    assert response.status_code == 200 and response.streaming
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    assert "聊天记录：跨厅工作组" in text
    assert "林小梅（省府办公厅）：请各位周五前报送材料" in text
    assert "李国华（省财政厅）：[回复 林小梅 的第 2 条] 收到，财政厅这边没问题" in text
    assert "孙敏（省教育厅）：消息已撤回" in text and "发错了的内容" not in text
    assert "超过导出上限" not in text


def test_owner_exports_excel_where_a_formula_stays_text(
    chat: ChatCast, group: Conversation, sign_in: Any
) -> None:
    response = sign_in(chat.owner).get(url(group, "xlsx"))

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == list(export.HEADER)
    contents = [row[4] for row in rows[1:]]
    assert "请各位周五前报送材料" in contents and "消息已撤回" in contents
    formula_row = next(row for row in sheet.iter_rows(min_row=2) if str(row[4].value).startswith("="))
    assert formula_row[4].data_type == "s"


def test_export_is_audited_with_the_count_and_no_text(
    chat: ChatCast, group: Conversation, sign_in: Any
) -> None:
    b"".join(sign_in(chat.owner).get(url(group, "txt")).streaming_content)

    event = AuditEvent.objects.get(action="chat.conversation.export")
    assert event.actor == chat.owner and event.object_id == str(group.pk)
    assert event.details == {"format": "txt", "count": 5, "cut": False}
    assert "报送" not in str(event.details)


def test_a_long_history_is_cut_and_the_file_says_so(
    chat: ChatCast, group: Conversation, sign_in: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(export, "EXPORT_CAP", 3)
    total = Conversation.objects.get(pk=group.pk).last_seq

    text = b"".join(sign_in(chat.owner).get(url(group, "txt")).streaming_content).decode()

    assert f"本会话共 {total} 条消息，超过导出上限 3 条，仅导出最近的 3 条" in text
    assert "请各位周五前报送材料" not in text and "消息已撤回" in text


def test_the_export_page_says_the_cap(chat: ChatCast, group: Conversation, sign_in: Any) -> None:
    html = sign_in(chat.owner).get(url(group)).content.decode()

    assert "每次最多导出最近的 100000 条消息" in html and "?format=xlsx" in html


def test_a_member_who_is_not_the_owner_gets_403(chat: ChatCast, group: Conversation, sign_in: Any) -> None:
    response = sign_in(chat.admin).get(url(group, "txt"))

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="chat.conversation.export").exists()


def test_a_non_member_gets_404(chat: ChatCast, group: Conversation, sign_in: Any) -> None:
    assert sign_in(chat.outsider).get(url(group, "txt")).status_code == 404
    assert sign_in(chat.outsider).get("/chat/c/999999/export/").status_code == 404


def test_an_unknown_format_is_refused_in_chinese(chat: ChatCast, group: Conversation, sign_in: Any) -> None:
    response = sign_in(chat.owner).get(url(group, "pdf"))

    assert response.status_code == 400
    assert "导出格式只能是 Excel（xlsx）或文本（txt）。" in response.content.decode()
