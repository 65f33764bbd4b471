"""议程 and 会议材料: the organiser adds, edits, reorders and removes agenda items and uploads
materials (for the meeting or one item); participants read them.

Each change is one transaction that holds the Meeting row lock, so two organisers reordering at
once queue instead of colliding on the (meeting, order) unique constraint; orders are always
1..n. A material is checked (officeapp.blobs.checks: type by its bytes, size) and a PDF's pages
counted with pypdf BEFORE anything is stored; then the bytes go to the blob store (before the
transaction: content-addressed, a failed save leaves an orphan the retention job removes) and the
row is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from meetings import access
from meetings.errors import MeetingError
from meetings.models import AgendaItem, Material, Meeting, MeetingStatus
from officeapp.audit.services import record
from officeapp.blobs.checks import CheckedUpload, UploadRefused, check_upload
from officeapp.outbox.services import emit

# What a material may be: office documents, PDF, OFD, text (the "document" kind) and images.
MATERIAL_KINDS = ("document", "image")
TITLE_MAX_CHARS = AgendaItem._meta.get_field("title").max_length or 200
PRESENTER_MAX_CHARS = AgendaItem._meta.get_field("presenter_name").max_length or 60
MATERIAL_TITLE_MAX_CHARS = Material._meta.get_field("title").max_length or 200
ITEM_MAX_MINUTES = 600
# Above any real order: items are parked here while renumbered (the unique constraint holds throughout).
_PARKING = 10000

MSG_NOT_ORGANISER = "只有会议组织者可以修改议程和材料。"
MSG_CANCELLED = "会议已取消，不能再修改议程和材料。"
MSG_NO_TITLE = "请填写议题名称。"
MSG_BAD_PDF = "无法读取该 PDF 的页数（文件已损坏或已加密），请重新导出后上传。"


def material_max_bytes() -> int:
    return int(settings.MEETING_MATERIAL_MAX_BYTES)


def _locked_meeting(meeting: Meeting, actor: Any) -> Meeting:
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not access.can_manage_meeting(actor, locked):
        raise MeetingError(MSG_NOT_ORGANISER)
    if locked.status == MeetingStatus.CANCELLED:
        raise MeetingError(MSG_CANCELLED)
    return locked


def _clean_item(
    meeting: Meeting,
    *,
    title: str,
    presenter: Any,
    presenter_name: str,
    starts_at: datetime | None,
    minutes: int,
    notes: str,
) -> dict[str, Any]:
    title = " ".join((title or "").split())
    if not title:
        raise MeetingError(MSG_NO_TITLE)
    if len(title) > TITLE_MAX_CHARS:
        raise MeetingError(f"议题名称不能超过 {TITLE_MAX_CHARS} 个字。")
    presenter_name = (presenter_name or "").strip()
    if len(presenter_name) > PRESENTER_MAX_CHARS:
        raise MeetingError(f"汇报人姓名不能超过 {PRESENTER_MAX_CHARS} 个字。")
    if presenter is not None and not presenter.is_active:
        raise MeetingError(f"{presenter.real_name}已停用，不能作为汇报人。")
    if presenter is not None and not presenter_name:
        presenter_name = presenter.real_name
    if not isinstance(minutes, int) or not 0 < minutes <= ITEM_MAX_MINUTES:
        raise MeetingError(f"议题时长应为 1 至 {ITEM_MAX_MINUTES} 分钟。")
    if starts_at is not None and not meeting.starts_at <= starts_at < meeting.ends_at:
        begin, end = timezone.localtime(meeting.starts_at), timezone.localtime(meeting.ends_at)
        raise MeetingError(f"议题开始时间应在会议时间之内（{begin:%H:%M}–{end:%H:%M}）。")
    return {
        "title": title,
        "presenter": presenter,
        "presenter_name": presenter_name,
        "starts_at": starts_at,
        "minutes": minutes,
        "notes": (notes or "").strip(),
    }


def _changed(meeting: Meeting, actor: Any, action: str, obj: Any, details: dict[str, Any]) -> None:
    record(action, actor=actor, obj=obj, details={"meeting": meeting.pk, **details})
    emit("meetings.agenda.changed", meeting, payload={"meeting": meeting.pk, "action": action})


def add_agenda_item(
    meeting: Meeting,
    *,
    actor: Any,
    title: str,
    presenter: Any = None,
    presenter_name: str = "",
    starts_at: datetime | None = None,
    minutes: int = 15,
    notes: str = "",
) -> AgendaItem:
    with transaction.atomic():
        locked = _locked_meeting(meeting, actor)
        fields = _clean_item(
            locked,
            title=title,
            presenter=presenter,
            presenter_name=presenter_name,
            starts_at=starts_at,
            minutes=minutes,
            notes=notes,
        )
        last = AgendaItem.objects.filter(meeting=locked).aggregate(m=Max("order"))["m"] or 0
        item = AgendaItem.objects.create(meeting=locked, order=last + 1, **fields)
        _changed(locked, actor, "meetings.agenda_item.added", item, {"order": item.order})
    return item


def update_agenda_item(
    item: AgendaItem,
    *,
    actor: Any,
    title: str,
    presenter: Any = None,
    presenter_name: str = "",
    starts_at: datetime | None = None,
    minutes: int = 15,
    notes: str = "",
) -> AgendaItem:
    with transaction.atomic():
        locked = _locked_meeting(item.meeting, actor)
        fields = _clean_item(
            locked,
            title=title,
            presenter=presenter,
            presenter_name=presenter_name,
            starts_at=starts_at,
            minutes=minutes,
            notes=notes,
        )
        fresh = AgendaItem.objects.get(pk=item.pk)
        for name, value in fields.items():
            setattr(fresh, name, value)
        fresh.save()
        _changed(locked, actor, "meetings.agenda_item.updated", fresh, {})
    return fresh


def _renumber(meeting: Meeting, ordered: list[AgendaItem]) -> None:
    AgendaItem.objects.filter(meeting=meeting).update(order=F("order") + _PARKING)
    for position, item in enumerate(ordered, 1):
        AgendaItem.objects.filter(pk=item.pk).update(order=position)
        item.order = position


def move_agenda_item(item: AgendaItem, *, actor: Any, position: int) -> AgendaItem:
    """Put the item at `position` (1 = first; beyond the end = last); the others close up."""
    with transaction.atomic():
        locked = _locked_meeting(item.meeting, actor)
        items = list(AgendaItem.objects.filter(meeting=locked).order_by("order", "pk"))
        moving = next((i for i in items if i.pk == item.pk), None)
        if moving is None:
            raise MeetingError("该议题已被删除，请刷新页面。")
        if not isinstance(position, int) or position < 1:
            raise MeetingError("议题位置无效。")
        before = moving.order
        items.remove(moving)
        items.insert(min(position, len(items) + 1) - 1, moving)
        _renumber(locked, items)
        _changed(locked, actor, "meetings.agenda_item.moved", moving, {"from": before, "to": moving.order})
    return moving


def remove_agenda_item(item: AgendaItem, *, actor: Any) -> None:
    """Remove the item; its materials stay with the meeting (no longer under an item)."""
    with transaction.atomic():
        locked = _locked_meeting(item.meeting, actor)
        fresh = AgendaItem.objects.filter(pk=item.pk, meeting=locked).first()
        if fresh is None:
            return
        _changed(locked, actor, "meetings.agenda_item.removed", fresh, {"order": fresh.order})
        fresh.delete()
        _renumber(locked, list(AgendaItem.objects.filter(meeting=locked).order_by("order", "pk")))


# --- materials ---------------------------------------------------------------------------------------


def page_count_of(checked: CheckedUpload) -> int:
    """Pages of a PDF (pypdf); 1 for an image; 0 for an office document (until rendered)."""
    if checked.type.key in ("png", "jpeg", "gif", "webp"):
        return 1
    if checked.type.key != "pdf":
        return 0
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    file = checked.file
    try:
        file.seek(0)
        reader = PdfReader(file)
        if reader.is_encrypted:
            raise MeetingError(MSG_BAD_PDF)
        pages = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise MeetingError(MSG_BAD_PDF) from exc
    finally:
        file.seek(0)
    if pages < 1:
        raise MeetingError(MSG_BAD_PDF)
    return pages


def add_material(
    meeting: Meeting, *, actor: Any, upload: Any, title: str = "", agenda_item: AgendaItem | None = None
) -> Material:
    from officeapp.blobs.services import put

    title = " ".join((title or "").split())
    if len(title) > MATERIAL_TITLE_MAX_CHARS:
        raise MeetingError(f"材料名称不能超过 {MATERIAL_TITLE_MAX_CHARS} 个字。")
    # Who may, and whether the meeting takes changes, first: nothing is stored for whoever may not.
    fresh = Meeting.objects.get(pk=meeting.pk)
    if not access.can_manage_meeting(actor, fresh):
        raise MeetingError(MSG_NOT_ORGANISER)
    if fresh.status == MeetingStatus.CANCELLED:
        raise MeetingError(MSG_CANCELLED)
    if agenda_item is not None and agenda_item.meeting_id != fresh.pk:
        raise MeetingError("所选议题不属于本次会议。")
    if upload is None:
        raise MeetingError("请选择要上传的文件。")
    try:
        checked = check_upload(upload, allowed_kinds=MATERIAL_KINDS, max_bytes=material_max_bytes())
    except UploadRefused as exc:
        raise MeetingError(exc.message) from exc
    pages = page_count_of(checked)
    blob = put(checked, actor=actor)
    with transaction.atomic():
        locked = _locked_meeting(fresh, actor)
        if agenda_item is not None and not AgendaItem.objects.filter(pk=agenda_item.pk).exists():
            raise MeetingError("所选议题已被删除，请刷新页面。")
        stem = checked.name.rsplit(".", 1)[0]
        material = Material.objects.create(
            meeting=locked,
            agenda_item=agenda_item,
            blob=blob,
            title=title or stem[:MATERIAL_TITLE_MAX_CHARS],
            filename=checked.name[:200],
            page_count=pages,
            uploaded_by=actor,
        )
        _changed(
            locked,
            actor,
            "meetings.material.added",
            material,
            {"blob": blob.pk, "size": checked.size, "type": checked.type.key, "pages": pages},
        )
    return material


def remove_material(material: Material, *, actor: Any) -> None:
    """The row goes; the blob stays until no referrer holds it (the retention job)."""
    with transaction.atomic():
        locked = _locked_meeting(material.meeting, actor)
        fresh = Material.objects.filter(pk=material.pk, meeting=locked).first()
        if fresh is None:
            return
        _changed(locked, actor, "meetings.material.removed", fresh, {"blob": fresh.blob_id})
        # The row that names the material itself: search drops its entry (the row above names only
        # the meeting, whose remaining materials are all that is left to find).
        emit("meetings.material.removed", fresh, payload={"meeting": locked.pk})
        fresh.delete()
