"""会议纪要: drafted here, issued through the 发文 flow as a 纪要, its 议定事项 turned into 督办.

- `save_minutes` keeps the body (plain paragraphs; a line starting 一、/（一）/1./（1） becomes a
  heading, as in the 发文 body editor) and the 议定事项 list (text, lead department, due date).
  A decision that already became a 督办事项 keeps its text, department and date: the item was
  filed with them.
- `issue_minutes` creates a 发文 draft of 文种 纪要 (documents.services.create_draft: layout 纪要格式,
  the body as its first DocumentVersion, 出席/请假 from the check-ins and replies), starts its 发文
  process with the actor as drafter and links it (Minutes.document). From then on the text is
  edited in the 发文 flow, not here.
- `supervise_decision` files a 督办事项 through workflows.supervision.initiate with the meeting as
  its source (会议决定); the "meeting" SourceKind registered below lets the item page link back to
  the meeting for those who may see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from meetings import access
from meetings.errors import MeetingError
from meetings.models import Decision, Meeting, MeetingStatus, Minutes, Reply, Rsvp
from officeapp.audit.services import record
from officeapp.outbox.services import emit

BODY_MAX_CHARS = 50000
DECISION_MAX_CHARS = 2000
DECISIONS_MAX = 50

MSG_NOT_ORGANISER = "只有会议组织者可以编写会议纪要。"
MSG_CANCELLED = "会议已取消，不能编写纪要。"
MSG_ISSUED = "纪要已送发文办理，请在发文流程中修改正文。"
MSG_NO_BODY = "请先填写纪要正文。"
MSG_NOT_SUPERVISOR = "只有本机关的督查员或办公室人员可以将议定事项转为督办。"
MSG_ALREADY_SUPERVISED = "该议定事项已转为督办事项。"
MSG_NO_LEAD = "请先为该议定事项指定牵头单位。"


@dataclass(frozen=True)
class DecisionInput:
    """One 议定事项 as the form sends it: `id` of an existing one, or None for a new one."""

    text: str
    lead_department: Any = None
    due_on: date | None = None
    id: int | None = None


def _locked_meeting(meeting: Meeting, actor: Any) -> Meeting:
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not access.can_manage_meeting(actor, locked):
        raise MeetingError(MSG_NOT_ORGANISER)
    if locked.status == MeetingStatus.CANCELLED:
        raise MeetingError(MSG_CANCELLED)
    return locked


def _clean_decisions(meeting: Meeting, decisions: list[DecisionInput]) -> list[DecisionInput]:
    cleaned: list[DecisionInput] = []
    meeting_day = timezone.localtime(meeting.starts_at).date()
    for number, d in enumerate(decisions, 1):
        text = (d.text or "").strip()
        if not text:
            if d.lead_department is not None or d.due_on is not None:
                raise MeetingError(f"第{number}项议定事项：请填写事项内容。")
            continue
        if len(text) > DECISION_MAX_CHARS:
            raise MeetingError(f"第{number}项议定事项不能超过 {DECISION_MAX_CHARS} 个字。")
        if d.due_on is not None and d.due_on < meeting_day:
            raise MeetingError(f"第{number}项议定事项：完成时限不能早于会议日期（{meeting_day:%Y-%m-%d}）。")
        if d.lead_department is not None and not d.lead_department.is_active:
            raise MeetingError(f"第{number}项议定事项：{d.lead_department.name}已撤销，不能作为牵头单位。")
        cleaned.append(DecisionInput(text=text, lead_department=d.lead_department, due_on=d.due_on, id=d.id))
    if len(cleaned) > DECISIONS_MAX:
        raise MeetingError(f"议定事项不能超过 {DECISIONS_MAX} 项。")
    return cleaned


def save_minutes(meeting: Meeting, *, actor: Any, body: str, decisions: list[DecisionInput]) -> Minutes:
    body = (body or "").replace("\r\n", "\n").strip()
    if len(body) > BODY_MAX_CHARS:
        raise MeetingError(f"纪要正文不能超过 {BODY_MAX_CHARS} 个字。")
    with transaction.atomic():
        locked = _locked_meeting(meeting, actor)
        cleaned = _clean_decisions(locked, list(decisions))
        minutes = Minutes.objects.select_for_update().filter(meeting=locked).first()
        if minutes is not None and minutes.document_id is not None:
            raise MeetingError(MSG_ISSUED)
        if minutes is None:
            minutes = Minutes.objects.create(meeting=locked, body=body, drafted_by=actor)
        else:
            minutes.body = body
            minutes.drafted_by = actor
            minutes.updated_at = timezone.now()
            minutes.save(update_fields=["body", "drafted_by", "updated_at"])
        existing = {d.pk: d for d in minutes.decisions.all()}
        kept_ids = {d.id for d in cleaned if d.id is not None}
        for gone in [d for pk, d in existing.items() if pk not in kept_ids]:
            if gone.supervision_item_id is not None:
                raise MeetingError(f"议定事项“{gone.text[:20]}”已转为督办事项，不能删除。")
        # Renumbered 1..n in the order given: park every order first (unique (minutes, order)).
        Decision.objects.filter(minutes=minutes).exclude(pk__in=kept_ids).delete()
        for d in Decision.objects.filter(minutes=minutes):
            Decision.objects.filter(pk=d.pk).update(order=d.order + 10000)
        for order, d in enumerate(cleaned, 1):
            if d.id is None:
                Decision.objects.create(
                    minutes=minutes,
                    order=order,
                    text=d.text,
                    lead_department=d.lead_department,
                    due_on=d.due_on,
                )
                continue
            row = existing.get(d.id)
            if row is None:
                raise MeetingError("议定事项已被他人修改，请刷新页面后重试。")
            if row.supervision_item_id is not None and (
                row.text != d.text
                or row.lead_department_id != getattr(d.lead_department, "pk", None)
                or row.due_on != d.due_on
            ):
                raise MeetingError(f"议定事项“{row.text[:20]}”已转为督办事项，不能再修改。")
            Decision.objects.filter(pk=row.pk).update(
                order=order, text=d.text, lead_department=d.lead_department, due_on=d.due_on
            )
        record(
            "meetings.minutes.saved",
            actor=actor,
            obj=minutes,
            details={"meeting": locked.pk, "decisions": len(cleaned)},
        )
        emit("meetings.minutes.saved", minutes, payload={"meeting": locked.pk})
    return minutes


def _names(rows: Any) -> list[str]:
    return [r.user.real_name or r.user.username for r in rows]


def minutes_blocks(minutes: Minutes) -> list[dict[str, str]]:
    """The 纪要 正文 as version blocks: the body's paragraphs, then the 议定事项 numbered."""
    from documents.bodytext import blocks_from_text

    blocks = blocks_from_text(minutes.body)
    decisions = list(minutes.decisions.select_related("lead_department").order_by("order"))
    if decisions:
        blocks.append({"kind": "p", "text": "会议议定："})
        for d in decisions:
            extra = []
            if d.lead_department is not None:
                extra.append(f"牵头单位：{d.lead_department.name}")
            if d.due_on is not None:
                extra.append(f"完成时限：{d.due_on.year}年{d.due_on.month}月{d.due_on.day}日")
            tail = f"（{'；'.join(extra)}）" if extra else ""
            blocks.append({"kind": "p", "text": f"（{d.order}）{d.text}{tail}"})
    return blocks


