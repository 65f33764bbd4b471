"""归档 and the archive packages: what an archivist notices."""

from __future__ import annotations

import io
import json
import os
import tracemalloc
import zipfile
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from documents.archiving import archive, archive_package, archive_parts, year_package
from documents.errors import DocumentError, DocumentFrozen
from documents.exchange import distribute
from documents.models import (
    Attachment,
    DocumentState,
    ExchangeRecord,
    ExchangeState,
    OfficialDocument,
    Rendering,
    RenderKind,
    RenderStatus,
    Retention,
)
from documents.versions import save_version
from officeapp.audit.models import AuditEvent
from officeapp.blobs.services import put
from officeapp.org.models import Role
from tests.documents.exchange_factories import SEALED_PDF, grant, make_sealed


def distributed(cast: Any, **fields: Any) -> OfficialDocument:
    document = make_sealed(cast, **fields)
    distribute(document, actor=cast.office_secretary)
    document.state = DocumentState.ARCHIVE
    document.save()
    return document


def archived(cast: Any, **fields: Any) -> OfficialDocument:
    document = distributed(cast, **fields)
    archive(document, actor=cast.office_secretary, retention=Retention.YEARS_30)
    return document


def add_attachment(cast: Any, document: OfficialDocument, title: str, content: bytes, filename: str) -> Any:
    return Attachment.objects.create(
        document=document,
        order=document.attachments.count() + 1,
        title=title,
        filename=filename,
        blob=put(io.BytesIO(content), actor=None),
        added_by=cast.drafter,
    )


def test_archiving_sets_retention_state_and_time(cast: Any) -> None:
    document = distributed(cast)

    archive(document, actor=cast.office_secretary, retention=Retention.PERMANENT)

    document.refresh_from_db()
    assert document.state == DocumentState.ARCHIVED
    assert document.retention == Retention.PERMANENT
    assert document.archived_at is not None
    assert AuditEvent.objects.filter(action="documents.archived", actor=cast.office_secretary).exists()


def test_an_archivist_of_the_issuing_agency_may_archive(cast: Any) -> None:
    document = distributed(cast)
    archivist = grant(cast.outsider, Role.ARCHIVIST, cast.gov_office)

    archive(document, actor=archivist, retention=Retention.YEARS_10)

    document.refresh_from_db()
    assert document.retention == Retention.YEARS_10


def test_archiving_before_distribution_is_refused_with_a_clear_message(cast: Any) -> None:
    document = make_sealed(cast)

    with pytest.raises(DocumentError, match="尚未分发"):
        archive(document, actor=cast.office_secretary, retention=Retention.YEARS_30)

    document.refresh_from_db()
    assert document.state == DocumentState.DISTRIBUTE


def test_archiving_when_every_record_was_withdrawn_is_refused(cast: Any) -> None:
    document = distributed(cast)
    ExchangeRecord.objects.filter(document=document).update(state=ExchangeState.WITHDRAWN)

    with pytest.raises(DocumentError, match="尚未分发"):
        archive(document, actor=cast.office_secretary, retention=Retention.YEARS_30)


def test_archiving_without_a_retention_period_is_refused(cast: Any) -> None:
    document = distributed(cast)

    with pytest.raises(DocumentError, match="保管期限"):
        archive(document, actor=cast.office_secretary, retention="")


def test_only_the_archivist_or_secretary_may_archive(cast: Any) -> None:
    document = distributed(cast)

    for someone in (cast.drafter, cast.clerk, cast.leader, cast.other_clerk):
        with pytest.raises(PermissionDenied):
            archive(document, actor=someone, retention=Retention.YEARS_30)


def test_archiving_twice_is_refused(cast: Any) -> None:
    document = archived(cast)

    with pytest.raises(DocumentError, match="已归档"):
        archive(document, actor=cast.office_secretary, retention=Retention.PERMANENT)


def test_an_archived_document_refuses_a_new_version(cast: Any) -> None:
    document = archived(cast)

    with pytest.raises(DocumentFrozen):
        save_version(document, actor=cast.office_secretary, body=[{"kind": "p", "text": "改"}], based_on=1)


