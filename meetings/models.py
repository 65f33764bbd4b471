"""Rooms, bookings, meetings, their notices and replies, check-in, agenda, materials, minutes and
the live meeting room (办会).

Facts that carry the design (docs/decisions.md, the meetings entries):

- A `Booking` holds a room for [starts_at, ends_at). Two bookings of one room that are pending or
  approved never overlap: on PostgreSQL an exclusion constraint (btree_gist) says so, on SQLite a
  trigger raises; both are created by migration 0002 for the database it runs on, and the booking
  service turns the database's refusal into a Chinese sentence. A pending booking holds the slot
  too, so approving it can never create a double booking.
- Who is invited is kept as the organiser chose it (`Invitee`: a person, a whole department, or an
  agency whose 收发员 chooses who attends); who must reply is one `Rsvp` row per person, created
  when the notice is sent (a department expanded to its members then). A delegate (指派他人) gets
  an Rsvp of their own, linked to the one that named them, and must reply too.
- The live room's shared state (current agenda item, material and page, mute-all, ended) is on
  the Meeting row; hands, votes and chat are rows; presence is per socket (`LivePresence`) so that
  several daphne processes agree on who is in.
- An anonymous vote stores who voted (one ballot each) but never what: the counts are on the
  `Vote` row, moved in the same transaction; nothing (audit included) links a person to a choice.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


def new_token() -> str:
    return secrets.token_urlsafe(24)


# --- rooms and bookings -----------------------------------------------------------------------


class BookableBy(models.TextChoices):
    AGENCY = "agency", "本机关全体人员"
    DEPARTMENTS = "departments", "指定部门"
    ADMINS = "admins", "仅会议室管理员"


class Room(models.Model):
    agency = models.ForeignKey("org.Agency", on_delete=models.PROTECT, related_name="meeting_rooms")
    name = models.CharField("名称", max_length=60)
    location = models.CharField("位置", max_length=120, blank=True)
    capacity = models.PositiveIntegerField("容纳人数")
    # "投影, 视频会议终端, 话筒" — shown as chips; a list of short words.
    equipment = models.JSONField("设备", default=list, blank=True)
    bookable_by = models.CharField(
        "谁可预订", max_length=12, choices=BookableBy.choices, default=BookableBy.AGENCY
    )
    bookable_departments = models.ManyToManyField(
        "org.Department", blank=True, related_name="bookable_rooms", verbose_name="可预订部门"
    )
    requires_approval = models.BooleanField("预订需审批", default=False)
    # 会议室管理员: approve bookings and manage the room (besides the agency's meeting_admin role).
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="administered_rooms", verbose_name="管理员"
    )
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "会议室"
        verbose_name_plural = "会议室"
        ordering = ["agency_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="meetings_room_name_unique"),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="meetings_room_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class BookingStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已确认"
    REFUSED = "refused", "未批准"
    CANCELLED = "cancelled", "已取消"


# The statuses that hold a room's time: the no-overlap rule (migration 0002) covers exactly these.
HOLDING_STATUSES = (BookingStatus.PENDING, BookingStatus.APPROVED)


class Series(models.Model):
    """A recurring meeting (每周/每月): its occurrences are Meetings that point here."""

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", "每周"
        MONTHLY = "monthly", "每月"

    frequency = models.CharField("重复", max_length=8, choices=Frequency.choices)
    interval = models.PositiveSmallIntegerField("间隔", default=1)
    count = models.PositiveSmallIntegerField("次数")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "周期会议"
        verbose_name_plural = "周期会议"

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} × {self.count}"


class Booking(models.Model):
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField("开始")
    ends_at = models.DateTimeField("结束")
    status = models.CharField("状态", max_length=10, choices=BookingStatus.choices)
    purpose = models.CharField("用途", max_length=120, blank=True)
    attendees = models.PositiveIntegerField("人数", default=1)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="room_bookings"
    )
    booked_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=200, blank=True)
    series = models.ForeignKey(
        Series, null=True, blank=True, on_delete=models.SET_NULL, related_name="bookings"
    )

    class Meta:
        verbose_name = "会议室预订"
        verbose_name_plural = "会议室预订"
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["room", "starts_at"], name="meetings_booking_room_start"),
            models.Index(fields=["status", "room"], name="meetings_booking_status_room"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="meetings_booking_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def holds_room(self) -> bool:
        return self.status in HOLDING_STATUSES


# --- meetings -----------------------------------------------------------------------------------


class MeetingKind(models.TextChoices):
    OFFICE = "office", "办公会"
    TOPIC = "topic", "专题会"
    VIDEO = "video", "视频会"
    FORUM = "forum", "座谈会"
    TRAINING = "training", "培训会"
    OTHER = "other", "其他"


class MeetingStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    NOTICED = "noticed", "已通知"
    LIVE = "live", "进行中"
    ENDED = "ended", "已结束"
    CANCELLED = "cancelled", "已取消"


class Meeting(models.Model):
    agency = models.ForeignKey("org.Agency", on_delete=models.PROTECT, related_name="meetings")
    title = models.CharField("会议名称", max_length=120)
    kind = models.CharField(
        "会议类型", max_length=10, choices=MeetingKind.choices, default=MeetingKind.OFFICE
    )
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    # The room is held by `booking` (None for an online-only meeting or before a room is chosen).
    booking = models.OneToOneField(
        Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="meeting"
    )
    online = models.BooleanField("线上参会", default=False)
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="hosted_meetings",
        verbose_name="主持人",
    )
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="organised_meetings",
        verbose_name="组织者",
    )
    notice = models.TextField("会议通知", blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.DRAFT
    )
    noticed_at = models.DateTimeField("通知时间", null=True, blank=True)
    # How long before the start the silent are reminded (once each, by the worker).
    remind_minutes_before = models.PositiveIntegerField("提前提醒（分钟）", default=60)
    series = models.ForeignKey(
        Series, null=True, blank=True, on_delete=models.SET_NULL, related_name="meetings"
    )
    # The QR code at the door encodes a URL with this token; rotating it invalidates printed codes.
    checkin_token = models.CharField(max_length=64, default=new_token, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    # --- the live room's shared state (meetings.live); moved only by the host's services ---
    live_agenda_item = models.ForeignKey(
        "AgendaItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    live_material = models.ForeignKey(
        "Material", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    live_page = models.PositiveIntegerField(default=1)
    muted_all = models.BooleanField(default=False)
    live_started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Moved by every change of the live state: a client that reconnects compares it.
    live_version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "会议"
        verbose_name_plural = "会议"
        ordering = ["-starts_at"]
        indexes = [
            models.Index(fields=["agency", "starts_at"], name="meetings_meeting_agency_start"),
            models.Index(fields=["organiser", "starts_at"], name="meetings_meeting_org_start"),
            models.Index(fields=["status", "starts_at"], name="meetings_meeting_status_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="meetings_meeting_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def room(self) -> Room | None:
        return self.booking.room if self.booking_id else None


class InviteeKind(models.TextChoices):
    PERSON = "person", "个人"
    DEPARTMENT = "department", "部门"
    AGENCY = "agency", "单位"


class Invitee(models.Model):
    """Whom the organiser invited, as chosen: a person, a whole department, or an agency whose
    收发员 (clerk) then chooses who attends (`chosen_at` set when they have)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitees")
    kind = models.CharField(max_length=10, choices=InviteeKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    department = models.ForeignKey(
        "org.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    agency = models.ForeignKey(
        "org.Agency", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # For an agency: how many it may send (0: as many as it likes) and when its clerk chose.
    quota = models.PositiveSmallIntegerField("名额", default=0)
    chosen_at = models.DateTimeField(null=True, blank=True)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "参会对象"
        verbose_name_plural = "参会对象"
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="person", user__isnull=False, department__isnull=True, agency__isnull=True)
                    | Q(kind="department", user__isnull=True, department__isnull=False, agency__isnull=True)
                    | Q(kind="agency", user__isnull=True, department__isnull=True, agency__isnull=False)
                ),
                name="meetings_invitee_one_target",
            ),
            models.UniqueConstraint(
                fields=["meeting", "user"], condition=Q(user__isnull=False), name="meetings_invitee_user_once"
            ),
            models.UniqueConstraint(
                fields=["meeting", "department"],
                condition=Q(department__isnull=False),
                name="meetings_invitee_dept_once",
            ),
            models.UniqueConstraint(
                fields=["meeting", "agency"],
                condition=Q(agency__isnull=False),
                name="meetings_invitee_agency_once",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user or self.department or self.agency)