def issue_minutes(meeting: Meeting, *, actor: Any) -> Any:
    """送发文: a 纪要 draft in the 发文 flow, the actor its 拟稿人. Returns the OfficialDocument."""
    from documents.errors import DocumentError
    from documents.models import DocType
    from documents.services import create_draft
    from workflows.services import FlowError, start_outgoing

    if getattr(actor, "department_id", None) is None:
        raise MeetingError("您没有所属部门，不能拟制发文。")
    with transaction.atomic():
        locked = _locked_meeting(meeting, actor)
        minutes = Minutes.objects.select_for_update().filter(meeting=locked).first()
        if minutes is None or not minutes.body.strip():
            raise MeetingError(MSG_NO_BODY)
        if minutes.document_id is not None:
            raise MeetingError("纪要已送发文办理，不能重复发起。")
        rsvps = Rsvp.objects.filter(meeting=locked).select_related("user").order_by("pk")
        checked_in = [r for r in rsvps if r.checked_in_at is not None]
        # 出席: who was checked in; when nobody used the door, who replied 参加.
        present = checked_in or [r for r in rsvps if r.reply == Reply.ATTEND]
        on_leave = [r for r in rsvps if r.reply == Reply.LEAVE and r.checked_in_at is None]
        try:
            document = create_draft(
                actor=actor,
                department=actor.department,
                title=f"{locked.title}纪要",
                doc_type=DocType.MINUTES,
                body=minutes_blocks(minutes),
                minutes_attendees=_names(present),
                minutes_on_leave=_names(on_leave),
            )
            start_outgoing(document, actor=actor)
        except (DocumentError, FlowError) as exc:
            raise MeetingError(getattr(exc, "message", str(exc))) from exc
        minutes.document = document
        minutes.save(update_fields=["document"])
        record(
            "meetings.minutes.issued",
            actor=actor,
            obj=minutes,
            details={"meeting": locked.pk, "document": document.pk},
        )
        emit("meetings.minutes.issued", minutes, payload={"meeting": locked.pk, "document": document.pk})
    return document


