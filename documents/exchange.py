"""分发 and 公文交换: one ExchangeRecord per recipient agency, the recipients' 待签收 list.

The 发文 flow's distribute step calls `distribute`; the sender's office may later `withdraw` a
record nobody has signed for and `resend` (补发) to more agencies. The 收文 issue extends these
records (签收, 退文, history); everything here keeps the record the single row per recipient that
both sides look at, so it can.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from documents.errors import DocumentError
from documents.models import (
    DocumentState,
    ExchangeKind,
    ExchangeRecord,
    ExchangeState,
    OfficialDocument,
    Rendering,
    RenderKind,
    RenderStatus,
    Urgency,
)
from officeapp.access import grants_of, has_role
from officeapp.audit.services import record
from officeapp.notify.models import Urgency as NotifyUrgency
from officeapp.notify.services import notify
from officeapp.org.models import Agency, Delegation, Role, User
from officeapp.outbox.services import emit

# Who sends for an agency: its 文秘 and 收发员 (flows.md §1 step 10). The 办公室主任 too, because
# the flow hands a step to him when nobody holds the role (workflows/assignment.py fallback).
SENDER_ROLES = (Role.OFFICE_SECRETARY, Role.CLERK, Role.OFFICE_DIRECTOR)

NOTIFY_KIND = "documents.exchange"


class Distribution(list[ExchangeRecord]):
    """The records a distribute/resend call created (or sent again): a plain list, plus, when
    something was not sent, a sentence saying why, for the flow step or page to show."""

    def __init__(self, records: Iterable[ExchangeRecord] = (), message: str = "") -> None:
        super().__init__(records)
        self.message = message

    @property
    def created_nothing(self) -> bool:
        return not self


def _acts_for(actor: Any, roles: Iterable[str], agency_id: int) -> bool:
    """Holds one of `roles` in the agency, or is today's delegate (委托) of someone who does."""
    roles = tuple(roles)
    if any(has_role(actor, r, agency=agency_id) for r in roles):
        return True
    now = timezone.now()
    return Delegation.objects.filter(
        Q(from_user__role_grants__agency_id=agency_id)
        | Q(from_user__role_grants__department__agency_id=agency_id),
        to_user=actor,
        from_user__role_grants__role__in=roles,
        starts_at__lte=now,
        ends_at__gt=now,
        revoked_at__isnull=True,
    ).exists()


def can_distribute(user: Any, document: OfficialDocument) -> bool:
    return _acts_for(user, SENDER_ROLES, document.agency_id)


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


def clerks_of(agency_ids: Iterable[int]) -> QuerySet[User]:
    ids = list(agency_ids)
    return User.objects.filter(
        Q(role_grants__agency_id__in=ids) | Q(role_grants__department__agency_id__in=ids),
        role_grants__role=Role.CLERK,
        is_active=True,
    ).distinct()


def pending_for(user: Any) -> QuerySet[ExchangeRecord]:
    """待签收: records not yet signed for, addressed to the agencies where the user is a 收发员."""
    agencies = clerk_agencies(user) if getattr(user, "is_active", False) else []
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
            _after_sending(locked, sent, actor=actor, action="documents.exchange.resent")
    return Distribution(sent, message)


def withdraw(exchange: ExchangeRecord, *, actor: Any, reason: str) -> ExchangeRecord:
    """撤回 a record the recipient has not signed for yet; the sender's office only, with a reason.

    The reason goes to the recipient's 收发员 in the notification; the audit event keeps ids only.
    """
    reason = " ".join((reason or "").split())
    if not reason:
        raise DocumentError("请填写撤回原因。")
    with transaction.atomic():
        locked = (
            ExchangeRecord.objects.select_for_update()
            .select_related("document", "recipient")
            .get(pk=exchange.pk)
        )
        if not _acts_for(actor, SENDER_ROLES, locked.sender_id):
            raise PermissionDenied("只有发文机关的文秘或收发员可以撤回分发。")
        if locked.state != ExchangeState.PENDING:
            raise DocumentError(
                f"{locked.recipient.name}的公文已{locked.get_state_display().removeprefix('已')}，不能撤回。"
            )
        locked.state = ExchangeState.WITHDRAWN
        locked.withdrawn_at = timezone.now()
        locked.withdrawn_by = actor
        locked.withdraw_reason = reason[:200]
        locked.save(update_fields=["state", "withdrawn_at", "withdrawn_by", "withdraw_reason"])
        record(
            "documents.exchange.withdrawn",
            actor=actor,
            obj=locked,
            details={"document": locked.document_id, "recipient": locked.recipient_id},
        )
        emit(
            "documents.exchange.withdrawn",
            locked,
            payload={"document": locked.document_id, "recipient": locked.recipient_id},
        )
        document = locked.document
        notify(
            clerks_of([locked.recipient_id]),
            kind=NOTIFY_KIND,
            title=f"已撤回：{document.doc_number} {document.title}",
            body=f"发文机关撤回了该公文，原因：{reason}",
            url=reverse("documents:pending"),
            actor=actor,
        )
    exchange.state = locked.state
    return locked


__all__ = [
    "Distribution",
    "can_distribute",
    "clerk_agencies",
    "distribute",
    "pending_for",
    "resend",
    "sealed_file",
    "withdraw",
]