def test_an_archived_document_refuses_new_changed_or_removed_attachments(cast: Any) -> None:
    document = distributed(cast)
    attachment = add_attachment(cast, document, "防汛物资清单", b"one", "清单.txt")
    archive(document, actor=cast.office_secretary, retention=Retention.YEARS_30)

    # Each refusal rolls back the caller's transaction, as a service's would.
    with pytest.raises(DocumentFrozen, match="已归档"), transaction.atomic():
        add_attachment(cast, document, "补充材料", b"two", "补充.txt")
    attachment.title = "改名"
    with pytest.raises(DocumentFrozen), transaction.atomic():
        attachment.save()
    with pytest.raises(DocumentFrozen), transaction.atomic():
        attachment.delete()
    assert Attachment.objects.get(pk=attachment.pk).title == "防汛物资清单"


def test_an_archived_document_refuses_new_or_removed_renderings(cast: Any) -> None:
    document = archived(cast)

    with pytest.raises(DocumentFrozen), transaction.atomic():
        Rendering.objects.create(document=document, version=document.current_version, kind=RenderKind.PDF)
    with pytest.raises(DocumentFrozen), transaction.atomic():
        Rendering.objects.filter(document=document).first().delete()


def test_the_package_holds_sealed_pdf_final_docx_attachments_and_metadata(cast: Any) -> None:
    document = distributed(cast)
    add_attachment(cast, document, "防汛物资清单", b"list of supplies", "清单.xlsx")
    archive(document, actor=cast.office_secretary, retention=Retention.YEARS_30)

    with zipfile.ZipFile(io.BytesIO(archive_package(document))) as zf:
        names = zf.namelist()
        assert zf.read("正式文件（盖章）.pdf").startswith(SEALED_PDF)
        assert zf.read("定稿.docx").startswith(b"PK")
        assert zf.read("附件/附件1 防汛物资清单.xlsx") == b"list of supplies"
        meta = json.loads(zf.read("metadata.json"))
        # The UTF-8 flag makes Chinese names readable in every unzip tool.
        assert all(info.flag_bits & 0x800 for info in zf.infolist() if not info.filename.isascii())

    assert "metadata.json" in names
    assert meta["document"]["doc_number"] == "粤府办〔2026〕1号"
    assert meta["document"]["retention_label"] == "30年"
    assert {e["recipient"]["name"] for e in meta["exchange_records"]} == {"广东省财政厅", "广东省教育厅"}
    assert meta["final_version"]["body"] == document.current_version.body
    assert any(p["username"] == "drafter" for p in meta["participants"])
    assert {r["kind"] for r in meta["renderings"]} == {"docx", "sealed_pdf"}


def test_every_registered_part_is_included_in_the_package(cast: Any) -> None:
    document = archived(cast)
    archive_parts.register("test.sheet", lambda d: ("发文处理单.docx", f"sheet {d.pk}".encode()))
    archive_parts.register("test.nothing", lambda d: None)
    try:
        content = archive_package(document)
    finally:
        archive_parts.unregister("test.sheet")
        archive_parts.unregister("test.nothing")

    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        assert zf.read("发文处理单.docx") == f"sheet {document.pk}".encode()


def test_the_year_package_has_one_folder_per_archived_document_of_that_agency_and_year(cast: Any) -> None:
    first = archived(cast, title="关于做好防汛工作的通知")
    second = archived(cast, number="粤府办〔2026〕2号", title="关于做好防台风工作的通知")
    make_sealed(cast, number="粤府办〔2026〕3号", title="尚未归档的通知")
    last_year = archived(cast, number="粤府办〔2025〕9号", title="去年的通知")
    OfficialDocument.objects.filter(pk=last_year.pk).update(issued_on=timezone.localdate().replace(year=2025))
    year = first.issued_on.year

    content = b"".join(year_package(cast.gov_office, year))

    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        folders = sorted({name.split("/")[0] for name in zf.namelist()})
        assert folders == sorted([f"{first.doc_number} {first.title}", f"{second.doc_number} {second.title}"])
        assert zf.read(f"{second.doc_number} {second.title}/正式文件（盖章）.pdf").startswith(SEALED_PDF)
    with zipfile.ZipFile(io.BytesIO(b"".join(year_package(cast.finance, year)))) as zf:
        assert zf.namelist() == []


