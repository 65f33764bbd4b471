"""The meetings source: what a meeting (notice, agenda, minutes, 议定事项) and a material look like
in the index, which outbox rows of the meeting services name which keys — so a change of text or of
who may see reaches the index — and what a rebuild walks."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfWriter

from meetings import agenda, minutes, services
from meetings.access import material_principals, meeting_principals
from meetings.models import Material, Meeting, MeetingKind, Reply
from officeapp.outbox.models import OutboxEvent
from search.interface import KINDS
from search.sources.meetings import SOURCES, MaterialSource, MeetingSource
from tests.meetings.meetings_cast import MeetingsCast, build_meetings_cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def meetings(cast: Any, settings: Any, tmp_path: Path) -> MeetingsCast:
    settings.S3_ENDPOINT = ""
    settings.BLOB_DIR = tmp_path / "blobs"
    cache.clear()
    return build_meetings_cast(cast)


def pdf_upload(name: str = "汇报材料.pdf") -> SimpleUploadedFile:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = BytesIO()
    writer.write(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/pdf")


def last_event() -> int:
    return OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def refs_since(mark: int) -> list[str]:
    keys: list[str] = []
    for event in OutboxEvent.objects.filter(pk__gt=mark).order_by("pk"):
        for source in SOURCES:
            keys += list(source.refs_for(event))
    return keys


def new_meeting(m: MeetingsCast) -> Meeting:
    return services.create_meeting(
        actor=m.organiser,
        title="全省防汛防台风工作会议",
        kind=MeetingKind.VIDEO,
        starts_at=m.at(9),
        ends_at=m.at(11),
        host=m.host,
        online=True,
        notice="请各地级以上市分管负责同志参加。",
    )


def test_the_sources_register_under_their_prefixes() -> None:
    assert [(s.prefix, s.kind) for s in SOURCES] == [("meeting", "meeting"), ("material", "attachment")]
    assert all(s.kind in KINDS for s in SOURCES)


def test_a_meeting_is_indexed_with_notice_agenda_and_minutes(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = new_meeting(m)
    agenda.add_agenda_item(meeting, actor=m.organiser, title="研究汛期值班安排", notes="各处室报送值班表")
    minutes.save_minutes(
        meeting,
        actor=m.organiser,
        body="会议听取了水利厅关于汛情的汇报。",
        decisions=[minutes.DecisionInput(text="加强水库巡查")],
    )

    [doc], gone = MeetingSource().build([f"meeting:{meeting.pk}"])

    assert gone == []
    assert (doc.key, doc.kind, doc.title) == (f"meeting:{meeting.pk}", "meeting", "全省防汛防台风工作会议")
    for text in (
        "请各地级以上市分管负责同志参加",
        "研究汛期值班安排",
        "各处室报送值班表",
        "汛情",
        "加强水库巡查",
    ):
        assert text in doc.body
    assert doc.url == reverse("meetings:detail", args=[meeting.pk])
    assert doc.date == meeting.starts_at and doc.agency_id == m.agency.pk
    assert (doc.status, doc.status_label) == ("draft", "草稿")
    assert doc.subtitle.startswith("视频会")
    assert doc.principals == meeting_principals(meeting)


def test_a_material_is_indexed_by_its_names_for_the_seat_holders(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = new_meeting(m)
    item = agenda.add_agenda_item(meeting, actor=m.organiser, title="汛期值班")
    material = agenda.add_material(
        meeting, actor=m.organiser, upload=pdf_upload("防汛预案.pdf"), title="防汛应急预案", agenda_item=item
    )

    [doc], _ = MaterialSource().build([f"material:{material.pk}"])

    assert (doc.kind, doc.title) == ("attachment", "防汛应急预案")
    assert "防汛预案.pdf" in doc.body and "汛期值班" in doc.body
    assert doc.url == reverse("meetings:material", args=[material.pk]) + "?preview=1"
    assert doc.subtitle == "会议材料 · 全省防汛防台风工作会议"
    assert doc.principals == material_principals(meeting)


def docx_upload(text: str, name: str = "汇报提纲.docx") -> SimpleUploadedFile:
    from docx import Document

    document = Document()
    document.add_paragraph(text)
    out = BytesIO()
    document.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def test_a_materials_text_is_extracted_into_its_body(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = new_meeting(m)
    material = agenda.add_material(meeting, actor=m.organiser, upload=docx_upload("加强水库安全度汛管理"))

    [doc], _ = MaterialSource().build([f"material:{material.pk}"])

    assert "汇报提纲.docx" in doc.body and "加强水库安全度汛管理" in doc.body


def test_the_meeting_services_name_the_meeting_and_its_materials(meetings: MeetingsCast) -> None:
    m = meetings
    mark = last_event()
    meeting = new_meeting(m)
    assert refs_since(mark) == [f"meeting:{meeting.pk}"]

    mark = last_event()
    material = agenda.add_material(meeting, actor=m.organiser, upload=pdf_upload())
    both = [f"meeting:{meeting.pk}", f"material:{material.pk}"]
    assert refs_since(mark) == both

    for change in (
        lambda: services.set_invitees(meeting, actor=m.organiser, people=[m.participant, m.colleague]),
        lambda: services.send_notice(meeting, actor=m.organiser),
        lambda: services.reply(meeting, actor=m.participant, reply=Reply.ATTEND),
        lambda: services.update_meeting(meeting, actor=m.organiser, title="全省防汛工作会议"),
        lambda: minutes.save_minutes(meeting, actor=m.organiser, body="纪要", decisions=[]),
    ):
        mark = last_event()
        change()
        assert refs_since(mark) == both


def test_a_delegated_seat_refreshes_the_materials(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = new_meeting(m)
    material = agenda.add_material(meeting, actor=m.organiser, upload=pdf_upload())
    services.set_invitees(meeting, actor=m.organiser, people=[m.colleague])
    services.send_notice(meeting, actor=m.organiser)
    [before], _ = MaterialSource().build([f"material:{material.pk}"])
    assert f"mtg-u:{m.colleague.pk}" in before.principals

    mark = last_event()
    services.reply(meeting, actor=m.colleague, reply=Reply.DELEGATE, delegate=m.participant)
    assert f"material:{material.pk}" in refs_since(mark)
    [after], _ = MaterialSource().build([f"material:{material.pk}"])
    assert f"mtg-u:{m.colleague.pk}" not in after.principals
    assert f"mtg-u:{m.participant.pk}" in after.principals


def test_a_removed_material_is_named_and_then_deleted(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = new_meeting(m)
    material = agenda.add_material(meeting, actor=m.organiser, upload=pdf_upload())
    key = f"material:{material.pk}"

    mark = last_event()
    agenda.remove_material(material, actor=m.organiser)

    assert key in refs_since(mark)
    assert MaterialSource().build([key]) == ([], [key])


def test_votes_and_unrelated_rows_name_nothing(meetings: MeetingsCast) -> None:
    meeting = new_meeting(meetings)
    for topic in ("meeting.vote.opened", "meetings.rsvp.checked_in", "meetings.room.updated", "chat.message"):
        event = OutboxEvent(
            topic=topic, object_type="meetings.meeting", object_id=str(meeting.pk), payload={}
        )
        assert all(list(s.refs_for(event)) == [] for s in SOURCES), topic


def test_a_rebuild_walks_every_meeting_and_material(meetings: MeetingsCast) -> None:
    m = meetings
    first, second = new_meeting(m), new_meeting(m)
    material = agenda.add_material(first, actor=m.organiser, upload=pdf_upload())
    meeting_source, material_source = SOURCES
    assert list(meeting_source.all_keys()) == [f"meeting:{first.pk}", f"meeting:{second.pk}"]
    assert meeting_source.count() == 2
    assert list(material_source.all_keys()) == [f"material:{material.pk}"]
    assert material_source.count() == Material.objects.count() == 1
    assert MeetingSource().build(["meeting:999999"]) == ([], ["meeting:999999"])


def test_a_meeting_just_after_new_year_is_in_the_new_year(meetings: MeetingsCast) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    meeting = new_meeting(meetings)
    new_year = datetime(2027, 1, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # 2026-12-31 16:30 UTC
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=new_year, ends_at=new_year + timedelta(hours=1))

    [doc], _ = MeetingSource().build([f"meeting:{meeting.pk}"])

    assert doc.year == 2027
