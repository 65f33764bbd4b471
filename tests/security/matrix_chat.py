"""Permission-matrix entries for chat (chat/urls.py, chat/urls_admin.py).

`conversation_id` is a working group of the drafter (owner) with the dept_head, from which the
other_clerk was removed: only the two current members reach it (200, or the redirect/400 of a POST
without its fields); the removed member, the 审计管理员 and everyone else get the 404 of a missing
conversation. `message_id` is the drafter's text message in it (no file: its file and thumbnail are
404 for everyone, members included — the page tests download real files). The pages that name no
conversation (the list, a new group, starting a 1:1) are for everyone who chats:
the 审计管理员 never does (403, as for the 通讯录).
"""

from __future__ import annotations

from typing import Any

MEMBERS_ONLY = {"anonymous": 302, "*": 404}
EVERYONE_BUT_AUDIT = {"anonymous": 302, "*": 200, "audit_admin": 403}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "chat:index": ("get", EVERYONE_BUT_AUDIT),
    "chat:new_group": ("get", EVERYONE_BUT_AUDIT),
    # 发消息 to the drafter: the 1:1 chat opens (302); to oneself it is refused and back to the list (302).
    "chat:start": ("post", {"anonymous": 302, "*": 302, "audit_admin": 403}),
    "chat:conversation": ("get", {**MEMBERS_ONLY, "drafter": 200, "dept_head": 200}),
    "chat:messages": ("get", {**MEMBERS_ONLY, "drafter": 200, "dept_head": 200}),
    # No file in the POST: refused in Chinese (400), nothing stored.
    "chat:upload": ("post", {**MEMBERS_ONLY, "drafter": 400, "dept_head": 400}),
    # No seq in the POST: 400.
    "chat:read": ("post", {**MEMBERS_ONLY, "drafter": 400, "dept_head": 400}),
    "chat:search": ("get", {**MEMBERS_ONLY, "drafter": 200, "dept_head": 200}),
    # 查看上下文 of the drafter's message: members only (the removed member too gets 404).
    "chat:context": ("get", {**MEMBERS_ONLY, "drafter": 200, "dept_head": 200}),
    "chat:settings": ("get", {**MEMBERS_ONLY, "drafter": 200, "dept_head": 200}),
    # The sender recalls (302 back to the conversation); the other member is refused (302 with the reason).
    "chat:recall": ("post", {**MEMBERS_ONLY, "drafter": 302, "dept_head": 302}),
    "chat:forward": ("get", {**MEMBERS_ONLY, "drafter": 200, "dept_head": 200}),
    "chat:receipts": ("get", {**MEMBERS_ONLY, "drafter": 200, "dept_head": 200}),
    "chat:file": ("get", MEMBERS_ONLY),
    "chat:thumbnail": ("get", MEMBERS_ONLY),
    # H4's pages: the owner exports (a member who is not the owner: 403); retention is the 安全管理员's.
    "chat:export": ("get", {**MEMBERS_ONLY, "drafter": 200, "dept_head": 403}),
    "chat:retention": ("get", {"anonymous": 302, "*": 403, "security_admin": 200}),
}


def objects(cast: Any, existing: dict[str, Any]) -> dict[str, Any]:
    from chat import services

    group = services.create_group(
        actor=cast.drafter, name="防汛工作专班", members=[cast.dept_head, cast.other_clerk]
    )
    services.remove_member(group, cast.other_clerk, actor=cast.drafter)
    message = services.send_text(group, actor=cast.drafter, body="请各单位报送值班表。")
    return {"conversation_id": group.pk, "message_id": message.pk, "seq": message.seq}
