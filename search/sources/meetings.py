"""Meetings in search: each meeting ("meeting:<pk>", kind "meeting") with its notice, agenda and
minutes (纪要正文 and 议定事项) as body, and each material ("material:<pk>", kind "attachment").

Who may find them: `meetings.access.meeting_principals` (the mirror of `visible_meetings`) for the
meeting, `material_principals` (the mirror of `material_meetings`: seat holders, not the clerks
still choosing attendees) for its materials. Any change of a meeting's people (invitees, 回执,
指派, removal from the room, 移交) refreshes the meeting and all its materials.

A material's body is its file name and agenda item, plus the text extracted from the file by
search.extract (docx, PDF, xlsx; bounded in size and time, kept per blob in ExtractedText).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from officeapp.outbox.models import OutboxEvent
from search.interface import MAX_BODY_CHARS, MAX_TITLE_CHARS, IndexDoc
from search.sources import RowSource, Source, parse_keys, parse_pk

MEETING_PREFIX = "meeting"
MATERIAL_PREFIX = "material"

# The outbox topics of changes to what a meeting or its materials say, or to who may see them.
# Left out on purpose: votes, check-ins, presence and bookings/rooms change neither.
MEETING_TOPICS = frozenset(
    {
        "meetings.meeting.created",
        "meetings.meeting.updated",
        "meetings.meeting.cancelled",
        "meetings.meeting.handed_over",
        "meetings.series.created",
        "meetings.invitees.changed",
        "meetings.notice.sent",
        "meetings.attendees.chosen",
        "meetings.rsvp.replied",
        "meetings.minutes.saved",
        "meetings.minutes.issued",
        "meetings.decision.supervised",
        "meetings.agenda.changed",  # agenda items and materials added, changed, removed
        "meetings.material.removed",  # names the removed material, so its entry goes
        "meeting.live.started",
        "meeting.ended",
        "meeting.participant.removed",
    }
)


def refs_for_event(event: OutboxEvent) -> list[str]:
    """Keys of the meetings this event names, each followed by its materials' keys."""
    from meetings.models import Material

    if event.topic not in MEETING_TOPICS:
        return []
    payload = event.payload if isinstance(event.payload, dict) else {}
    ids: list[int] = []
    if event.object_type == "meetings.meeting":
        ids.append(parse_pk(event.object_id) or 0)
    ids.append(parse_pk(payload.get("meeting")) or 0)
    ids += [parse_pk(m) or 0 for m in payload.get("meetings") or [] if not isinstance(m, bool)]
    meeting_ids = sorted({i for i in ids if i})
    keys = [f"{MEETING_PREFIX}:{i}" for i in meeting_ids]
    if meeting_ids:
        materials = (
            Material.objects.filter(meeting_id__in=meeting_ids).order_by("pk").values_list("pk", flat=True)
        )
        keys += [f"{MATERIAL_PREFIX}:{m}" for m in materials]
    if event.object_type == "meetings.material" and parse_pk(event.object_id):
        key = f"{MATERIAL_PREFIX}:{parse_pk(event.object_id)}"
        if key not in keys:
            keys.append(key)
    return keys


def _join(*parts: str) -> str:
    return "\n".join(p for p in (x.strip() for x in parts if x) if p)[:MAX_BODY_CHARS]


def _meeting_body(meeting: Any) -> str:
    from meetings.models import AgendaItem, Decision, Minutes

    agenda = [
        _join(a.title, a.presenter_name, a.notes)
        for a in AgendaItem.objects.filter(meeting_id=meeting.pk).order_by("order")
    ]
    minutes = Minutes.objects.filter(meeting_id=meeting.pk).first()
    minutes_text = ""
    decisions: list[str] = []
    if minutes is not None:
        minutes_text = minutes.body
        decisions = list(
            Decision.objects.filter(minutes=minutes).order_by("order").values_list("text", flat=True)
        )
    return _join(meeting.notice, *agenda, minutes_text, *decisions)