def supervise_decision(
    decision: Decision,
    *,
    actor: Any,
    title: str = "",
    due_on: date | None = None,
    leader: Any = None,
) -> Any:
    """转督办: a 督办事项 (source 会议决定, source record the meeting) led by the decision's department
    (or, for a department of another agency, that agency). Returns the SupervisionItem."""
    from workflows.models import SupervisionSource
    from workflows.services import FlowError
    from workflows.supervision import initiate

    with transaction.atomic():
        locked = Decision.objects.select_for_update().select_related("minutes__meeting").get(pk=decision.pk)
        meeting = locked.minutes.meeting
        if not access.can_supervise_decision(actor, meeting):
            raise MeetingError(MSG_NOT_SUPERVISOR)
        if meeting.status == MeetingStatus.CANCELLED:
            raise MeetingError(MSG_CANCELLED)
        if locked.supervision_item_id is not None:
            raise MeetingError(MSG_ALREADY_SUPERVISED)
        department = locked.lead_department
        if department is None:
            raise MeetingError(MSG_NO_LEAD)
        lead: Any = department if department.agency_id == meeting.agency_id else department.agency
        today = timezone.localdate()
        received_on = min(timezone.localtime(meeting.starts_at).date(), today)
        first_line = " ".join(locked.text.split())
        try:
            item = initiate(
                actor=actor,
                agency=meeting.agency,
                source=SupervisionSource.MEETING,
                title=(title or first_line)[:200],
                requirement=locked.text,
                source_object=meeting,
                lead_unit=lead,
                received_on=received_on,
                due_on=due_on or locked.due_on,
                leader=leader,
            )
        except FlowError as exc:
            raise MeetingError(getattr(exc, "message", str(exc))) from exc
        locked.supervision_item = item
        locked.save(update_fields=["supervision_item"])
        record(
            "meetings.decision.supervised",
            actor=actor,
            obj=locked,
            details={"meeting": meeting.pk, "item": item.pk},
        )
        emit("meetings.decision.supervised", locked, payload={"meeting": meeting.pk, "item": item.pk})
    return item


# --- the 督办 source ---------------------------------------------------------------------------------


def _meeting_label(meeting: Meeting) -> str:
    return f"{meeting.title}（{timezone.localtime(meeting.starts_at):%Y-%m-%d}）"


def _meeting_url(meeting: Meeting) -> str:
    try:
        return reverse("meetings:detail", args=[meeting.pk])
    except NoReverseMatch:
        # The meeting page is meetings:detail (its area's URLs); the path is fixed by meetings/urls.
        return f"/meetings/m/{meeting.pk}/"


def _meeting_visible(user: Any, meeting: Meeting) -> bool:
    return access.visible_meetings(user).filter(pk=meeting.pk).exists()


def register() -> None:
    """Meetings as a 督办 source (会议决定), so an item links back to its meeting; and the minutes
    part of load_demo."""
    from meetings import demo_minutes
    from officeapp.registries import demo_builders
    from workflows.supervision_sources import SourceKind, supervision_sources

    if "71-meetings-minutes" not in demo_builders:
        demo_builders.register("71-meetings-minutes", demo_minutes.build)
    if "meeting" in supervision_sources:
        return
    supervision_sources.register(
        "meeting",
        SourceKind(
            key="meeting",
            model="meetings.Meeting",
            label="会议",
            describe=_meeting_label,
            url=_meeting_url,
            visible=_meeting_visible,
        ),
    )
