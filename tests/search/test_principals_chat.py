"""Chat messages in search are seen by exactly whom chat.access lets see them: for every person in
the database and every indexed message of a varied set (a group, a 1:1 chat, a member who joined
late, one who was removed, one who left and came back), "a principal in common above its floor"
equals "a current membership whose visible_messages hold the message". Removal needs no reindex:
the member's principal is gone at query time — shown here with the engine itself."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from chat import services
from chat.access import current_memberships, search_principals_of, visible_messages
from chat.models import Message
from officeapp.org import services as org
from officeapp.org.models import User
from search.engines.embedded import EmbeddedEngine
from search.sources.chat import MessageSource
from tests.chat.chat_cast import ChatCast, build_chat_cast
from tests.conftest import CAST_PASSWORD

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def visible_with_floors(
    user_principals: Mapping[str, int | None], doc_principals: Any, acl_seq: int = 0
) -> bool:
    """The engines' rule: one principal in common whose floor (if any) is below the item's acl_seq."""
    return any(
        p in user_principals and (user_principals[p] is None or acl_seq > user_principals[p])
        for p in doc_principals
    )


@pytest.fixture
def chat(cast: Any, settings: Any, tmp_path: Path) -> ChatCast:
    settings.S3_ENDPOINT = ""
    settings.BLOB_DIR = tmp_path / "blobs"
    cache.clear()  # the send rate limit counts in the cache
    return build_chat_cast(cast)


def visible_to(user: Any, message: Message) -> bool:
    """chat.access's answer: a current membership of the conversation whose visible_messages hold it."""
    membership = current_memberships(user).filter(conversation_id=message.conversation_id).first()
    return membership is not None and visible_messages(membership).filter(pk=message.pk).exists()


def varied_chat(chat: ChatCast) -> dict[str, Any]:
    cast = chat.cast
    group = services.create_group(actor=chat.owner, name="防汛工作群", members=chat.members())
    services.send_text(group, actor=chat.owner, body="请各单位今晚报送防汛值班表")
    services.send_text(group, actor=chat.admin, body="综合处已报送")
    wrong = services.send_text(group, actor=chat.admin, body="发错群了")
    services.recall(wrong, actor=chat.admin)
    services.send_file(
        group,
        actor=chat.admin,
        upload=SimpleUploadedFile("值班表.pdf", PDF_BYTES, content_type="application/pdf"),
    )
    late = org.create_user(
        actor=None,
        username="late_joiner",
        real_name="后来者",
        department=cast.general_dept,
        password=CAST_PASSWORD,
        employee_no="BGT0601",
        mobile="13500000601",
    )
    services.add_members(group, [late], actor=chat.owner)
    services.send_text(group, actor=chat.finance_member, body="财政厅已报送防汛值班表")
    services.remove_member(group, chat.education_member, actor=chat.owner)
    services.send_text(group, actor=late, body="收到，今晚我值班")
    # Left and came back: sees from the second joining on only.
    services.remove_member(group, chat.finance_member, actor=chat.owner)
    services.send_text(group, actor=chat.owner, body="财政厅不在时的消息")
    services.add_members(group, [chat.finance_member], actor=chat.owner)
    services.send_text(group, actor=chat.owner, body="欢迎回来")
    direct = services.open_direct(cast.leader, actor=chat.owner)
    services.send_text(direct, actor=chat.owner, body="王厅长，防汛方案已报")
    services.send_text(direct, actor=cast.leader, body="好的")
    return {"group": group, "direct": direct, "late": late}


def test_search_sees_exactly_the_messages_chat_access_shows(chat: ChatCast) -> None:
    varied_chat(chat)
    messages = list(Message.objects.order_by("pk"))
    docs, gone = MessageSource().build([f"message:{m.pk}" for m in messages])
    by_key = {f"message:{m.pk}": m for m in messages}
    # System notices (joined, removed …) and the recalled message are not indexed; the rest is.
    assert {by_key[k].kind for k in gone} == {"system", "text"}
    assert [by_key[k].body for k in gone if by_key[k].kind == "text"] == [""]  # recalled: emptied
    assert len(docs) == 9 and any("值班表.pdf" in d.body for d in docs)

    seen, hidden = set(), set()
    for user in User.objects.order_by("pk"):
        mine = search_principals_of(user)
        for doc in docs:
            expected = visible_to(user, by_key[doc.key])
            assert visible_with_floors(mine, doc.principals, doc.acl_seq) == expected, (
                user.username,
                doc.key,
            )
            (seen if expected else hidden).add(doc.key)
    assert seen == hidden == {d.key for d in docs}


def test_a_late_joiner_has_her_joining_seq_as_floor(chat: ChatCast) -> None:
    data = varied_chat(chat)
    group, late = data["group"], data["late"]
    floor = search_principals_of(late)[f"conv:{group.pk}"]
    assert floor > 0
    before = Message.objects.filter(conversation=group, seq__lte=floor, kind="text")
    after = Message.objects.filter(conversation=group, seq__gt=floor, kind="text")
    assert before.exists() and after.exists()
    docs, _ = MessageSource().build([f"message:{m.pk}" for m in [*before, *after]])
    found = {d.key for d in docs if visible_with_floors(search_principals_of(late), d.principals, d.acl_seq)}
    assert found == {f"message:{m.pk}" for m in after}


def test_the_audit_admin_and_an_inactive_person_hold_no_conversation(chat: ChatCast) -> None:
    varied_chat(chat)
    assert search_principals_of(chat.audit_admin) == {}
    owner = User.objects.get(pk=chat.owner.pk)
    assert search_principals_of(owner)
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert search_principals_of(User.objects.get(pk=owner.pk)) == {}


def test_a_removed_member_stops_finding_messages_without_any_reindex(chat: ChatCast, tmp_path: Path) -> None:
    group = services.create_group(actor=chat.owner, name="防汛工作群", members=chat.members())
    message = services.send_text(group, actor=chat.owner, body="防汛物资清单已更新")
    engine = EmbeddedEngine(tmp_path / "chat-index.sqlite3")
    docs, _ = MessageSource().build([f"message:{message.pk}"])
    engine.index(docs)
    key = f"message:{message.pk}"
    assert key in engine.visible_keys(search_principals_of(chat.education_member))

    services.remove_member(group, chat.education_member, actor=chat.owner)

    assert key not in engine.visible_keys(search_principals_of(chat.education_member))
    assert key in engine.visible_keys(search_principals_of(chat.admin))

    # Back in the group, she sees from her new joining on: the old message stays out of reach.
    services.add_members(group, [chat.education_member], actor=chat.owner)
    assert key not in engine.visible_keys(search_principals_of(chat.education_member))