def test_the_year_package_streams_without_holding_the_year_in_memory(cast: Any) -> None:
    document = distributed(cast)
    big = os.urandom(12 * 1024 * 1024)  # 12 MiB that do not compress away
    add_attachment(cast, document, "大附件", big, "big.bin")
    archive(document, actor=cast.office_secretary, retention=Retention.YEARS_10)

    tracemalloc.start()
    try:
        chunks = year_package(cast.gov_office, document.issued_on.year)
        total = sum(len(c) for c in chunks)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert total > len(big) // 100
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes"


def test_renderings_not_ready_are_left_out_of_the_package(cast: Any) -> None:
    document = distributed(cast)
    Rendering.objects.create(
        document=document,
        version=document.current_version,
        kind=RenderKind.DOCX,
        status=RenderStatus.FAILED,
        error="LibreOffice 超时",
    )
    archive(document, actor=cast.office_secretary, retention=Retention.YEARS_30)

    with zipfile.ZipFile(io.BytesIO(archive_package(document))) as zf:
        assert zf.read("定稿.docx").startswith(b"PK")


def test_the_metadata_carries_each_seals_digest_and_signature(cast: Any) -> None:
    from documents.models import Seal, SealApplication

    document = distributed(cast)
    seal = Seal.objects.create(
        agency=cast.gov_office,
        name="广东省人民政府办公厅电子印章",
        image=put(io.BytesIO(b"\x89PNG seal image"), actor=None),
        public_key_pem="-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n",
        private_key_encrypted="encrypted",
        fingerprint="ab" * 32,
    )
    SealApplication.objects.create(
        document=document,
        agency=cast.gov_office,
        seal=seal,
        digest="cd" * 32,
        signature="c2lnbmF0dXJl",
        authorised_by=cast.office_secretary,
        signed_at=timezone.now(),
    )
    archive(document, actor=cast.office_secretary, retention=Retention.PERMANENT)

    with zipfile.ZipFile(io.BytesIO(archive_package(document))) as zf:
        (entry,) = json.loads(zf.read("metadata.json"))["seals"]

    assert entry["agency"]["name"] == "广东省人民政府办公厅"
    assert (entry["digest_algorithm"], entry["digest"], entry["signature"]) == (
        "SHA-256",
        "cd" * 32,
        "c2lnbmF0dXJl",
    )
    assert entry["fingerprint"] == "ab" * 32
    assert "private_key" not in json.dumps(entry)


def test_removed_attachments_are_left_out_of_the_package(cast: Any) -> None:
    document = distributed(cast)
    kept = add_attachment(cast, document, "保留的附件", b"kept", "a.txt")
    gone = add_attachment(cast, document, "已删除的附件", b"gone", "b.txt")
    Attachment.objects.filter(pk=gone.pk).update(removed_at=timezone.now())
    archive(document, actor=cast.office_secretary, retention=Retention.YEARS_10)

    with zipfile.ZipFile(io.BytesIO(archive_package(document))) as zf:
        attachments = [n for n in zf.namelist() if n.startswith("附件/")]

    assert attachments == [f"附件/附件{kept.order} 保留的附件.txt"]


def test_a_pdf_requested_before_archiving_is_still_finished_by_the_worker(cast: Any) -> None:
    from documents.rendering import produce
    from documents.services import set_state
    from tests.documents.factories import make_document

    document = make_document(cast)
    pending = Rendering.objects.create(
        document=document, version=document.current_version, kind=RenderKind.DOCX
    )
    set_state(document, DocumentState.ARCHIVED)

    produce(pending.pk)

    pending.refresh_from_db()
    assert pending.status == RenderStatus.READY
    with pytest.raises(DocumentFrozen):
        Rendering.objects.create(document=document, version=document.current_version, kind=RenderKind.PDF)
