"""Downloads go through the referrers: one says yes → the file streams; nobody does → the same 404."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

import pytest
from django.urls import reverse

from officeapp.audit.models import AuditEvent
from officeapp.blobs import services
from officeapp.blobs.backends import get_backend
from officeapp.blobs.models import Blob
from tests.blobs.conftest import docx_bytes, unique

pytestmark = pytest.mark.django_db

NAME = "关于做好2026年防汛工作的通知.docx"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def shared_docx(blob_store: Any, cast: Any, referrer: Any) -> tuple[Blob, bytes]:
    content = docx_bytes("防汛")
    blob = services.put(io.BytesIO(content), actor=cast.drafter)
    referrer.blob_ids.add(blob.pk)
    referrer.reader_ids.update({cast.drafter.pk, cast.dept_head.pk})
    return blob, content


def url_for(blob: Blob, name: str = NAME) -> str:
    return reverse("blobs:download", args=[blob.pk, name])


def test_reader_downloads_chinese_named_file_with_rfc5987_header(
    shared_docx: Any, cast: Any, sign_in: Any
) -> None:
    blob, content = shared_docx
    response = sign_in(cast.dept_head).get(url_for(blob))
    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == DOCX
    assert response["Content-Length"] == str(len(content))
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(NAME)}"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_file_can_be_addressed_by_its_sha256(shared_docx: Any, cast: Any, sign_in: Any) -> None:
    blob, content = shared_docx
    response = sign_in(cast.drafter).get(reverse("blobs:download", args=[blob.sha256, NAME]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content


def test_ascii_name_gets_a_plain_filename(shared_docx: Any, cast: Any, sign_in: Any) -> None:
    blob, _ = shared_docx
    response = sign_in(cast.drafter).get(url_for(blob, "report.docx"))
    assert response["Content-Disposition"] == 'attachment; filename="report.docx"'


def test_outsider_gets_404_for_file_no_referrer_grants(shared_docx: Any, cast: Any, sign_in: Any) -> None:
    blob, _ = shared_docx
    response = sign_in(cast.outsider).get(url_for(blob))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="blob.download").exists()


def test_missing_file_gives_the_same_404(shared_docx: Any, cast: Any, sign_in: Any) -> None:
    client = sign_in(cast.drafter)
    assert client.get(reverse("blobs:download", args=[999999, NAME])).status_code == 404
    assert client.get(reverse("blobs:download", args=["0" * 64, NAME])).status_code == 404
    assert client.get(reverse("blobs:download", args=["not-a-ref", NAME])).status_code == 404


def test_blob_without_any_referrer_is_unreachable_even_for_its_uploader(
    blob_store: Any, cast: Any, sign_in: Any
) -> None:
    blob = services.put(io.BytesIO(unique()), actor=cast.drafter)
    assert sign_in(cast.drafter).get(url_for(blob, "x.txt")).status_code == 404


def test_signed_out_visitor_is_sent_to_sign_in(shared_docx: Any, client: Any) -> None:
    blob, _ = shared_docx
    response = client.get(url_for(blob))
    assert response.status_code == 302
    assert reverse("accounts:sign_in") in response["Location"]


def test_download_is_audited_without_name_or_content(shared_docx: Any, cast: Any, sign_in: Any) -> None:
    blob, _ = shared_docx
    b"".join(sign_in(cast.dept_head).get(url_for(blob)).streaming_content)
    event = AuditEvent.objects.get(action="blob.download")
    assert event.actor == cast.dept_head
    assert (event.object_type, event.object_id) == ("blobs.blob", str(blob.pk))
    assert "防汛" not in str(event.details) and NAME not in str(event.details)


def test_download_only_answers_get(shared_docx: Any, cast: Any, sign_in: Any) -> None:
    blob, _ = shared_docx
    assert sign_in(cast.drafter).post(url_for(blob)).status_code == 405


@pytest.mark.s3
def test_download_while_store_is_down_explains_in_chinese(
    s3_settings: Any, cast: Any, referrer: Any, sign_in: Any
) -> None:
    blob = services.put(io.BytesIO(unique()), actor=cast.drafter)
    referrer.blob_ids.add(blob.pk)
    referrer.reader_ids.add(cast.drafter.pk)
    s3_settings.stop(graceful=False)
    try:
        response = sign_in(cast.drafter).get(url_for(blob, "说明.txt"))
    finally:
        s3_settings.start()
    assert response.status_code == 503
    assert "文件存储服务暂不可用，请稍后重试" in response.content.decode()


@pytest.mark.parametrize("ref", ["²", "١٢", "9" * 40])
def test_odd_numeric_ref_gives_the_same_404_not_a_server_error(
    shared_docx: Any, cast: Any, sign_in: Any, ref: str
) -> None:
    # "²" passes str.isdigit() but not int(); Arabic-Indic digits and a 40-digit number are not ids.
    response = sign_in(cast.drafter).get(reverse("blobs:download", args=[ref, NAME]))
    assert response.status_code == 404


def test_reader_whose_file_content_is_lost_is_told_so_in_chinese(
    shared_docx: Any, cast: Any, sign_in: Any
) -> None:
    blob, _ = shared_docx
    get_backend().delete(blob.key)
    response = sign_in(cast.dept_head).get(url_for(blob))
    assert response.status_code == 404
    assert "文件内容已丢失，请联系系统管理员。" in response.content.decode()
    assert not AuditEvent.objects.filter(action="blob.download").exists()


def test_outsider_is_not_told_that_a_lost_file_existed(shared_docx: Any, cast: Any, sign_in: Any) -> None:
    blob, _ = shared_docx
    get_backend().delete(blob.key)
    response = sign_in(cast.outsider).get(url_for(blob))
    assert response.status_code == 404
    assert "文件内容已丢失" not in response.content.decode()