class Reply(models.TextChoices):
    NONE = "", "未回复"
    ATTEND = "attend", "参加"
    LEAVE = "leave", "请假"
    DELEGATE = "delegate", "指派他人"


class CheckinMethod(models.TextChoices):
    QR = "qr", "扫码签到"
    MANUAL = "manual", "代为签到"
    LIVE = "live", "线上入会"


class Rsvp(models.Model):
    """One person's 回执 to one meeting; the rows of a meeting are who is expected."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="rsvps")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="meeting_rsvps")
    invitee = models.ForeignKey(
        Invitee, null=True, blank=True, on_delete=models.SET_NULL, related_name="rsvps"
    )
    # Set when this person was named by someone's 指派他人 (that Rsvp).
    delegated_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="delegate_rsvp"
    )
    reply = models.CharField("回执", max_length=10, choices=Reply.choices, default=Reply.NONE, blank=True)
    reason = models.CharField("请假事由", max_length=200, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField("签到时间", null=True, blank=True)
    checkin_method = models.CharField(max_length=8, choices=CheckinMethod.choices, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The host removed this person from the live room: they may not join it again.
    removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "回执"
        verbose_name_plural = "回执"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="meetings_rsvp_once"),
        ]
        indexes = [
            models.Index(fields=["meeting", "reply"], name="meetings_rsvp_meeting_reply"),
            models.Index(fields=["user", "meeting"], name="meetings_rsvp_user_meeting"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.meeting}"

    @property
    def expected(self) -> bool:
        """Counted among those expected at the meeting (not on leave, not handed to a delegate)."""
        return self.reply not in (Reply.LEAVE, Reply.DELEGATE)


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    order = models.PositiveSmallIntegerField("顺序")
    title = models.CharField("议题", max_length=200)
    presenter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    presenter_name = models.CharField("汇报人", max_length=60, blank=True)
    starts_at = models.DateTimeField("开始时间", null=True, blank=True)
    minutes = models.PositiveSmallIntegerField("时长（分钟）", default=15)
    notes = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "议题"
        verbose_name_plural = "议题"
        ordering = ["meeting_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "order"], name="meetings_agenda_order_unique")
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class Material(models.Model):
    """A file for the meeting (or one agenda item), read only by those who may see the meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="materials")
    agenda_item = models.ForeignKey(
        AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="materials"
    )
    blob = models.ForeignKey("blobs.Blob", on_delete=models.PROTECT, related_name="+")
    title = models.CharField("名称", max_length=200)
    filename = models.CharField(max_length=200, blank=True)
    # Pages of its PDF rendering (the live room turns pages of it); 0 until known.
    page_count = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "会议材料"
        verbose_name_plural = "会议材料"
        ordering = ["meeting_id", "id"]

    def __str__(self) -> str:
        return self.title


