"""The minutes part of `load_demo` ("71-meetings-minutes", after "70-meetings"), for the demo
accounts (password as every demo login):

- an ENDED 专题会 of 省政府办公厅 yesterday 09:00–11:00, organised by 黄丽华 (huang.lihua, 文秘) and
  chaired by 王德明: 林小梅, 陈志强, 周建国 and 郑海涛 invited; 周建国 asked for leave;
- its agenda (three items with presenters and times) and materials: a 4-page PDF under the first
  item and a text file for the whole meeting, uploaded through meetings.agenda (checked, counted);
- check-ins through meetings.checkin while the door was open: 林小梅 by QR code, 陈志强 by the
  organiser's hand, 郑海涛 in the live room;
- the minutes with two 议定事项, issued as a 纪要 draft in the 发文 flow (黄丽华's 拟稿 task), and both
  decisions turned into 督办事项 (source 会议决定) that link back to the meeting.

The meeting is built "now" (door open, everything through the services), then moved to yesterday:
the check-in times move with it, so the attendance reads as it would have. If a meeting of that
title already exists (the demo loaded twice into one database), nothing is added.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from io import BytesIO
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.utils import timezone

from meetings import agenda, checkin, minutes
from meetings.models import Invitee, InviteeKind, Meeting, MeetingKind, MeetingStatus, Reply, Rsvp
from officeapp.org.models import User

TITLE = "全省政务服务“一网通办”推进专题会"
PEOPLE = ("huang.lihua", "wang.deming", "lin.xiaomei", "chen.zhiqiang", "zhou.jianguo", "zheng.haitao")


def _pdf(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def build(stdout: Callable[[str], Any]) -> str:
    if Meeting.objects.filter(title=TITLE).exists():
        return "会议纪要：演示会议已存在，未重复生成。"
    people = {u.username: u for u in User.objects.filter(username__in=PEOPLE)}
    missing = [name for name in PEOPLE if name not in people]
    if missing:
        raise RuntimeError(f"演示省份缺少会议纪要演示所需的人员：{'、'.join(missing)}")
    huang, wang = people["huang.lihua"], people["wang.deming"]
    lin, chen, zhou, zheng = (
        people[n] for n in ("lin.xiaomei", "chen.zhiqiang", "zhou.jianguo", "zheng.haitao")
    )

    now = timezone.now()
    meeting = Meeting.objects.create(
        agency=huang.department.agency,
        title=TITLE,
        kind=MeetingKind.TOPIC,
        starts_at=now - timedelta(minutes=10),
        ends_at=now + timedelta(minutes=110),
        host=wang,
        organiser=huang,
        notice="请各处室负责同志准时参会，并提前阅读会议材料。",
        status=MeetingStatus.NOTICED,
        noticed_at=now,
    )
    replies = {lin: Reply.ATTEND, chen: Reply.ATTEND, zhou: Reply.LEAVE, zheng: Reply.ATTEND}
    for person, reply in replies.items():
        invitee = Invitee.objects.create(meeting=meeting, kind=InviteeKind.PERSON, user=person)
        Rsvp.objects.create(
            meeting=meeting,
            user=person,
            invitee=invitee,
            reply=reply,
            reason="赴省委参加会议" if reply == Reply.LEAVE else "",
            replied_at=now,
        )

    first = agenda.add_agenda_item(
        meeting,
        actor=huang,
        title="听取“一网通办”工作进展情况汇报",
        presenter=chen,
        minutes=30,
        starts_at=meeting.starts_at,
    )
    agenda.add_agenda_item(
        meeting,
        actor=huang,
        title="研究政务服务事项清单修订工作",
        presenter=lin,
        minutes=40,
        starts_at=meeting.starts_at + timedelta(minutes=30),
    )
    agenda.add_agenda_item(
        meeting,
        actor=huang,
        title="部署平台适老化改造",
        presenter_name="省政务服务数据管理局 李明",
        minutes=30,
        starts_at=meeting.starts_at + timedelta(minutes=70),
    )
    agenda.add_material(
        meeting, actor=huang, upload=SimpleUploadedFile("工作进展汇报.pdf", _pdf(4)), agenda_item=first
    )
    agenda.add_material(
        meeting,
        actor=huang,
        upload=SimpleUploadedFile(
            "会议议程.txt", "一、听取汇报\n二、研究清单修订\n三、部署适老化改造\n".encode()
        ),
        title="会议议程",
    )

    checkin.check_in(meeting, actor=lin, token=meeting.checkin_token)
    checkin.check_in_by_hand(meeting, actor=huang, user=chen)
    checkin.check_in_live(meeting, actor=zheng)

    # Moved to yesterday 09:00–11:00 and ended; the check-in times move by the same amount.
    yesterday = timezone.localdate() - timedelta(days=1)
    start = timezone.make_aware(datetime.combine(yesterday, time(9, 0)))
    shift = start - meeting.starts_at
    Rsvp.objects.filter(meeting=meeting, checked_in_at__isnull=False).update(
        checked_in_at=F("checked_in_at") + shift
    )
    meeting.agenda_items.filter(starts_at__isnull=False).update(starts_at=F("starts_at") + shift)
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status=MeetingStatus.ENDED,
        live_started_at=start,
        ended_at=start + timedelta(hours=2),
        noticed_at=start - timedelta(days=3),
    )
    meeting.refresh_from_db()

    general = chen.department
    office = zhou.department
    record = minutes.save_minutes(
        meeting,
        actor=huang,
        body=(
            "一、会议听取了“一网通办”工作进展情况汇报\n"
            "会议认为，今年以来全省政务服务事项网上可办率稳步提升，企业群众办事更加便捷。\n"
            "二、会议研究了政务服务事项清单修订和平台适老化改造工作\n"
            "会议强调，要坚持问题导向，以企业群众需求为中心，推动更多事项“一次办、就近办”。"
        ),
        decisions=[
            minutes.DecisionInput(
                text="综合一处牵头修订全省政务服务事项清单，报厅务会审定",
                lead_department=general,
                due_on=yesterday + timedelta(days=30),
            ),
            minutes.DecisionInput(
                text="办公室牵头完成政务服务平台适老化改造方案",
                lead_department=office,
                due_on=yesterday + timedelta(days=60),
            ),
        ],
    )
    document = minutes.issue_minutes(meeting, actor=huang)
    items = [minutes.supervise_decision(d, actor=huang) for d in record.decisions.order_by("order")]
    return (
        f"会议纪要：已结束的会议“{TITLE}”（议程3项、材料2份、签到3人），"
        f"纪要发文稿“{document.title}”在黄丽华的拟稿环节，{len(items)}项议定事项已转督办。"
    )
