"""The live room's part of `load_demo` ("72-meetings-live", after the meetings "70" and minutes "71"
parts): the meeting in progress, 「防汛抗旱工作视频调度会」 (made by meetings.demo; made here as rows
when that part is absent; its agenda and material go through meetings.agenda), gets an agenda, a material turned to page 3 by the host 王德明
(wang.deming), a closed open-ballot vote with its result, an open anonymous vote with two ballots,
and a few chat lines — all through meetings.live_services, so the audit log and the outbox see it.
Presence is not built: it is who has the room open. Run twice, it changes nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from meetings import live_services
from meetings.models import AgendaItem, Material, Meeting, MeetingStatus, Reply, Rsvp, Vote
from officeapp.org.models import User

LIVE_TITLE = "防汛抗旱工作视频调度会"
MATERIAL_TITLE = "全省汛情通报（第12期）"
MATERIAL_PAGES = 8


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _meeting() -> Meeting | None:
    found = Meeting.objects.filter(title=LIVE_TITLE, status=MeetingStatus.LIVE).order_by("pk").first()
    if found is not None:
        return found
    huang, wang = _user("huang.lihua"), _user("wang.deming")
    people = [p for p in (_user(u) for u in ("lin.xiaomei", "chen.zhiqiang", "zhou.jianguo")) if p]
    if huang is None or wang is None or huang.department is None:
        return None
    now = timezone.now()
    meeting = Meeting.objects.create(
        agency_id=huang.department.agency_id,
        title=LIVE_TITLE,
        starts_at=now - timedelta(minutes=20),
        ends_at=now + timedelta(minutes=70),
        host=wang,
        organiser=huang,
        online=True,
        status=MeetingStatus.LIVE,
        noticed_at=now - timedelta(days=1),
        live_started_at=now - timedelta(minutes=20),
    )
    for person in people:
        Rsvp.objects.create(
            meeting=meeting, user=person, reply=Reply.ATTEND, replied_at=now - timedelta(hours=20)
        )
    return meeting


def _agenda(meeting: Meeting) -> list[AgendaItem]:
    items = list(AgendaItem.objects.filter(meeting=meeting).order_by("order"))
    if items:
        return items
    from meetings.agenda import add_agenda_item

    return [
        add_agenda_item(
            meeting, actor=meeting.organiser, title="当前汛情和水库运行情况通报", presenter_name="省水利厅"
        ),
        add_agenda_item(
            meeting, actor=meeting.organiser, title="部署下一阶段防汛抗旱工作", presenter=meeting.host
        ),
    ]


def _pdf(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)  # A4
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _material(meeting: Meeting, item: AgendaItem) -> Material:
    found = Material.objects.filter(meeting=meeting, filename__iendswith=".pdf").order_by("pk").first()
    if found is not None:
        return found
    from meetings.agenda import add_material

    upload = SimpleUploadedFile("flood-report.pdf", _pdf(MATERIAL_PAGES), content_type="application/pdf")
    return add_material(
        meeting, actor=meeting.organiser, upload=upload, title=MATERIAL_TITLE, agenda_item=item
    )


def build_live_demo(stdout: Callable[[str], Any]) -> str:
    meeting = _meeting()
    if meeting is None:
        return "会议室：演示账号不存在，跳过"
    if Vote.objects.filter(meeting=meeting).exists():
        return f"会议室：「{meeting.title}」已有演示数据"
    host = meeting.host
    items = _agenda(meeting)
    material = _material(meeting, items[0])
    live_services.turn(meeting, actor=host, agenda_item=items[0].pk)
    live_services.turn(meeting, actor=host, material=material.pk)
    live_services.turn(meeting, actor=host, page=min(3, material.page_count or 3))
    voters = [
        r.user for r in Rsvp.objects.filter(meeting=meeting, removed_at__isnull=True).select_related("user")
    ]
    choices = ["for", "for", "for", "abstain", "against"]

    closed = live_services.open_vote(
        meeting, actor=host, title="同意启动全省防汛Ⅳ级应急响应", anonymous=False
    )
    for voter, choice in zip(voters, choices, strict=False):
        live_services.cast_vote(meeting, actor=voter, vote_id=closed.pk, choice=choice)
    live_services.close_vote(meeting, actor=host, vote_id=closed.pk)

    secret = live_services.open_vote(
        meeting, actor=host, title="推荐汛期值守先进集体（不记名）", anonymous=True
    )
    for voter, choice in zip(voters[:2], ["for", "against"], strict=False):
        live_services.cast_vote(meeting, actor=voter, vote_id=secret.pk, choice=choice)

    lines = [
        (host, "请各地市汇报水库腾库迎汛进展。"),
        (voters[0] if voters else host, "收到，第3页的表格是最新数据。"),
        (meeting.organiser, "会后请将书面材料报办公厅秘书处。"),
    ]
    for sender, body in lines:
        if live_services.access.may_enter_room(sender, meeting):
            live_services.send_message(meeting, actor=sender, body=body)
    meeting.refresh_from_db()
    return f"会议室：「{meeting.title}」进行中（材料第 {meeting.live_page} 页、2 项表决、会中交流 {len(lines)} 条）"