class Minutes(models.Model):
    """会议纪要: drafted here, issued through the 发文 flow as a 纪要 (`document`)."""

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="minutes")
    body = models.TextField("纪要正文", blank=True)
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)
    document = models.OneToOneField(
        "documents.OfficialDocument",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meeting_minutes",
    )

    class Meta:
        verbose_name = "会议纪要"
        verbose_name_plural = "会议纪要"

    def __str__(self) -> str:
        return f"{self.meeting} 纪要"


class Decision(models.Model):
    """One 议定事项 of the minutes; it can become a 督办事项 whose source is the meeting."""

    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, related_name="decisions")
    order = models.PositiveSmallIntegerField("顺序")
    text = models.TextField("议定事项")
    lead_department = models.ForeignKey(
        "org.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_on = models.DateField("完成时限", null=True, blank=True)
    supervision_item = models.OneToOneField(
        "workflows.SupervisionItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meeting_decision",
    )

    class Meta:
        verbose_name = "议定事项"
        verbose_name_plural = "议定事项"
        ordering = ["minutes_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["minutes", "order"], name="meetings_decision_order_unique")
        ]

    def __str__(self) -> str:
        return self.text[:40]


class CalendarFeed(models.Model):
    """A person's secret calendar-feed token (subscribed to from a phone's calendar app)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_token)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user} 日历订阅"


# --- the live meeting room ------------------------------------------------------------------------


class LivePresence(models.Model):
    """One open socket of a participant in the live room (several tabs = several rows)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The socket's channel name: unique, removed when the socket closes (or its process dies: swept).
    channel = models.CharField(max_length=200, unique=True)
    joined_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["meeting", "user"], name="meetings_presence_meeting_user")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.meeting_id}"


