"""议程与材料 page: the organiser edits through the page (a refusal re-renders what was typed with
the reason), participants read, outsiders get 404; the meeting page's agenda section lists both."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import reverse
from pypdf import PdfWriter

from meetings import agenda
from meetings.models import AgendaItem, Material
from officeapp.blobs.models import Blob
from tests.meetings.factories_c import make_meeting
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_blobs(settings: Any, tmp_path: Path) -> None:
    settings.S3_ENDPOINT = ""
    settings.BLOB_DIR = tmp_path / "blobs"
    cache.clear()


def pdf_bytes(pages: int = 2) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def url(meeting: Any) -> str:
    return reverse("meetings:agenda", args=[meeting.pk])


def test_the_organiser_adds_an_item_through_the_page(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    response = sign_in(meetings.organiser).post(
        url(meeting),
        {
            "action": "add",
            "new-title": "听取财政预算执行情况汇报",
            "new-presenter": meetings.colleague.pk,
            "new-minutes": "20",
        },
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "听取财政预算执行情况汇报" in html and "汇报人：陈志强" in html


def test_a_refused_item_re_renders_with_the_reason_and_what_was_typed(
    meetings: MeetingsCast, sign_in: Any
) -> None:
    meeting = make_meeting(meetings)
    late = (meeting.ends_at).strftime("%Y-%m-%dT%H:%M")
    response = sign_in(meetings.organiser).post(
        url(meeting), {"action": "add", "new-title": "会后议题", "new-minutes": "15", "new-starts_at": late}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "议题开始时间应在会议时间之内" in html and 'value="会后议题"' in html
    assert not AgendaItem.objects.exists()


def test_moving_and_removing_through_the_page(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    a = agenda.add_agenda_item(meeting, actor=meetings.organiser, title="甲")
    b = agenda.add_agenda_item(meeting, actor=meetings.organiser, title="乙")
    client = sign_in(meetings.organiser)
    client.post(url(meeting), {"action": "move", "item": b.pk, "position": 1})
    assert list(AgendaItem.objects.order_by("order").values_list("title", flat=True)) == ["乙", "甲"]
    client.post(url(meeting), {"action": "remove", "item": a.pk})
    assert list(AgendaItem.objects.values_list("title", flat=True)) == ["乙"]


def test_an_upload_of_the_wrong_type_re_renders_the_form_with_the_reason(
    meetings: MeetingsCast, sign_in: Any
) -> None:
    meeting = make_meeting(meetings)
    bad = SimpleUploadedFile("材料.pdf", b"MZ\x90\x00" + b"\x00" * 100)
    response = sign_in(meetings.organiser).post(
        url(meeting), {"action": "upload", "file": bad, "title": "我的材料"}
    )
    html = response.content.decode()
    assert response.status_code == 400 and "不支持的文件类型" in html and 'value="我的材料"' in html
    assert Blob.objects.count() == 0


def test_an_upload_without_a_file_is_refused(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    response = sign_in(meetings.organiser).post(url(meeting), {"action": "upload", "title": "空"})
    assert response.status_code == 400 and "请选择要上传的文件。" in response.content.decode()


def test_an_uploaded_pdf_is_listed_with_its_pages_for_a_participant(
    meetings: MeetingsCast, sign_in: Any
) -> None:
    meeting = make_meeting(meetings)
    pdf = SimpleUploadedFile("会议议程.pdf", pdf_bytes(4))
    sign_in(meetings.organiser).post(url(meeting), {"action": "upload", "file": pdf, "title": ""})
    material = Material.objects.get()
    html = sign_in(meetings.participant).get(url(meeting)).content.decode()
    assert "会议议程" in html and "4页" in html and reverse("meetings:material", args=[material.pk]) in html
    assert "上传材料" not in html


def test_a_participant_may_read_but_not_post(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    client = sign_in(meetings.participant)
    assert client.get(url(meeting)).status_code == 200
    assert (
        client.post(url(meeting), {"action": "add", "new-title": "x", "new-minutes": "5"}).status_code == 403
    )
    assert not AgendaItem.objects.exists()


def test_an_outsider_gets_404(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    assert sign_in(meetings.outsider).get(url(meeting)).status_code == 404


def test_the_meeting_page_section_lists_agenda_and_materials(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    item = agenda.add_agenda_item(meeting, actor=meetings.organiser, title="审议方案", presenter_name="张三")
    agenda.add_material(
        meeting,
        actor=meetings.organiser,
        upload=SimpleUploadedFile("方案.pdf", pdf_bytes(3)),
        agenda_item=item,
    )
    html = render_to_string(
        "meetings/_detail_agenda.html",
        {"meeting": meeting, "can_manage": False, "rsvp": None, "user": meetings.participant},
    )
    assert "审议方案" in html and "（张三）" in html and "方案" in html and "3页" in html
    assert "查看议程与材料" in html
