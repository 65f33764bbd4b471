"""The chat source: what a message looks like in the index (first words as title, conversation and
sender under it, the 查看上下文 page as link), which outbox rows name it — a message sent, recalled,
purged by retention one by one or in batches — and that a recalled or purged one is deleted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from chat import retention, services
from chat.models import Message
from officeapp.outbox.models import OutboxEvent
from search.interface import KINDS
from search.sources.chat import SOURCES, MessageSource
from tests.chat.chat_cast import ChatCast, build_chat_cast

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def chat(cast: Any, settings: Any, tmp_path: Path) -> ChatCast:
    settings.S3_ENDPOINT = ""
    settings.BLOB_DIR = tmp_path / "blobs"
    cache.clear()
    return build_chat_cast(cast)


def last_event() -> int:
    return OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def refs_since(mark: int) -> list[str]:
    keys: list[str] = []
    for event in OutboxEvent.objects.filter(pk__gt=mark).order_by("pk"):
        for source in SOURCES:
            keys += list(source.refs_for(event))
    return keys


def group_of(chat: ChatCast) -> Any:
    return services.create_group(actor=chat.owner, name="防汛工作群", members=chat.members())


def test_the_source_registers_as_message() -> None:
    assert [(s.prefix, s.kind) for s in SOURCES] == [("message", "message")]
    assert SOURCES[0].kind in KINDS


def test_a_text_message_is_indexed_with_its_words_conversation_and_context_link(chat: ChatCast) -> None:
    group = group_of(chat)
    body = "请各单位于今晚八点前报送防汛值班表，并落实二十四小时值班制度，确保信息畅通，谢谢大家配合"
    message = services.send_text(group, actor=chat.finance_member, body=body)

    [doc], gone = MessageSource().build([f"message:{message.pk}"])

    assert gone == []
    assert doc.kind == "message" and doc.body == body
    assert doc.title == body[:40] + "…"
    assert doc.subtitle == "防汛工作群 · 李国华"
    assert doc.url == reverse("chat:context", args=[group.pk, message.seq])
    assert doc.principals == frozenset({f"conv:{group.pk}"}) and doc.acl_seq == message.seq
    assert doc.agency_id == chat.cast.finance.pk  # the sender's agency
    assert doc.date == message.created_at


def test_a_file_is_found_by_its_name_and_caption(chat: ChatCast) -> None:
    group = group_of(chat)
    upload = SimpleUploadedFile("防汛值班表.pdf", PDF_BYTES, content_type="application/pdf")
    message = services.send_file(group, actor=chat.owner, upload=upload, caption="请查收")

    [doc], _ = MessageSource().build([f"message:{message.pk}"])

    assert "防汛值班表.pdf" in doc.body and "请查收" in doc.body
    assert doc.title == "请查收"


def test_a_direct_chat_says_so_under_the_message(chat: ChatCast) -> None:
    direct = services.open_direct(chat.admin, actor=chat.owner)
    message = services.send_text(direct, actor=chat.owner, body="方案已改好")
    [doc], _ = MessageSource().build([f"message:{message.pk}"])
    assert doc.subtitle == "单聊 · 林小梅"


def test_sending_and_recalling_name_the_message_and_a_recalled_one_is_deleted(chat: ChatCast) -> None:
    group = group_of(chat)
    mark = last_event()
    message = services.send_text(group, actor=chat.owner, body="发错群了")
    key = f"message:{message.pk}"
    assert refs_since(mark) == [key]

    mark = last_event()
    services.recall(message, actor=chat.owner)

    assert refs_since(mark) == [key]
    assert MessageSource().build([key]) == ([], [key])


def test_system_notices_are_not_indexed(chat: ChatCast) -> None:
    group = group_of(chat)
    mark = last_event()
    services.remove_member(group, chat.education_member, actor=chat.owner)
    keys = refs_since(mark)
    [notice] = Message.objects.filter(conversation=group, kind="system").order_by("-seq")[:1]
    assert f"message:{notice.pk}" in keys
    assert MessageSource().build(keys) == ([], keys)


def test_retention_names_every_purged_message(chat: ChatCast) -> None:
    group = group_of(chat)
    old = [services.send_text(group, actor=chat.owner, body=f"旧消息{n}") for n in range(3)]
    Message.objects.filter(pk__in=[m.pk for m in old]).update(created_at=timezone.now() - timedelta(days=400))
    retention.set_retention(days=180, actor=chat.security_admin)

    mark = last_event()
    assert retention.purge_expired() == 3

    keys = [f"message:{m.pk}" for m in old]
    assert sorted(refs_since(mark)) == sorted(keys)
    assert MessageSource().build(keys) == ([], keys)


def test_purging_one_message_names_it(chat: ChatCast) -> None:
    group = group_of(chat)
    message = services.send_text(group, actor=chat.owner, body="过期消息")
    mark = last_event()
    services.purge_message(message)
    assert refs_since(mark) == [f"message:{message.pk}"]


def test_a_rebuild_walks_the_searchable_messages_only(chat: ChatCast) -> None:
    group = group_of(chat)
    kept = services.send_text(group, actor=chat.owner, body="留下")
    recalled = services.send_text(group, actor=chat.owner, body="撤回")
    services.recall(recalled, actor=chat.owner)
    [source] = SOURCES
    assert list(source.all_keys()) == [f"message:{kept.pk}"]
    assert source.count() == 1


def test_a_message_just_after_new_year_is_in_the_new_year(chat: ChatCast) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    message = services.send_text(group_of(chat), actor=chat.owner, body="新年快乐")
    new_year = datetime(2027, 1, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    Message.objects.filter(pk=message.pk).update(created_at=new_year)

    [doc], _ = MessageSource().build([f"message:{message.pk}"])

    assert doc.year == 2027