class HandState(models.TextChoices):
    WAITING = "waiting", "举手中"
    ALLOWED = "allowed", "已准许发言"
    DENIED = "denied", "未准许"
    LOWERED = "lowered", "已放下"


class HandRaise(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="hands")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=8, choices=HandState.choices, default=HandState.WAITING)
    raised_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["raised_at", "id"]
        constraints = [
            # At most one waiting hand per person and meeting: a double click raises it once.
            models.UniqueConstraint(
                fields=["meeting", "user"], condition=Q(state="waiting"), name="meetings_hand_waiting_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_state_display()}"


class VoteStatus(models.TextChoices):
    OPEN = "open", "表决中"
    CLOSED = "closed", "已结束"


class Choice(models.TextChoices):
    FOR = "for", "赞成"
    AGAINST = "against", "反对"
    ABSTAIN = "abstain", "弃权"


class Vote(models.Model):
    """表决. The tally lives here (moved with each ballot under the row lock)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="votes")
    agenda_item = models.ForeignKey(
        AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField("表决事项", max_length=200)
    anonymous = models.BooleanField("不记名", default=False)
    status = models.CharField(max_length=8, choices=VoteStatus.choices, default=VoteStatus.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    count_for = models.PositiveIntegerField(default=0)
    count_against = models.PositiveIntegerField(default=0)
    count_abstain = models.PositiveIntegerField(default=0)
    # Who could vote when it closed (present participants), for "N人未表决".
    electorate = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["opened_at", "id"]
        constraints = [
            # One open vote at a time per meeting.
            models.UniqueConstraint(
                fields=["meeting"], condition=Q(status="open"), name="meetings_vote_one_open"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Ballot(models.Model):
    """That a person voted (once). `choice` is kept for an open vote only; for an anonymous one it
    stays empty, so no row anywhere says what a person chose."""

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="ballots")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    choice = models.CharField(max_length=8, choices=Choice.choices, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vote", "voter"], name="meetings_ballot_once")]

    def __str__(self) -> str:
        return f"{self.voter_id} → {self.vote_id}"


class RoomMessage(models.Model):
    """A message of the live room's chat (会中交流): kept with the meeting, not in 消息."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="room_messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["meeting", "id"], name="meetings_roommsg_meeting_id")]

    def __str__(self) -> str:
        return f"{self.sender_id}: {self.body[:20]}"


class MediaSettings(models.Model):
    """The external media server (Jitsi or LiveKit) audio/video go through; one row per deployment,
    kept by the system administrator. The secret signs each participant's join token."""

    class Provider(models.TextChoices):
        NONE = "", "未配置"
        JITSI = "jitsi", "Jitsi"
        LIVEKIT = "livekit", "LiveKit"

    provider = models.CharField(max_length=10, choices=Provider.choices, blank=True)
    server_url = models.URLField("服务地址", blank=True)
    app_id = models.CharField("应用标识（API Key）", max_length=120, blank=True)
    app_secret = models.CharField("应用密钥", max_length=200, blank=True)
    token_minutes = models.PositiveIntegerField("令牌有效期（分钟）", default=240)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "音视频服务"
        verbose_name_plural = "音视频服务"

    def __str__(self) -> str:
        return self.get_provider_display()
