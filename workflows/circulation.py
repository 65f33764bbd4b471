"""传阅 (circulation): a document sent round to readers — leaders and people of departments — in
order (one after another) or all at once; each reader's item sits in 待阅 until they mark it 已阅
(optionally with a comment), and the one who started it sees who read it when, and who has not.

A reader's `CirculationReader` row is their 待阅 item. In order, only the first row is UNREAD at the
start; the others are WAITING and the next one arrives (arrived_at set, notified) when the one
before has read. A reader on leave with a 委托 (scope 收文, or 全部) when their item arrives has it
read by the delegate: the row's `reader` becomes the delegate and `on_behalf_of` the person they
read for, shown as 代 (the same rule as a task's assignment, officeapp.access.effective_assignees).
A delegation made after the item arrived lets the delegate open and mark it too
(workflows.access.get_reading_for); the mark then records them as 代 in the same way.

Every reader (and delegate) becomes a Participant (READER) of the document, so they may open it and
its files. Notifications and inbox pushes are deferred to commit by notify() and push_inbox_changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from documents.models import DocumentState, OfficialDocument, ParticipantKind
from documents.services import add_participants
from officeapp.access import active_delegate
from officeapp.audit.services import record
from officeapp.notify.models import Urgency
from officeapp.notify.services import notify
from officeapp.org.models import DelegationScope, User
from officeapp.outbox.services import emit
from workflows import access
from workflows.acting import FlowError
from workflows.live import push_inbox_changed
from workflows.models import Circulation, CirculationReader, ReadingState

__all__ = [
    "ALREADY_READ",
    "NO_READERS",
    "circulate",
    "mark_read",
    "reading_url",
    "readings_of",
]

NO_READERS = "请选择传阅人员。"
ALREADY_READ = "您已阅过该文件，无需重复提交。"
NOT_YOUR_TURN = "依次传阅：前一位阅读人尚未阅毕，还未轮到您。"
NOTE_MAX = 200
COMMENT_MAX = 500


def reading_url(reading: CirculationReader) -> str:
    """The reader's item page; the document's page while the 传阅 pages are not mounted yet."""
    try:
        return reverse("workflows:reading", args=[reading.pk])
    except NoReverseMatch:
        return reverse("documents:detail", args=[reading.circulation.document_id])


def _readers_in_order(readers: Iterable[User]) -> list[User]:
    # The same person chosen twice (as a leader and as one of a department) reads once, in the
    # place they were first chosen.
    seen: dict[int, User] = {}
    for user in readers:
        if user is not None:
            seen.setdefault(user.pk, user)
    return list(seen.values())


def _check_readers(document: OfficialDocument, readers: list[User]) -> None:
    if not readers:
        raise FlowError(NO_READERS)
    inactive = [u.real_name for u in readers if not u.is_active]
    if inactive:
        raise FlowError(f"{'、'.join(inactive)}已停用，不能传阅，请重新选择。")
    outside = [u.real_name for u in readers if u.agency_id != document.agency_id]
    if outside:
        raise FlowError(f"传阅人员须为本单位人员：{'、'.join(outside)}不是本单位人员。")


def _arrive(reading: CirculationReader, *, taken: set[int], now: Any) -> None:
    """The item reaches its reader now: a reader away on a 委托 has it read by the delegate (代),
    unless the delegate reads in this circulation themselves (then it stays with the reader, and
    the delegate may still open it through get_reading_for)."""
    reading.state = ReadingState.UNREAD
    reading.arrived_at = now
    delegate = active_delegate(reading.reader, scope=DelegationScope.INCOMING)
    if delegate is not None and delegate.pk != reading.reader_id and delegate.pk not in taken:
        taken.discard(reading.reader_id)
        taken.add(delegate.pk)
        reading.on_behalf_of = reading.reader
        reading.reader = delegate


def _announce(readings: list[CirculationReader], circulation: Circulation, *, actor: User) -> None:
    """Tell each reader whose item just arrived, live: a notification and their inbox refreshed."""
    document = circulation.document
    urgency = Urgency.URGENT if document.urgency != "normal" else Urgency.NORMAL
    for reading in readings:
        behalf = f"（代{reading.on_behalf_of.real_name}阅）" if reading.on_behalf_of_id else ""
        notify(
            [reading.reader],
            kind="workflows.circulation",
            title=f"待阅{behalf}：{document.title}",
            body=f"{circulation.started_by.real_name}发起传阅",
            url=reading_url(reading),
            urgency=urgency,
            actor=actor,
        )
        push_inbox_changed([reading.reader_id], task_id=reading.pk, action="created", title=document.title)


# How long a second identical 发起传阅 counts as the same click rather than a new round.
RESUBMIT_WINDOW = timedelta(minutes=2)


def _just_started(
    document: OfficialDocument, *, actor: User, people: list[User], in_order: bool, now: Any
) -> Circulation | None:
    wanted = [u.pk for u in people]
    recent = Circulation.objects.filter(
        document=document,
        started_by=actor,
        in_order=in_order,
        finished_at__isnull=True,
        created_at__gte=now - RESUBMIT_WINDOW,
    ).order_by("-created_at", "-pk")
    for circulation in recent[:5]:
        readers = list(circulation.readers.order_by("order", "pk").values_list("reader_id", flat=True))
        if readers == wanted:
            return circulation
    return None


def circulate(
    document: OfficialDocument,
    *,
    actor: User,
    readers: list[User],
    in_order: bool,
    note: str = "",
) -> Circulation:
    """发起传阅. `readers` in the order they read (when `in_order`); whole departments are resolved
    to their people by the caller. Refused with no readers, an inactive or outside reader, a note
    too long, a terminated document, or an actor who may not circulate (the agency's office)."""
    if not access.can_circulate(actor, document):
        raise FlowError("只有本单位办公室（文秘、办公室主任、收发员）可以发起传阅。")
    if document.state == DocumentState.TERMINATED:
        raise FlowError("该公文已终止，不能传阅。")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise FlowError(f"传阅说明最多 {NOTE_MAX} 个字。")
    people = _readers_in_order(readers)
    _check_readers(document, people)
    now = timezone.now()
    with transaction.atomic():
        # A double click (or a retried POST) sends the same 传阅 twice: under the document's row lock
        # the second finds the first, still open and just started with the same readers, and returns it.
        OfficialDocument.objects.select_for_update().filter(pk=document.pk).first()
        same = _just_started(document, actor=actor, people=people, in_order=in_order, now=now)
        if same is not None:
            return same
        circulation = Circulation.objects.create(
            document=document, started_by=actor, in_order=in_order, note=note, created_at=now
        )
        rows: list[CirculationReader] = []
        arrived: list[CirculationReader] = []
        taken = {u.pk for u in people}
        for order, user in enumerate(people):
            row = CirculationReader(
                circulation=circulation, reader=user, order=order, state=ReadingState.WAITING
            )
            if not in_order or order == 0:
                _arrive(row, taken=taken, now=now)
                arrived.append(row)
            rows.append(row)
        CirculationReader.objects.bulk_create(rows)
        # Every reader may open the document (and its files) from the start; so may a delegate.
        add_participants(document, [*people, *(r.reader for r in arrived)], kind=ParticipantKind.READER)
        record(
            "workflows.circulation_started",
            actor=actor,
            obj=circulation,
            details={
                "document": document.pk,
                "readers": [u.pk for u in people],
                "in_order": in_order,
            },
        )
        emit(
            "workflows.circulation.started",
            circulation,
            payload={"document": document.pk, "readers": [u.pk for u in people], "in_order": in_order},
        )
        _announce(arrived, circulation, actor=actor)
    return circulation


def mark_read(reading: CirculationReader, *, actor: User, comment: str = "") -> CirculationReader:
    """已阅, with an optional comment. In order, the next reader's item arrives; when everyone has
    read, the circulation is finished and whoever started it is told. Marking twice is refused."""
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise FlowError(f"阅读意见最多 {COMMENT_MAX} 个字。")
    with transaction.atomic():
        # The circulation's row first: two readers of one circulation marking at the same moment
        # must agree on who was last (and on who comes next, in order).
        circulation = (
            Circulation.objects.select_for_update()
            .select_related("document", "started_by")
            .get(pk=reading.circulation_id)
        )
        locked = CirculationReader.objects.select_for_update().select_related("reader").get(pk=reading.pk)
        on_behalf_of = None
        if locked.reader_id != actor.pk:
            if active_delegate(locked.reader, scope=DelegationScope.INCOMING) != actor:
                raise FlowError("您不是该文件的阅读人。")
            on_behalf_of = locked.reader
        if locked.state == ReadingState.READ:
            raise FlowError(ALREADY_READ)
        if locked.state == ReadingState.WAITING:
            raise FlowError(NOT_YOUR_TURN)
        now = timezone.now()
        original_reader_id = locked.reader_id
        if on_behalf_of is not None and not circulation.readers.filter(reader=actor).exists():
            # Read by the delegate: the row is theirs now, shown as 代 the one away.
            locked.reader = actor
            locked.on_behalf_of = on_behalf_of
            add_participants(circulation.document, [actor], kind=ParticipantKind.READER)
        locked.state = ReadingState.READ
        locked.read_at = now
        locked.comment = comment
        locked.save(update_fields=["reader", "on_behalf_of", "state", "read_at", "comment"])
        document = circulation.document
        push_inbox_changed(
            [original_reader_id, actor.pk], task_id=locked.pk, action="closed", title=document.title
        )

        arrived: list[CirculationReader] = []
        if circulation.in_order:
            following = (
                circulation.readers.filter(state=ReadingState.WAITING)
                .select_related("reader")
                .order_by("order", "pk")
                .first()
            )
            if following is not None:
                taken = set(circulation.readers.values_list("reader_id", flat=True))
                _arrive(following, taken=taken, now=now)
                following.save(update_fields=["reader", "on_behalf_of", "state", "arrived_at"])
                add_participants(document, [following.reader], kind=ParticipantKind.READER)
                arrived.append(following)
        finished = not circulation.readers.exclude(state=ReadingState.READ).exists()
        if finished:
            circulation.finished_at = now
            circulation.save(update_fields=["finished_at"])
        record(
            "workflows.circulation_read",
            actor=actor,
            obj=circulation,
            details={
                "document": document.pk,
                "reading": locked.pk,
                "on_behalf_of": on_behalf_of.pk if on_behalf_of else None,
                "commented": bool(comment),
                "finished": finished,
            },
        )
        emit(
            "workflows.circulation.read",
            circulation,
            payload={"document": document.pk, "reading": locked.pk, "reader": actor.pk, "finished": finished},
        )
        _announce(arrived, circulation, actor=actor)
        if finished:
            notify(
                [circulation.started_by],
                kind="workflows.circulation_finished",
                title=f"传阅完毕：{document.title}",
                body=f"{circulation.readers.count()}人均已阅",
                url=reverse("documents:detail", args=[document.pk]),
                actor=actor,
            )
    return locked


def readings_of(document: OfficialDocument) -> list[Circulation]:
    """The document's circulations, newest first, each with `readers` (in order, their reader and
    who they read for) loaded: the panel's "who read it when, who has not (since when)"."""
    readers = CirculationReader.objects.select_related("reader", "on_behalf_of").order_by("order", "pk")
    return list(
        Circulation.objects.filter(document=document)
        .select_related("started_by")
        .prefetch_related(Prefetch("readers", queryset=readers))
        .order_by("-created_at", "-pk")
    )