def _meeting_doc(meeting: Any) -> IndexDoc:
    from meetings.access import meeting_principals
    from meetings.services import detail_url, when_text

    return IndexDoc(
        key=f"{MEETING_PREFIX}:{meeting.pk}",
        kind="meeting",
        title=meeting.title[:MAX_TITLE_CHARS],
        body=_meeting_body(meeting),
        principals=meeting_principals(meeting),
        url=detail_url(meeting),
        # Local time: the year facet is read from it (1 January 00:30 in Beijing is the new year).
        date=timezone.localtime(meeting.starts_at),
        agency_id=meeting.agency_id,
        agency_name=meeting.agency.name,
        status=meeting.status,
        status_label=meeting.get_status_display(),
        subtitle=f"{meeting.get_kind_display()} · {when_text(meeting)}",
    )


def _material_doc(material: Any, principals: frozenset[str], text: str) -> IndexDoc:
    meeting = material.meeting
    agenda = material.agenda_item.title if material.agenda_item_id else ""
    return IndexDoc(
        key=f"{MATERIAL_PREFIX}:{material.pk}",
        kind="attachment",
        title=material.title[:MAX_TITLE_CHARS],
        body=_join(material.filename, agenda, text),
        principals=principals,
        url=reverse("meetings:material", args=[material.pk]) + "?preview=1",
        date=timezone.localtime(material.uploaded_at),
        agency_id=meeting.agency_id,
        agency_name=meeting.agency.name,
        subtitle=f"会议材料 · {meeting.title}",
    )


class MeetingSource(RowSource):
    kind = "meeting"
    prefix = MEETING_PREFIX

    def refs_for(self, event: OutboxEvent) -> Iterable[str]:
        return [k for k in refs_for_event(event) if k.startswith(f"{MEETING_PREFIX}:")]

    def build(self, keys: list[str]) -> tuple[list[IndexDoc], list[str]]:
        from meetings.models import Meeting

        wanted = parse_keys(keys, MEETING_PREFIX)
        docs = [_meeting_doc(m) for m in Meeting.objects.filter(pk__in=wanted).select_related("agency")]
        found = {int(d.key.split(":")[1]) for d in docs}
        return docs, [key for pk, key in wanted.items() if pk not in found]

    def rows(self) -> QuerySet[Any]:
        from meetings.models import Meeting

        return Meeting.objects.all()


class MaterialSource(RowSource):
    kind = "attachment"
    prefix = MATERIAL_PREFIX

    def refs_for(self, event: OutboxEvent) -> Iterable[str]:
        return [k for k in refs_for_event(event) if k.startswith(f"{MATERIAL_PREFIX}:")]

    def build(self, keys: list[str]) -> tuple[list[IndexDoc], list[str]]:
        from meetings.access import material_principals
        from meetings.models import Material
        from search.extract import ensure_extracted
        from search.models import ExtractedText

        wanted = parse_keys(keys, MATERIAL_PREFIX)
        materials = list(
            Material.objects.filter(pk__in=wanted).select_related("meeting__agency", "agenda_item", "blob")
        )
        texts = {
            t.sha256: t.text
            for t in ExtractedText.objects.filter(sha256__in={m.blob.sha256 for m in materials})
        }
        principals_of: dict[int, frozenset[str]] = {}
        docs = []
        for material in materials:
            sha = material.blob.sha256
            if sha not in texts:
                # Worker only (build runs in the outbox consumer or search_reindex), bounded by
                # search.extract's limits; read once per stored content, shared with 公文 附件.
                texts[sha] = ensure_extracted(material.blob, filename=material.filename).text
            if material.meeting_id not in principals_of:
                principals_of[material.meeting_id] = material_principals(material.meeting)
            docs.append(_material_doc(material, principals_of[material.meeting_id], texts[sha]))
        found = {int(d.key.split(":")[1]) for d in docs}
        return docs, [key for pk, key in wanted.items() if pk not in found]

    def rows(self) -> QuerySet[Any]:
        from meetings.models import Material

        return Material.objects.all()


SOURCES: list[Source] = [MeetingSource(), MaterialSource()]
