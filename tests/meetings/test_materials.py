"""会议材料: checked before anything is stored, PDF pages counted, read only by those who see the
meeting (404 for others), every view audited, the blob kept by the referrer."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfWriter

from meetings import agenda
from meetings.errors import MeetingError
from meetings.models import AgendaItem, Material
from officeapp.audit.models import AuditEvent
from officeapp.blobs.models import Blob
from officeapp.registries import blob_referrers
from tests.meetings.factories_c import make_meeting
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_blobs(settings: Any, tmp_path: Path) -> None:
    settings.S3_ENDPOINT = ""
    settings.BLOB_DIR = tmp_path / "blobs"
    cache.clear()


def pdf_upload(pages: int = 3, name: str = "汇报材料.pdf") -> SimpleUploadedFile:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = BytesIO()
    writer.write(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/pdf")


def test_a_pdf_is_stored_with_its_page_count_under_an_agenda_item(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    item = agenda.add_agenda_item(meeting, actor=meetings.organiser, title="预算执行情况")
    material = agenda.add_material(
        meeting, actor=meetings.organiser, upload=pdf_upload(5), title="", agenda_item=item
    )
    assert material.page_count == 5 and material.title == "汇报材料" and material.filename == "汇报材料.pdf"
    assert material.agenda_item == item
    assert AuditEvent.objects.filter(action="meetings.material.added").count() == 1


def test_a_wrong_type_is_refused_before_anything_is_stored(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    exe = SimpleUploadedFile("通知.pdf", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/pdf")
    with pytest.raises(MeetingError, match="不支持的文件类型"):
        agenda.add_material(meeting, actor=meetings.organiser, upload=exe)
    assert Blob.objects.count() == 0 and Material.objects.count() == 0


def test_a_file_over_the_limit_is_refused_before_storage(meetings: MeetingsCast, settings: Any) -> None:
    settings.MEETING_MATERIAL_MAX_BYTES = 100
    meeting = make_meeting(meetings)
    with pytest.raises(MeetingError, match="文件过大"):
        agenda.add_material(meeting, actor=meetings.organiser, upload=pdf_upload(2))
    assert Blob.objects.count() == 0


def test_an_unreadable_pdf_is_refused_before_storage(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    broken = SimpleUploadedFile(
        "坏文件.pdf", b"%PDF-1.4\n garbage without objects\n", content_type="application/pdf"
    )
    with pytest.raises(MeetingError, match="无法读取该 PDF 的页数"):
        agenda.add_material(meeting, actor=meetings.organiser, upload=broken)
    assert Blob.objects.count() == 0


def test_a_participant_may_not_upload(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    with pytest.raises(MeetingError, match="只有会议组织者"):
        agenda.add_material(meeting, actor=meetings.participant, upload=pdf_upload())
    assert Blob.objects.count() == 0


def test_removing_an_item_keeps_its_materials_with_the_meeting(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    item = agenda.add_agenda_item(meeting, actor=meetings.organiser, title="甲")
    material = agenda.add_material(meeting, actor=meetings.organiser, upload=pdf_upload(), agenda_item=item)
    agenda.remove_agenda_item(item, actor=meetings.organiser)
    material.refresh_from_db()
    assert material.agenda_item is None and not AgendaItem.objects.filter(pk=item.pk).exists()


def test_the_referrer_lets_participants_read_and_keeps_the_blob(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    material = agenda.add_material(meeting, actor=meetings.organiser, upload=pdf_upload())
    referrer = blob_referrers["meetings.materials"]
    assert referrer.can_read(meetings.participant, material.blob)
    assert referrer.can_read(meetings.meeting_admin, material.blob)
    assert not referrer.can_read(meetings.outsider, material.blob)
    assert not referrer.can_read(meetings.audit_admin, material.blob)
    assert material.blob_id in set(referrer.referenced_blob_ids())


def test_a_participant_downloads_and_previews_and_each_is_audited(
    meetings: MeetingsCast, sign_in: Any
) -> None:
    meeting = make_meeting(meetings)
    material = agenda.add_material(meeting, actor=meetings.organiser, upload=pdf_upload(2))
    client = sign_in(meetings.participant)
    url = reverse("meetings:material", args=[material.pk])
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert download["Content-Disposition"].startswith("attachment")
    preview = client.get(url + "?preview=1")
    assert preview.status_code == 200 and preview["Content-Disposition"].startswith("inline")
    b"".join(preview.streaming_content)
    actions = list(
        AuditEvent.objects.filter(object_id=str(material.pk), action__startswith="meetings.material.")
        .exclude(action="meetings.material.added")
        .values_list("action", flat=True)
        .order_by("pk")
    )
    assert actions == ["meetings.material.download", "meetings.material.view"]


def test_an_outsider_gets_404_for_a_material(meetings: MeetingsCast, sign_in: Any) -> None:
    meeting = make_meeting(meetings)
    material = agenda.add_material(meeting, actor=meetings.organiser, upload=pdf_upload())
    assert sign_in(meetings.outsider).get(reverse("meetings:material", args=[material.pk])).status_code == 404
    assert sign_in(meetings.outsider).get(reverse("meetings:material", args=[999999])).status_code == 404
    assert not AuditEvent.objects.filter(
        action__in=["meetings.material.download", "meetings.material.view"]
    ).exists()


def test_only_those_who_hold_a_seat_read_the_materials(meetings: MeetingsCast, sign_in: Any) -> None:
    from django.utils import timezone

    from meetings.models import Invitee, InviteeKind, Reply, Rsvp

    meeting = make_meeting(meetings)
    material = agenda.add_material(meeting, actor=meetings.organiser, upload=pdf_upload(2), title="议程")
    # 省财政厅 is invited as an agency: its 收发员 sees the meeting to choose, not its papers.
    Invitee.objects.create(meeting=meeting, kind=InviteeKind.AGENCY, agency=meetings.cast.finance)
    # The colleague handed his seat to the finance staff member (指派); the delegate reads instead.
    seat = Rsvp.objects.get(meeting=meeting, user=meetings.colleague)
    seat.reply = Reply.DELEGATE
    seat.save()
    Rsvp.objects.create(meeting=meeting, user=meetings.finance_staff, delegated_from=seat)
    referrer = blob_referrers["meetings.materials"]
    url = reverse("meetings:material", args=[material.pk])

    assert (
        sign_in(meetings.finance_clerk).get(reverse("meetings:detail", args=[meeting.pk])).status_code == 200
    )
    assert sign_in(meetings.finance_clerk).get(url).status_code == 404
    assert not referrer.can_read(meetings.colleague, material.blob)
    assert referrer.can_read(meetings.finance_staff, material.blob)
    assert referrer.can_read(meetings.host, material.blob)
    Rsvp.objects.filter(meeting=meeting, user=meetings.participant).update(removed_at=timezone.now())
    assert sign_in(meetings.participant).get(url).status_code == 404
