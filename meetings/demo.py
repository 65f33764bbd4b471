"""The meetings part of `load_demo` ("70-meetings", after chat), driven through meetings.services
and meetings.booking, so the audit log, the outbox and the notifications see it like any other.

What it builds for the demo accounts (password DEMO_PASSWORD):

- rooms: 省府办公厅 第一会议室 (40, anyone books) and 常务会议室 (16, bookings approved by the
  agency's 会议管理员), 省财政厅 第一会议室, 省教育厅 报告厅;
- meetings of 省府办公厅 organised by 黄丽华 (huang.lihua), chaired by 王德明 (wang.deming):
  · 「全省营商环境优化工作推进会」 noticed, in two days: 林小梅 参加, 周建国 请假 (with a reason),
    陈志强 指派 a colleague of 综合一处 who has not replied yet, 邓岚 and 何军 silent; 省教育厅 has
    chosen its attendee, 省财政厅's 收发员 李国华 (li.guohua) still has to choose (名额 2);
  · 「2027年度重点工作务虚会」 a draft with its invitees, not yet noticed;
  · 「防汛抗旱工作视频调度会」 in progress now (online and in 第一会议室), with check-ins;
  · 「三季度政务信息工作总结会」 ended yesterday, with its replies and check-ins;
  · 「节前安全生产检查部署会」 cancelled;
  · 「综合一处周例会」 weekly, four Mondays at 08:00, organised by 陈志强, the first one noticed;
- 林小梅's 「调研提纲讨论会」 in 常务会议室: its booking waits for the 会议管理员's approval.

The services refuse a meeting in the past, so the live and the ended meeting are created ahead and
then moved back in time (their bookings too) — in the demo only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from meetings import services
from meetings.models import (
    BookableBy,
    Booking,
    CheckinMethod,
    Invitee,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Reply,
    Room,
    Rsvp,
)
from officeapp.org.models import Agency, Role, User

TITLES = {
    "noticed": "全省营商环境优化工作推进会",
    "draft": "2027年度重点工作务虚会",
    "live": "防汛抗旱工作视频调度会",
    "ended": "三季度政务信息工作总结会",
    "cancelled": "节前安全生产检查部署会",
    "weekly": "综合一处周例会",
    "pending": "调研提纲讨论会",
}


def _at(days: int, hour: int, minute: int = 0) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _next_monday(hour: int) -> datetime:
    today = timezone.localdate()
    ahead = (7 - today.weekday()) % 7 or 7
    return _at(ahead, hour)


def _agency(short_name: str) -> Agency:
    return Agency.objects.get(short_name=short_name)


def _meeting_admin(agency: Agency) -> User:
    return (
        User.objects.filter(is_active=True, role_grants__role=Role.MEETING_ADMIN, role_grants__agency=agency)
        .order_by("pk")
        .first()
    )


def _clerk(agency: Agency) -> User:
    return (
        User.objects.filter(
            is_active=True,
            department__agency=agency,
            role_grants__role=Role.CLERK,
            role_grants__agency=agency,
        )
        .order_by("pk")
        .first()
    )


def _rooms(gov: Agency, finance: Agency, education: Agency) -> dict[str, Room]:
    first, _ = Room.objects.get_or_create(
        agency=gov,
        name="第一会议室",
        defaults={
            "location": "省府大院1号楼3楼",
            "capacity": 40,
            "equipment": ["投影", "话筒", "视频会议终端"],
        },
    )
    standing, created = Room.objects.get_or_create(
        agency=gov,
        name="常务会议室",
        defaults={
            "location": "省府大院1号楼5楼",
            "capacity": 16,
            "equipment": ["话筒", "视频会议终端", "同声传译"],
            "requires_approval": True,
            "bookable_by": BookableBy.AGENCY,
        },
    )
    admin = _meeting_admin(gov)
    if created and admin is not None:
        standing.admins.add(admin)
    finance_room, _ = Room.objects.get_or_create(
        agency=finance,
        name="第一会议室",
        defaults={"location": "财政厅大楼2楼", "capacity": 30, "equipment": ["投影"]},
    )
    hall, _ = Room.objects.get_or_create(
        agency=education,
        name="报告厅",
        defaults={"location": "教育厅大楼1楼", "capacity": 120, "equipment": ["投影", "话筒", "录播"]},
    )
    return {"first": first, "standing": standing, "finance": finance_room, "hall": hall}


def _move_back(meeting: Meeting, starts_at: datetime, ends_at: datetime) -> None:
    """Demo only: put a meeting (and its booking) in the past, where no service may create one."""
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=starts_at, ends_at=ends_at)
    if meeting.booking_id:
        Booking.objects.filter(pk=meeting.booking_id).update(starts_at=starts_at, ends_at=ends_at)
    meeting.refresh_from_db()


def _check_in(meeting: Meeting, users: list[User], at: datetime, method: str, by: User | None = None) -> None:
    Rsvp.objects.filter(meeting=meeting, user__in=users).update(
        checked_in_at=at, checkin_method=method, checked_in_by=by
    )


def build(stdout: Callable[[str], Any]) -> str:
    if Meeting.objects.filter(title=TITLES["noticed"]).exists():
        return "会议：已存在，未重复生成。"
    fixed = {
        u.username: u
        for u in User.objects.filter(
            username__in=[
                "lin.xiaomei",
                "chen.zhiqiang",
                "huang.lihua",
                "zhou.jianguo",
                "wang.deming",
                "li.guohua",
                "he.jun",
                "deng.lan",
            ]
        )
    }
    if len(fixed) < 8:
        raise RuntimeError("演示省份缺少会议演示所需的人员。")
    lin, chen, huang, zhou = (
        fixed["lin.xiaomei"],
        fixed["chen.zhiqiang"],
        fixed["huang.lihua"],
        fixed["zhou.jianguo"],
    )
    wang, he, deng = fixed["wang.deming"], fixed["he.jun"], fixed["deng.lan"]
    gov, finance, education = _agency("省府办公厅"), _agency("省财政厅"), _agency("省教育厅")
    rooms = _rooms(gov, finance, education)
    general = lin.department
    colleague = (
        User.objects.filter(department=general, is_active=True)
        .exclude(pk__in=[lin.pk, chen.pk])
        .order_by("pk")
        .first()
    )
    common = {"actor": huang, "host": wang}

    # Noticed, in two days: every kind of reply, a silent delegate, one agency still to choose.
    noticed = services.create_meeting(
        **common,
        title=TITLES["noticed"],
        kind=MeetingKind.OFFICE,
        starts_at=_at(2, 9),
        ends_at=_at(2, 11, 30),
        room=rooms["first"],
        online=True,
        notice=(
            "为贯彻落实全省优化营商环境工作部署，定于近期召开推进会。\n"
            "一、议程：通报工作进展；各单位汇报；王德明同志讲话。\n"
            "二、请各单位于会前一天报送书面汇报材料。"
        ),
        remind_minutes_before=24 * 60,
    )
    services.set_invitees(
        noticed,
        actor=huang,
        people=[lin, chen, zhou, he, deng],
        agencies=[(finance, 2), (education, 1)],
    )
    services.send_notice(noticed, actor=huang)
    services.reply(noticed, actor=lin, reply=Reply.ATTEND)
    services.reply(noticed, actor=zhou, reply=Reply.LEAVE, reason="同日赴京参加国务院办公厅工作会议")
    if colleague is not None:
        services.reply(noticed, actor=chen, reply=Reply.DELEGATE, delegate=colleague)
    edu_invite = Invitee.objects.get(meeting=noticed, agency=education)
    edu_clerk = _clerk(education)
    if edu_clerk is not None:
        edu_person = (
            User.objects.filter(department__agency=education, is_active=True)
            .exclude(pk=edu_clerk.pk)
            .order_by("pk")
            .first()
        )
        services.choose_attendees(edu_invite, actor=edu_clerk, people=[edu_person])
        services.reply(noticed, actor=edu_person, reply=Reply.ATTEND)

    # A draft with its invitees, not yet noticed.
    draft = services.create_meeting(
        **common,
        title=TITLES["draft"],
        kind=MeetingKind.TOPIC,
        starts_at=_at(5, 14, 30),
        ends_at=_at(5, 17, 30),
        room=rooms["first"],
        notice="研究2027年度重点工作思路，请各处室主要负责同志参加。",
    )
    services.set_invitees(draft, actor=huang, people=[chen, zhou], departments=[general])

    # In progress now (created ahead, then moved to now).
    live = services.create_meeting(
        **common,
        title=TITLES["live"],
        kind=MeetingKind.VIDEO,
        starts_at=_at(3, 15),
        ends_at=_at(3, 16),
        online=True,
        notice="视频调度各地市防汛抗旱工作，请各单位主要负责同志在线参会。",
    )
    services.set_invitees(live, actor=huang, people=[lin, chen, zhou, he, deng])
    services.send_notice(live, actor=huang)
    for person in (lin, chen, he):
        services.reply(live, actor=person, reply=Reply.ATTEND)
    now = timezone.now().replace(second=0, microsecond=0)
    _move_back(live, now - timedelta(minutes=20), now + timedelta(minutes=70))
    Meeting.objects.filter(pk=live.pk).update(
        status=MeetingStatus.LIVE, live_started_at=now - timedelta(minutes=20)
    )
    _check_in(live, [lin, chen], now - timedelta(minutes=18), CheckinMethod.LIVE)

    # Ended yesterday, with replies and check-ins.
    ended = services.create_meeting(
        **common,
        title=TITLES["ended"],
        kind=MeetingKind.FORUM,
        starts_at=_at(4, 9),
        ends_at=_at(4, 10, 30),
        room=rooms["first"],
    )
    services.set_invitees(ended, actor=huang, people=[lin, chen, zhou, deng])
    services.send_notice(ended, actor=huang)
    services.reply(ended, actor=lin, reply=Reply.ATTEND)
    services.reply(ended, actor=chen, reply=Reply.ATTEND)
    services.reply(ended, actor=zhou, reply=Reply.LEAVE, reason="陪同领导调研")
    _move_back(ended, _at(-1, 9), _at(-1, 10, 30))
    Meeting.objects.filter(pk=ended.pk).update(status=MeetingStatus.ENDED, ended_at=_at(-1, 10, 25))
    _check_in(ended, [lin], _at(-1, 8, 52), CheckinMethod.QR)
    _check_in(ended, [chen], _at(-1, 9, 3), CheckinMethod.MANUAL, by=huang)

    # Cancelled after the notice.
    cancelled = services.create_meeting(
        **common,
        title=TITLES["cancelled"],
        kind=MeetingKind.OFFICE,
        starts_at=_at(6, 9),
        ends_at=_at(6, 10),
        room=rooms["first"],
    )
    services.set_invitees(cancelled, actor=huang, people=[zhou, he])
    services.send_notice(cancelled, actor=huang)
    services.cancel_meeting(cancelled, actor=huang, reason="与省政府常务会议时间冲突，另行通知")

    # Weekly, four Mondays at 08:00 (the 综合一处 head organises it); the first one noticed.
    weekly, _result = services.create_series(
        actor=chen,
        host=chen,
        title=TITLES["weekly"],
        kind=MeetingKind.OFFICE,
        starts_at=_next_monday(8),
        ends_at=_next_monday(8) + timedelta(minutes=45),
        room=rooms["first"],
        frequency="weekly",
        count=4,
        notice="每周一例会：上周工作小结、本周安排。",
    )
    if weekly:
        services.set_invitees(weekly[0], actor=chen, departments=[general])
        services.send_notice(weekly[0], actor=chen)

    # 林小梅 books the 常务会议室: it waits for the 会议管理员.
    services.create_meeting(
        actor=lin,
        host=chen,
        title=TITLES["pending"],
        kind=MeetingKind.TOPIC,
        starts_at=_at(4, 15),
        ends_at=_at(4, 16, 30),
        room=rooms["standing"],
    )

    count = Meeting.objects.filter(agency=gov).count()
    return (
        f"会议：{len(rooms)} 间会议室，{count} 个会议（草稿、已通知、进行中、已结束、已取消、每周例会、待审批的预订）；"
        f"黄丽华组织，李国华待报送参会人员"
    )
