"""分发 and 公文交换: one ExchangeRecord per recipient agency, the recipients' 待签收 list.

The 发文 flow's distribute step calls `distribute`; the sender's office may later `withdraw` a
record nobody has signed for and `resend` (补发) to more agencies. The recipient's 收发员 signs for
it (`receive`) or returns it (`return_document`, 退文); a recipient that signed may pass it on
(`forward`, 转发) to the agencies below it; the sender urges a recipient that has not signed
(`urge_recipient`, 催办), and the 收文 flow reports 办结 (`mark_completed`). The record stays the
single row per recipient that both sides look at; every change also writes an ExchangeEvent (the
回执 history) and, after commit, tells the sender's office's open tracking pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from documents.access import is_office_of
from documents.errors import DocumentError
from documents.models import (
    DocumentState,
    ExchangeEvent,
    ExchangeEventKind,
    ExchangeKind,
    ExchangeRecord,
    ExchangeState,
    OfficialDocument,
    Rendering,
    RenderKind,
    RenderStatus,
    ReturnReason,
    Urgency,
)
from documents.signals import exchange_received
from officeapp.access import grants_of, has_role
from officeapp.audit.services import record
from officeapp.notify.models import Urgency as NotifyUrgency
from officeapp.notify.push import send_to_groups
from officeapp.notify.relay import user_group
from officeapp.notify.services import notify
from officeapp.org.models import ADMIN_ROLES, Agency, AgencyLevel, Delegation, DelegationScope, Role, User
from officeapp.outbox.services import emit

# Who sends for an agency: its 文秘 and 收发员 (flows.md §1 step 10). The 办公室主任 too, because
# the flow hands a step to him when nobody holds the role (workflows/assignment.py fallback).
SENDER_ROLES = (Role.OFFICE_SECRETARY, Role.CLERK, Role.OFFICE_DIRECTOR)

# Who may return (退文) a record already signed for: the recipient's office at 初审 (flows.md §2).
SCREEN_ROLES = (Role.OFFICE_SECRETARY, Role.OFFICE_DIRECTOR)

# Who follows an agency's distributions on the tracking page and gets its live frames.
TRACKING_ROLES = (*SENDER_ROLES, Role.SEAL_KEEPER, Role.ARCHIVIST)

NOTIFY_KIND = "documents.exchange"

# The socket frame that tells an open tracking page a row changed (socket.js turns it into the
# window event `officeapp:exchange.changed`; documents/static/documents/exchange.js listens).
FRAME_TYPE = "exchange.changed"

# A second 催办 of the same recipient within this time is a double click, not a new reminder.
URGE_PAUSE = timedelta(seconds=60)


class Distribution(list[ExchangeRecord]):
    """The records a distribute/resend call created (or sent again): a plain list, plus, when
    something was not sent, a sentence saying why, for the flow step or page to show."""

    def __init__(self, records: Iterable[ExchangeRecord] = (), message: str = "") -> None:
        super().__init__(records)
        self.message = message

    @property
    def created_nothing(self) -> bool:
        return not self


def _acts_for(actor: Any, roles: Iterable[str], agency_id: int, *, scope: str | None = None) -> bool:
    """Holds one of `roles` in the agency, or is today's delegate (委托) of someone who does — for
    all matters or, when `scope` is given, for that kind of work (收文 / 发文)."""
    roles = tuple(roles)
    if any(has_role(actor, r, agency=agency_id) for r in roles):
        return True
    now = timezone.now()
    scoped = Q(scope__in=[DelegationScope.ALL, scope]) if scope else Q()
    return Delegation.objects.filter(
        scoped,
        Q(from_user__role_grants__agency_id=agency_id)
        | Q(from_user__role_grants__department__agency_id=agency_id),
        to_user=actor,
        from_user__role_grants__role__in=roles,
        starts_at__lte=now,
        ends_at__gt=now,
        revoked_at__isnull=True,
    ).exists()


def can_distribute(user: Any, document: OfficialDocument) -> bool:
    return _acts_for(user, SENDER_ROLES, document.agency_id, scope=DelegationScope.OUTGOING)


def clerk_agencies(user: Any) -> list[int]:
    """Agencies where the user is a 收发员 (agency grants, or a grant on one of its departments)."""
    ids: list[int] = []
    for grant in grants_of(user):
        if grant.role != Role.CLERK:
            continue
        if grant.agency_id is not None:
            ids.append(grant.agency_id)
        elif grant.department_id is not None:
            ids.append(grant.department.agency_id)
    return ids


def receiving_agencies(user: Any) -> list[int]:
    """Agencies whose 待签收 the user works: where they are a 收发员, and where a 收发员 has
    delegated (委托, all matters or 收文) to them for today — the delegate signs through receive()
    already (_acts_for) and needs the same list to find what to sign. Cached on the user object for
    the request, like the grants."""
    if not getattr(user, "is_active", False):
        return []
    cached = getattr(user, "_officeapp_receiving_agencies", None)
    if cached is not None:
        return cached
    ids = set(clerk_agencies(user))
    now = timezone.now()
    delegations = Delegation.objects.filter(
        to_user=user,
        scope__in=[DelegationScope.ALL, DelegationScope.INCOMING],
        starts_at__lte=now,
        ends_at__gt=now,
        revoked_at__isnull=True,
        from_user__is_active=True,
        from_user__role_grants__role=Role.CLERK,
    )
    for agency_id, department_agency_id in delegations.values_list(
        "from_user__role_grants__agency_id", "from_user__role_grants__department__agency_id"
    ):
        ids.update(a for a in (agency_id, department_agency_id) if a is not None)
    result = sorted(ids)
    user._officeapp_receiving_agencies = result
    return result


def clerks_of(agency_ids: Iterable[int]) -> QuerySet[User]:
    ids = list(agency_ids)
    return User.objects.filter(
        Q(role_grants__agency_id__in=ids) | Q(role_grants__department__agency_id__in=ids),
        role_grants__role=Role.CLERK,
        is_active=True,
    ).distinct()


def _users_with(roles: Iterable[str], agency_ids: Iterable[int]) -> QuerySet[User]:
    ids = list(agency_ids)
    return User.objects.filter(
        Q(role_grants__agency_id__in=ids) | Q(role_grants__department__agency_id__in=ids),
        role_grants__role__in=list(roles),
        is_active=True,
    ).distinct()


def _name(user: Any) -> str:
    return (user.real_name or user.username) if user is not None else ""


def _when(moment: Any) -> str:
    """ "11月23日 10:15", as the messages name a moment."""
    local = timezone.localtime(moment)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


# What the exchange keeps of a reason or note: longer text is refused, never cut without a word.
NOTE_MAX = 500
REASON_MAX = 200


def _within(text: str, limit: int, label: str) -> str:
    if len(text) > limit:
        raise DocumentError(f"{label}最多 {limit} 个字（现有 {len(text)} 个字），请精简后再提交。")
    return text


def _event(
    exchange: ExchangeRecord, kind: str, *, actor: Any, at: Any, reason: str = "", note: str = ""
) -> ExchangeEvent:
    return ExchangeEvent(
        exchange=exchange,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        at=at,
        reason=reason,
        note=note[:500],
    )


def _push_tracking(records: Iterable[ExchangeRecord]) -> None:
    """After commit, tell the sending agencies' offices (and whoever sent each record) that rows of
    their tracking page changed: one small frame per user, the page fetches the rows itself."""
    records = list(records)
    if not records:
        return
    by_sender: dict[int, list[ExchangeRecord]] = {}
    for r in records:
        by_sender.setdefault(r.sender_id, []).append(r)
    frames: list[tuple[str, dict[str, Any]]] = []
    for sender_id, rows in by_sender.items():
        users = set(_users_with(TRACKING_ROLES, [sender_id]).values_list("pk", flat=True))
        users.update(r.sent_by_id for r in rows)
        for r in rows:
            frame = {
                "type": FRAME_TYPE,
                "document_id": r.document_id,
                "exchange_id": r.pk,
                "state": r.state,
            }
            frames.extend((user_group(uid), {"type": "push", "frame": frame}) for uid in sorted(users))
    transaction.on_commit(partial(send_to_groups, frames), robust=True)


def pending_for(user: Any) -> QuerySet[ExchangeRecord]:
    """待签收: records not yet signed for, addressed to the agencies where the user is a 收发员
    (or today's delegate of one)."""
    agencies = receiving_agencies(user)
    if not agencies:
        return ExchangeRecord.objects.none()
    return (
        ExchangeRecord.objects.filter(recipient_id__in=agencies, state=ExchangeState.PENDING)
        .select_related("document", "sender", "recipient")
        .order_by("-sent_at", "-pk")
    )


def sealed_file(document: OfficialDocument) -> Rendering | None:
    """The sealed PDF of the current version (用印 done), the file every recipient gets."""
    return (
        Rendering.objects.filter(
            document=document,
            version_id=document.current_version_id,
            kind=RenderKind.SEALED_PDF,
            status=RenderStatus.READY,
            blob__isnull=False,
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def _notify_clerks(document: OfficialDocument, records: list[ExchangeRecord], *, actor: Any) -> None:
    if not records:
        return
    urgency = NotifyUrgency.NORMAL if document.urgency == Urgency.NORMAL else NotifyUrgency.URGENT
    label = "" if document.urgency == Urgency.NORMAL else f"【{document.get_urgency_display()}】"
    notify(
        clerks_of(r.recipient_id for r in records),
        kind=NOTIFY_KIND,
        title=f"{label}待签收：{document.doc_number} {document.title}",
        body=f"{document.agency.name}分发的公文，请及时签收。",
        url=reverse("documents:detail", kwargs={"document_id": document.pk}),
        urgency=urgency,
        actor=actor,
    )


def _lock(document: OfficialDocument) -> OfficialDocument:
    return OfficialDocument.objects.select_for_update().select_related("agency").get(pk=document.pk)


def _check_sendable(document: OfficialDocument) -> None:
    if not document.doc_number:
        raise DocumentError("公文尚未编号（没有发文字号），不能分发。")
    if sealed_file(document) is None:
        raise DocumentError("公文尚未用印（没有盖章的版式文件），不能分发。")


def _recipients(document: OfficialDocument) -> list[tuple[int, str]]:
    """(agency id, 主送/抄送) in 主送 then 抄送 order; an agency named in both is 主送; the issuers
    themselves (主办 and 联署机关) issued it and receive nothing."""
    issuers = {document.agency_id, *document.co_issuers.values_list("agency_id", flat=True)}
    seen: dict[int, str] = {}
    for agency_id in document.main_recipients.order_by("pk").values_list("pk", flat=True):
        seen.setdefault(agency_id, ExchangeKind.MAIN)
    for agency_id in document.cc_recipients.order_by("pk").values_list("pk", flat=True):
        seen.setdefault(agency_id, ExchangeKind.CC)
    return [(a, k) for a, k in seen.items() if a not in issuers]


def _after_sending(
    document: OfficialDocument, records: list[ExchangeRecord], *, actor: Any, action: str
) -> None:
    record(
        action,
        actor=actor,
        obj=document,
        details={"records": [r.pk for r in records], "recipients": [r.recipient_id for r in records]},
    )
    emit(
        "documents.exchange.sent",
        document,
        payload={
            "records": [r.pk for r in records],
            "recipients": [r.recipient_id for r in records],
            "sender": document.agency_id,
        },
    )
    _notify_clerks(document, records, actor=actor)


def distribute(document: OfficialDocument, *, actor: Any) -> Distribution:
    """分发: an ExchangeRecord per 主送 and 抄送 agency, each agency's 收发员 told live.

    Idempotent: when the document has been distributed already, nothing is created and the
    result says so (the flow step may be re-run after a lost response). Refused without a
    发文字号 or a sealed file. Sets 印发日期 when empty (G41: the day it is sent out).
    """
    with transaction.atomic():
        locked = _lock(document)
        if not can_distribute(actor, locked):
            raise PermissionDenied("只有发文机关的文秘或收发员可以分发公文。")
        if ExchangeRecord.objects.filter(document=locked).exists():
            return Distribution([], "该公文已分发，未重复分发。如需发给更多单位，请使用补发。")
        if locked.state != DocumentState.DISTRIBUTE:
            raise DocumentError(f"公文当前处于“{locked.get_state_display()}”环节，不能分发。")
        _check_sendable(locked)
        recipients = _recipients(locked)
        if not recipients:
            raise DocumentError("没有可分发的主送或抄送机关，请先在公文中选择收文单位。")
        now = timezone.now()
        records = ExchangeRecord.objects.bulk_create(
            [
                ExchangeRecord(
                    document=locked,
                    sender_id=locked.agency_id,
                    recipient_id=agency_id,
                    kind=kind,
                    sent_at=now,
                    sent_by=actor,
                )
                for agency_id, kind in recipients
            ]
        )
        if locked.printed_on is None:
            locked.printed_on = timezone.localdate(now)
            locked.updated_at = now
            locked.save(update_fields=["printed_on", "updated_at"])
            document.printed_on = locked.printed_on
        ExchangeEvent.objects.bulk_create(
            [_event(r, ExchangeEventKind.SENT, actor=actor, at=now) for r in records]
        )
        _after_sending(locked, records, actor=actor, action="documents.exchange.sent")
    return Distribution(records)


def resend(document: OfficialDocument, *, actor: Any, agencies: Iterable[Agency]) -> Distribution:
    """补发: send an already distributed document to more agencies (or again to one whose record
    was withdrawn). Agencies that already have it are left alone and named in the message."""
    wanted = [a for a in {a.pk: a for a in agencies}.values()]
    if not wanted:
        raise DocumentError("请选择补发的单位。")
    with transaction.atomic():
        locked = _lock(document)
        if not can_distribute(actor, locked):
            raise PermissionDenied("只有发文机关的文秘或收发员可以补发公文。")
        existing = {
            r.recipient_id: r for r in ExchangeRecord.objects.select_for_update().filter(document=locked)
        }
        if not existing:
            raise DocumentError("公文尚未分发，不能补发。")
        _check_sendable(locked)
        issuers = {locked.agency_id, *locked.co_issuers.values_list("agency_id", flat=True)}
        main = set(locked.main_recipients.values_list("pk", flat=True))
        now = timezone.now()
        sent: list[ExchangeRecord] = []
        skipped: list[str] = []
        for agency in wanted:
            if agency.pk in issuers:
                skipped.append(agency.name)
                continue
            current = existing.get(agency.pk)
            if current is not None and current.state != ExchangeState.WITHDRAWN:
                skipped.append(agency.name)
                continue
            if current is None:
                current = ExchangeRecord.objects.create(
                    document=locked,
                    sender_id=locked.agency_id,
                    recipient=agency,
                    kind=ExchangeKind.MAIN if agency.pk in main else ExchangeKind.CC,
                    sent_at=now,
                    sent_by=actor,
                )
            else:
                # A withdrawn record is sent again (one row per recipient; issue 5 keeps the history).
                current.state = ExchangeState.PENDING
                current.sent_at = now
                current.sent_by = actor
                current.received_at = None
                current.received_by = None
                current.save(update_fields=["state", "sent_at", "sent_by", "received_at", "received_by"])
            sent.append(current)
        message = f"以下单位已收到该公文，未重复发送：{'、'.join(skipped)}。" if skipped else ""
        if sent:
            ExchangeEvent.objects.bulk_create(
                [_event(r, ExchangeEventKind.RESENT, actor=actor, at=now) for r in sent]
            )
            _after_sending(locked, sent, actor=actor, action="documents.exchange.resent")
    return Distribution(sent, message)


def _tell_recipient(
    locked: ExchangeRecord,
    *,
    actor: Any,
    action: str,
    title: str,
    body: str,
    urgency: str = NotifyUrgency.NORMAL,
) -> None:
    """What 撤回 and 催办 share: the audit event and outbox row (ids only) and a notification to the
    recipient's 收发员, who find the document (or its absence) in 待签收."""
    ids = {"document": locked.document_id, "recipient": locked.recipient_id}
    record(f"documents.exchange.{action}", actor=actor, obj=locked, details=ids)
    emit(f"documents.exchange.{action}", locked, payload=ids)
    notify(
        clerks_of([locked.recipient_id]),
        kind=NOTIFY_KIND,
        title=title,
        body=body,
        url=reverse("documents:pending"),
        urgency=urgency,
        actor=actor,
    )


def withdraw(exchange: ExchangeRecord, *, actor: Any, reason: str) -> ExchangeRecord:
    """撤回 a record the recipient has not signed for yet; the sender's office only, with a reason.

    The reason goes to the recipient's 收发员 in the notification; the audit event keeps ids only.
    """
    reason = " ".join((reason or "").split())
    if not reason:
        raise DocumentError("请填写撤回原因。")
    _within(reason, REASON_MAX, "撤回原因")
    with transaction.atomic():
        locked = (
            ExchangeRecord.objects.select_for_update()
            .select_related("document", "recipient")
            .get(pk=exchange.pk)
        )
        if not _acts_for(actor, SENDER_ROLES, locked.sender_id, scope=DelegationScope.OUTGOING):
            raise PermissionDenied("只有发文机关的文秘或收发员可以撤回分发。")
        if locked.state != ExchangeState.PENDING:
            raise DocumentError(
                f"{locked.recipient.name}的公文已{locked.get_state_display().removeprefix('已')}，不能撤回。"
            )
        locked.state = ExchangeState.WITHDRAWN
        locked.withdrawn_at = timezone.now()
        locked.withdrawn_by = actor
        locked.withdraw_reason = reason
        locked.save(update_fields=["state", "withdrawn_at", "withdrawn_by", "withdraw_reason"])
        _event(locked, ExchangeEventKind.WITHDRAWN, actor=actor, at=locked.withdrawn_at, note=reason).save()
        _push_tracking([locked])
        document = locked.document
        _tell_recipient(
            locked,
            actor=actor,
            action="withdrawn",
            title=f"已撤回：{document.doc_number} {document.title}",
            body=f"发文机关撤回了该公文，原因：{reason}",
        )
    exchange.state = locked.state
    return locked


def _lock_record(exchange: ExchangeRecord) -> ExchangeRecord:
    """The record, locked. Only rows that never change are joined: a caller who waited for the
    lock gets the record as the winner left it, but PostgreSQL re-checks a locked row without
    re-reading the rows joined to it, so a joined 签收人 would come back empty (seen in the race
    test). Who signed or returned it is read after the lock, by a query of its own."""
    return (
        ExchangeRecord.objects.select_for_update(of=("self",))
        .select_related("document", "document__agency", "sender", "recipient")
        .get(pk=exchange.pk)
    )


def _refuse_unless_pending_or_signed(locked: ExchangeRecord, verb: str) -> None:
    if locked.state == ExchangeState.WITHDRAWN:
        raise DocumentError(f"发文机关已撤回该公文，不能{verb}。")
    if locked.state == ExchangeState.RETURNED:
        raise DocumentError(
            f"该公文已由{_name(locked.returned_by)}于{_when(locked.returned_at)}退文，不能{verb}。"
        )


def _copy_back(exchange: ExchangeRecord, locked: ExchangeRecord, *fields: str) -> None:
    """The caller's instance shows the new state too (views and the flow keep using it)."""
    for field in fields:
        setattr(exchange, field, getattr(locked, field))


def receive(exchange: ExchangeRecord, *, actor: Any) -> ExchangeRecord:
    """签收 by a 收发员 of the recipient agency (or their delegate). The first one wins: the row is
    locked, and whoever comes second is told who signed and when. Sends `exchange_received`
    inside the transaction, so the 收文 started there and the 签收 stand or fall together."""
    with transaction.atomic():
        locked = _lock_record(exchange)
        if not _acts_for(actor, (Role.CLERK,), locked.recipient_id, scope=DelegationScope.INCOMING):
            raise PermissionDenied("只有收文机关的收发员可以签收公文。")
        if locked.state == ExchangeState.RECEIVED:
            raise DocumentError(f"该公文已由{_name(locked.received_by)}于{_when(locked.received_at)}签收。")
        _refuse_unless_pending_or_signed(locked, "签收")
        now = timezone.now()
        locked.state = ExchangeState.RECEIVED
        locked.received_at = now
        locked.received_by = actor
        locked.save(update_fields=["state", "received_at", "received_by"])
        _event(locked, ExchangeEventKind.RECEIVED, actor=actor, at=now).save()
        record(
            "documents.exchange.received",
            actor=actor,
            obj=locked,
            details={"document": locked.document_id, "recipient": locked.recipient_id},
        )
        emit(
            "documents.exchange.received",
            locked,
            payload={
                "document": locked.document_id,
                "sender": locked.sender_id,
                "recipient": locked.recipient_id,
            },
        )
        _push_tracking([locked])
        exchange_received.send(sender=ExchangeRecord, record=locked, actor=actor)
    _copy_back(exchange, locked, "state", "received_at", "received_by")
    return locked


def return_document(exchange: ExchangeRecord, *, actor: Any, reason: str, note: str) -> ExchangeRecord:
    """退文 with a reason from ReturnReason and text, both required. From 待签收 by the recipient's
    收发员; from 已签收 by the recipient's 文秘 or 办公室主任 (初审 in the 收文 flow). The sender's
    office and whoever distributed it are told live; the 退文通知单 is return_notice.py's."""
    note = " ".join((note or "").split())
    with transaction.atomic():
        locked = _lock_record(exchange)
        if locked.state == ExchangeState.PENDING:
            if not _acts_for(actor, (Role.CLERK,), locked.recipient_id, scope=DelegationScope.INCOMING):
                raise PermissionDenied("只有收文机关的收发员可以退回待签收的公文。")
        elif locked.state == ExchangeState.RECEIVED:
            if not _acts_for(actor, SCREEN_ROLES, locked.recipient_id, scope=DelegationScope.INCOMING):
                raise PermissionDenied("已签收的公文只能由收文机关的文秘或办公室主任在初审时退文。")
            if locked.completed_at is not None:
                raise DocumentError("该公文已办结，不能退文。")
        else:
            _refuse_unless_pending_or_signed(locked, "退文")
        # After the access check, so a stranger learns nothing from the form's messages.
        if reason not in ReturnReason.values:
            raise DocumentError("请选择退文理由。")
        if not note:
            raise DocumentError("请填写退文说明。")
        _within(note, NOTE_MAX, "退文说明")
        now = timezone.now()
        locked.state = ExchangeState.RETURNED
        locked.returned_at = now
        locked.returned_by = actor
        locked.return_reason = reason
        locked.return_note = note
        locked.save(update_fields=["state", "returned_at", "returned_by", "return_reason", "return_note"])
        _event(locked, ExchangeEventKind.RETURNED, actor=actor, at=now, reason=reason, note=note).save()
        record(
            "documents.exchange.returned",
            actor=actor,
            obj=locked,
            details={"document": locked.document_id, "recipient": locked.recipient_id, "reason": reason},
        )
        emit(
            "documents.exchange.returned",
            locked,
            payload={
                "document": locked.document_id,
                "sender": locked.sender_id,
                "recipient": locked.recipient_id,
                "reason": reason,
            },
        )
        document = locked.document
        notify(
            [*_users_with(SENDER_ROLES, [locked.sender_id]), locked.sent_by],
            kind=NOTIFY_KIND,
            title=f"退文：{document.doc_number} {document.title}",
            body=f"{locked.recipient.name}退回了该公文，理由：{locked.get_return_reason_display()}。{note}",
            url=reverse("documents:distribution", kwargs={"document_id": document.pk}),
            urgency=NotifyUrgency.URGENT if document.urgency != Urgency.NORMAL else NotifyUrgency.NORMAL,
            actor=actor,
        )
        _push_tracking([locked])
    _copy_back(exchange, locked, "state", "returned_at", "returned_by", "return_reason", "return_note")
    return locked


def _belongs_to(user: Any, agency_id: int) -> bool:
    """Works in the agency: a department of it, a role there, or today's delegate of someone who
    holds one (the 收文 flow's 办结 is done by whoever holds that step)."""
    department = getattr(user, "department", None)
    if department is not None and department.agency_id == agency_id:
        return True
    # Not the 三员: their province-wide grants cover every agency but do no office work.
    return _acts_for(user, [r for r in Role.values if r not in ADMIN_ROLES], agency_id)


def mark_completed(exchange: ExchangeRecord, *, actor: Any, result: str) -> None:
    """办结: the recipient's 收文 process finished handling it; the sender sees when and the result."""
    result = " ".join((result or "").split())
    if not result:
        raise DocumentError("请填写办理结果。")
    with transaction.atomic():
        locked = _lock_record(exchange)
        if not _belongs_to(actor, locked.recipient_id):
            raise PermissionDenied("只有收文机关可以办结该公文。")
        if locked.state != ExchangeState.RECEIVED:
            raise DocumentError(f"该公文{locked.get_state_display()}，不能办结。")
        if locked.completed_at is not None:
            raise DocumentError(f"该公文已于{_when(locked.completed_at)}办结。")
        now = timezone.now()
        locked.completed_at = now
        # The sender's 回执 carries a summary: the 收文 flow accepts a longer 办理情况 (kept in full on the
        # receiving agency's IncomingRecord), and refusing it here would block 办结 itself.
        locked.result = result if len(result) <= NOTE_MAX else result[: NOTE_MAX - 1] + "…"
        locked.save(update_fields=["completed_at", "result"])
        _event(locked, ExchangeEventKind.COMPLETED, actor=actor, at=now, note=result).save()
        record(
            "documents.exchange.completed",
            actor=actor,
            obj=locked,
            details={"document": locked.document_id, "recipient": locked.recipient_id},
        )
        emit(
            "documents.exchange.completed",
            locked,
            payload={
                "document": locked.document_id,
                "sender": locked.sender_id,
                "recipient": locked.recipient_id,
            },
        )
        _push_tracking([locked])
    _copy_back(exchange, locked, "completed_at", "result")


def can_send_for(user: Any, agency_id: int) -> bool:
    """May distribute, withdraw, urge or forward in the agency's name (its 文秘, 收发员, 办公室主任)."""
    return _acts_for(user, SENDER_ROLES, agency_id)


def can_follow(user: Any, agency_id: int) -> bool:
    """Follows the agency's distributions (tracking page, 催办, export): its office or 收发员."""
    return _acts_for(user, TRACKING_ROLES, agency_id)


def urge_recipient(exchange: ExchangeRecord, *, actor: Any, note: str) -> None:
    """催办 a recipient that has not signed yet, with a note (what the sender wants them to know):
    its 收发员 are told live, the event is kept. A second 催办 of the same recipient within a
    minute is taken for a double click and refused."""
    note = " ".join((note or "").split())
    with transaction.atomic():
        locked = _lock_record(exchange)
        if not _acts_for(actor, SENDER_ROLES, locked.sender_id, scope=DelegationScope.OUTGOING):
            raise PermissionDenied("只有发文机关的文秘或收发员可以催办。")
        if locked.state != ExchangeState.PENDING:
            raise DocumentError(f"{locked.recipient.name}{locked.get_state_display()}，无需催办。")
        if not note:
            raise DocumentError("请填写催办说明。")
        _within(note, NOTE_MAX, "催办说明")
        now = timezone.now()
        last = (
            ExchangeEvent.objects.filter(exchange=locked, kind=ExchangeEventKind.URGED)
            .order_by("-at")
            .values_list("at", flat=True)
            .first()
        )
        if last is not None and now - last < URGE_PAUSE:
            raise DocumentError(f"已于{_when(last)}催办{locked.recipient.name}，请稍后再试。")
        _event(locked, ExchangeEventKind.URGED, actor=actor, at=now, note=note).save()
        document = locked.document
        _tell_recipient(
            locked,
            actor=actor,
            action="urged",
            title=f"催办：请签收 {document.doc_number} {document.title}",
            body=f"{locked.sender.name}催办：{note}",
            urgency=NotifyUrgency.URGENT,
        )
        _push_tracking([locked])


def forward(exchange: ExchangeRecord, *, actor: Any, agencies: Iterable[Agency]) -> Distribution:
    """转发: a recipient that signed passes the document on (typically city → its counties). The new
    records have `sender` = the forwarding agency, which follows them on its own tracking page.
    Agencies that already have the document (from anyone) are left alone and named."""
    wanted = list({a.pk: a for a in agencies}.values())
    if not wanted:
        raise DocumentError("请选择转发的单位。")
    with transaction.atomic():
        source = _lock_record(exchange)
        forwarder = source.recipient
        if not _acts_for(actor, SENDER_ROLES, forwarder.pk):
            raise PermissionDenied("只有收文机关的文秘或收发员可以转发公文。")
        if source.state != ExchangeState.RECEIVED:
            raise DocumentError("签收后才能转发该公文。")
        locked = _lock(source.document)
        existing = {
            r.recipient_id: r for r in ExchangeRecord.objects.select_for_update().filter(document=locked)
        }
        issuers = {locked.agency_id, *locked.co_issuers.values_list("agency_id", flat=True)}
        now = timezone.now()
        created: list[ExchangeRecord] = []
        again: list[ExchangeRecord] = []
        skipped: list[str] = []
        for agency in wanted:
            current = existing.get(agency.pk)
            if agency.pk == forwarder.pk or agency.pk in issuers:
                skipped.append(agency.name)
            elif current is None:
                created.append(
                    ExchangeRecord(
                        document=locked,
                        sender=forwarder,
                        recipient=agency,
                        kind=ExchangeKind.MAIN,
                        sent_at=now,
                        sent_by=actor,
                    )
                )
            elif current.sender_id == forwarder.pk and current.state == ExchangeState.WITHDRAWN:
                current.state = ExchangeState.PENDING
                current.sent_at = now
                current.sent_by = actor
                current.save(update_fields=["state", "sent_at", "sent_by"])
                again.append(current)
            else:
                skipped.append(agency.name)
        sent = [*ExchangeRecord.objects.bulk_create(created), *again]
        message = f"以下单位已有该公文，未重复转发：{'、'.join(skipped)}。" if skipped else ""
        if sent:
            ExchangeEvent.objects.bulk_create(
                [_event(r, ExchangeEventKind.SENT, actor=actor, at=now, note="转发") for r in sent]
            )
            record(
                "documents.exchange.forwarded",
                actor=actor,
                obj=source,
                details={"records": [r.pk for r in sent], "recipients": [r.recipient_id for r in sent]},
            )
            emit(
                "documents.exchange.sent",
                locked,
                payload={
                    "records": [r.pk for r in sent],
                    "recipients": [r.recipient_id for r in sent],
                    "sender": forwarder.pk,
                },
            )
            _notify_forwarded(locked, forwarder, sent, actor=actor)
    return Distribution(sent, message)


LEVEL_ORDER = [AgencyLevel.PROVINCE, AgencyLevel.CITY, AgencyLevel.COUNTY, AgencyLevel.TOWNSHIP]


def forward_choices(exchange: ExchangeRecord) -> QuerySet[Agency]:
    """Where a recipient may forward to: the agencies of a lower level under the government it
    belongs to (a city's 市府办 → the counties' offices and governments of that city; a provincial
    department → the cities and counties), the forwarder itself excluded."""
    forwarder = exchange.recipient
    base = forwarder.parent or forwarder
    below = LEVEL_ORDER[LEVEL_ORDER.index(forwarder.level) + 1 :] if forwarder.level in LEVEL_ORDER else []
    return (
        Agency.objects.filter(path__startswith=base.path, level__in=below, is_active=True)
        .exclude(pk=forwarder.pk)
        .order_by("path", "sort_order", "code")
    )


def _notify_forwarded(
    document: OfficialDocument, forwarder: Agency, records: list[ExchangeRecord], *, actor: Any
) -> None:
    urgent = document.urgency != Urgency.NORMAL
    label = f"【{document.get_urgency_display()}】" if urgent else ""
    notify(
        clerks_of(r.recipient_id for r in records),
        kind=NOTIFY_KIND,
        title=f"{label}待签收：{document.doc_number} {document.title}",
        body=f"{forwarder.name}转发{document.agency.name}的公文，请及时签收。",
        url=reverse("documents:pending"),
        urgency=NotifyUrgency.URGENT if urgent else NotifyUrgency.NORMAL,
        actor=actor,
    )


def incoming_document_id(exchange: ExchangeRecord) -> int | None:
    """The 收文 the receiving agency made of this record at 签收 (workflows), if any."""
    return (
        ExchangeRecord.objects.filter(pk=exchange.pk)
        .values_list("incoming_record__document_id", flat=True)
        .first()
    )


def events_of(exchange: ExchangeRecord) -> list[ExchangeEvent]:
    """The record's history, oldest first (the 回执 both sides read)."""
    return list(exchange.events.select_related("actor").order_by("at", "pk"))


def tracked_senders(user: Any, document: OfficialDocument) -> list[int]:
    """The sending agencies of this document's records whose tracking the user follows: the issuer
    (its office, or whoever may distribute for it) and any agency that forwarded it."""
    senders = set(document.exchange_records.values_list("sender_id", flat=True).distinct())
    senders.add(document.agency_id)
    issuer_office = is_office_of(user, document) or can_distribute(user, document)
    return [
        agency_id
        for agency_id in sorted(senders)
        if (issuer_office if agency_id == document.agency_id else can_follow(user, agency_id))
    ]


def tracking_rows(
    document: OfficialDocument, senders: Iterable[int], *, state: str = ""
) -> QuerySet[ExchangeRecord]:
    """The sender's tracking rows: recipient, state, who and when, 退文 and 办结, with each record's
    history prefetched: two queries whatever the number of recipients."""
    rows = ExchangeRecord.objects.filter(document=document, sender_id__in=list(senders))
    if state:
        rows = rows.filter(state=state)
    return (
        rows.select_related("recipient", "sender", "sent_by", "received_by", "returned_by", "withdrawn_by")
        .prefetch_related(
            Prefetch("events", queryset=ExchangeEvent.objects.select_related("actor").order_by("at", "pk"))
        )
        .order_by("kind", "recipient__code", "pk")
    )


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    label: str
    person: str
    note: str


@dataclass(frozen=True)
class TrackingRow:
    """One recipient on the tracking page, as the sender reads it: the current state's time and
    person ("李国华（签收）"), and the history, already in words (the page renders 100 of these)."""

    record: ExchangeRecord
    moment: datetime
    person: str
    history: list[HistoryLine]
    urged: int


_STATE_PERSON = {
    ExchangeState.RECEIVED: ("received_at", "received_by", "签收"),
    ExchangeState.RETURNED: ("returned_at", "returned_by", "退文"),
    ExchangeState.WITHDRAWN: ("withdrawn_at", "withdrawn_by", "撤回"),
    ExchangeState.PENDING: ("sent_at", "sent_by", "分发"),
}


def tracking_view(records: Iterable[ExchangeRecord]) -> list[TrackingRow]:
    """Rows of `tracking_rows(...)` (their events prefetched) in words, without further queries."""
    labels = dict(ExchangeEventKind.choices)
    rows: list[TrackingRow] = []
    for r in records:
        at_field, by_field, verb = _STATE_PERSON.get(r.state, _STATE_PERSON[ExchangeState.PENDING])
        person = getattr(r, by_field)
        events = list(r.events.all())
        rows.append(
            TrackingRow(
                record=r,
                moment=getattr(r, at_field) or r.sent_at,
                person=f"{_name(person)}（{verb}）" if person is not None else "",
                history=[
                    HistoryLine(e.at, labels.get(e.kind, e.kind), _name(e.actor), e.note) for e in events
                ],
                urged=sum(1 for e in events if e.kind == ExchangeEventKind.URGED),
            )
        )
    return rows


def tracking_counts(document: OfficialDocument, senders: Iterable[int]) -> dict[str, int]:
    """{state label: count} in ExchangeState order, plus 已办结, in one query."""
    found = dict(
        ExchangeRecord.objects.filter(document=document, sender_id__in=list(senders))
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    done = (
        ExchangeRecord.objects.filter(
            document=document, sender_id__in=list(senders), completed_at__isnull=False
        ).count()
        if found.get(ExchangeState.RECEIVED)
        else 0
    )
    counts = {label: found.get(value, 0) for value, label in ExchangeState.choices}
    counts["已办结"] = done
    return counts


def recently_handled(user: Any, limit: int = 10) -> list[ExchangeRecord]:
    """已签收/已退文: what the user's agencies signed for or returned lately, newest first."""
    agencies = receiving_agencies(user)
    if not agencies:
        return []
    return list(
        ExchangeRecord.objects.filter(
            recipient_id__in=agencies, state__in=[ExchangeState.RECEIVED, ExchangeState.RETURNED]
        )
        .select_related("document", "sender", "received_by", "returned_by")
        .annotate(handled_at=Coalesce("returned_at", "received_at"))
        .order_by("-handled_at", "-pk")[:limit]
    )


__all__ = [
    "Distribution",
    "can_distribute",
    "can_follow",
    "can_send_for",
    "clerk_agencies",
    "receiving_agencies",
    "distribute",
    "events_of",
    "forward",
    "forward_choices",
    "incoming_document_id",
    "mark_completed",
    "pending_for",
    "receive",
    "recently_handled",
    "resend",
    "return_document",
    "sealed_file",
    "tracked_senders",
    "tracking_counts",
    "tracking_rows",
    "tracking_view",
    "urge_recipient",
    "withdraw",
]
