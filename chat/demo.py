"""The chat part of `load_demo` ("60-chat", after the flows' demo data), driven through chat.services.

What it builds, for the demo accounts (README "Try 消息"):

- the 部门群 of every department of 省府办公厅, 省财政厅 and 省教育厅, synced with the org here; the other
  departments' groups are synced by the worker (the province's commit queued them) or the nightly run;
- 1:1 chats: 林小梅 ↔ 陈志强 (her 处长), 林小梅 ↔ 李国华 (省财政厅), 陈志强 ↔ 王德明 (分管领导);
- the working group 「三厅联合调研工作组」 across 省府办公厅, 省财政厅 and 省教育厅, owned by 林小梅, with
  陈志强 as admin: a 群公告, text with @mentions, a reply, a message forwarded from a 1:1 chat, a
  recalled message, a file (调研提纲.docx) and an image (a small generated PNG);
- unread messages waiting for the people who sign in first: 林小梅 has the group's last messages
  and 李国华's 1:1 reply unread, 陈志强 has 林小梅's 1:1 message unread, 李国华 the group's.

The 省教育厅 member is the 处长 of its 高等教育处, a generated person; she signs in with the demo password
too (her username is printed in the summary line). Everything is sent "now", in this order.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from chat import department_groups, services
from chat.models import Conversation, ConversationKind, MemberRole, Message
from officeapp.org.models import Department, Role, User

WORKING_GROUP = "三厅联合调研工作组"
DEMO_AGENCIES = ("省府办公厅", "省财政厅", "省教育厅")
NOTICE = (
    "本工作组负责“优化营商环境”联合调研：\n"
    "1. 12月12日前各单位报送调研提纲意见；\n"
    "2. 12月18日赴广州、佛山实地调研；\n"
    "3. 材料统一发在群里，勿外传。"
)


@dataclass
class ChatDemoPeople:
    lin: User  # 林小梅, 省府办公厅 综合一处 — owner of the working group
    chen: User  # 陈志强, her 处长 — admin of the group
    wang: User  # 王德明, 分管领导
    li: User  # 李国华, 省财政厅 办公室
    education: User  # 处长 of 省教育厅 高等教育处 (generated)
    huang: User  # 黄丽华, 秘书处


def demo_people() -> ChatDemoPeople:
    fixed = {
        u.username: u
        for u in User.objects.filter(
            username__in=["lin.xiaomei", "chen.zhiqiang", "wang.deming", "li.guohua", "huang.lihua"]
        )
    }
    education = (
        User.objects.filter(
            is_active=True,
            department__agency__short_name="省教育厅",
            department__name="高等教育处",
            role_grants__role=Role.DEPT_HEAD,
        )
        .order_by("pk")
        .first()
    )
    if education is None or len(fixed) < 5:
        raise RuntimeError("演示省份缺少即时通讯演示所需的人员。")
    return ChatDemoPeople(
        lin=fixed["lin.xiaomei"],
        chen=fixed["chen.zhiqiang"],
        wang=fixed["wang.deming"],
        li=fixed["li.guohua"],
        education=education,
        huang=fixed["huang.lihua"],
    )


def demo_png(width: int = 48, height: int = 32) -> bytes:
    """A small PNG drawn here (a blue band over white), so the demo needs no image file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b""
    for y in range(height):
        colour = b"\x1f\x5f\xbf" if height // 3 <= y < 2 * height // 3 else b"\xff\xff\xff"
        rows += b"\x00" + colour * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def demo_docx() -> bytes:
    from docx import Document

    document = Document()
    document.add_heading("优化营商环境联合调研提纲", level=1)
    for line in ("一、调研目的", "二、调研对象：广州、佛山两市政务服务中心", "三、时间安排", "四、分工"):
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def build_chat_demo(stdout: Callable[[str], Any]) -> str:
    demo_departments = Department.objects.filter(agency__short_name__in=DEMO_AGENCIES).values_list(
        "pk", flat=True
    )
    report = department_groups.sync_departments(demo_departments)
    people = demo_people()
    lin, chen, wang, li, edu, huang = (
        people.lin,
        people.chen,
        people.wang,
        people.li,
        people.education,
        people.huang,
    )
    # She signs in with the demo password too (the same hash as the fixed accounts, no re-hashing).
    User.objects.filter(pk=edu.pk).update(password=lin.password, must_change_password=False)

    # 1:1 chats.
    lin_chen = services.open_direct(chen, actor=lin)
    services.send_text(lin_chen, actor=chen, body="小梅，营商环境调研的牵头工作由你负责，先拉个跨厅工作组。")
    services.send_text(lin_chen, actor=lin, body="好的处长，我今天建群，把财政厅和教育厅的同志拉进来。")
    lin_li = services.open_direct(li, actor=lin)
    services.send_text(
        lin_li, actor=lin, body="李老师您好，我是办公厅综合一处林小梅，调研的事想请财政厅支持。"
    )
    chen_wang = services.open_direct(wang, actor=chen)
    services.send_text(chen_wang, actor=wang, body="调研方案周五前报我。")
    services.send_text(chen_wang, actor=chen, body="收到，王主任。")

    # The working group across three agencies.
    group = services.create_group(actor=lin, name=WORKING_GROUP, members=[chen, li, edu, huang])
    services.set_admin(group, chen, actor=lin, admin=True)
    services.set_notice(group, actor=lin, notice=NOTICE)
    ask = services.send_text(
        group,
        actor=lin,
        body=f"@{li.real_name} @{edu.real_name} 请两位各指定一名联络员，调研提纲见下面的附件。",
        mentions=[li.pk, edu.pk],
    )
    services.send_file(
        group, actor=lin, upload=_upload("调研提纲.docx", demo_docx(), "application/octet-stream")
    )
    oops = services.send_text(group, actor=lin, body="（发错群了）明天上午的处务会改到下午三点。")
    services.recall(oops, actor=lin)
    services.send_text(group, actor=li, body="财政厅这边由我联络，提纲收到。", reply_to=ask)
    instruction = Message.objects.filter(conversation=lin_chen, sender=chen).order_by("seq").first()
    if instruction is not None:
        services.forward(instruction, group, actor=lin)
    services.send_text(group, actor=lin, body="@所有人 请于12月12日前反馈提纲意见。", mention_all=True)
    services.send_file(group, actor=edu, upload=_upload("调研路线图.png", demo_png(), "image/png"))
    services.send_text(group, actor=edu, body="教育厅由我联络。路线图已发，请林科看是否合适。")
    services.send_text(group, actor=chen, body="路线可以，佛山点位再加一个政务服务中心。")
    # Unread waiting for whoever signs in first: 林小梅 has the last group messages and this reply.
    services.send_text(lin_li, actor=li, body="林科您好，没问题，具体事项群里沟通。")
    # 陈志强 reads the group up to his own message; 林小梅's 1:1 question stays unread for him.
    services.send_text(lin_chen, actor=lin, body="处长，工作组已建好，反馈提纲意见的通知也发了。")

    members = group.memberships.filter(left_at__isnull=True).count()
    owner = group.memberships.get(role=MemberRole.OWNER).user.username
    department_groups_count = Conversation.objects.filter(kind=ConversationKind.DEPARTMENT).count()
    stdout(str(report))
    return (
        f"即时通讯演示：{Conversation.objects.filter(kind=ConversationKind.DIRECT).count()} 个单聊，"
        f"「{WORKING_GROUP}」{members} 人（群主 {owner}，省教育厅成员 {edu.username}，密码同演示账号），"
        f"{department_groups_count} 个部门群。"
    )
