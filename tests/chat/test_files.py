"""Files and images in chat: checked before anything is stored, readable by members only, thumbnails
made by the worker, gone on recall."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import override_settings
from PIL import Image

from chat import history, services, tasks
from chat.errors import ChatError
from chat.models import Message, MessageKind
from officeapp.audit.models import AuditEvent
from officeapp.blobs.models import Blob
from officeapp.blobs.services import open_blob
from officeapp.registries import blob_referrers
from tests.chat.chat_cast import ChatCast
from tests.chat.services_support import Pushes, no_worker, pushes, working_group

__all__ = ["no_worker", "pushes"]

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def local_blobs(settings: Any, tmp_path: Path) -> None:
    settings.S3_ENDPOINT = ""
    settings.BLOB_DIR = tmp_path / "blobs"
    cache.clear()


def png_upload(name: str = "现场照片.png", size: tuple[int, int] = (1200, 800)) -> SimpleUploadedFile:
    out = BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def pdf_upload(name: str = "预算说明.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def referrer() -> Any:
    return blob_referrers["chat.files"]


def test_a_pdf_is_stored_and_sent_as_a_file_message(
    chat: ChatCast, pushes: Pushes, django_capture_on_commit_callbacks: Any
) -> None:
    group = working_group(chat)
    pushes.clear()
    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_file(group, actor=chat.finance_member, upload=pdf_upload(), caption="请审阅")

    assert message.kind == MessageKind.FILE
    assert (message.file_name, message.file_size, message.body) == ("预算说明.pdf", len(PDF_BYTES), "请审阅")
    assert b"".join(open_blob(message.blob)) == PDF_BYTES
    (frame,) = pushes.of_type("chat.message")
    assert frame["message"]["file"] == {
        "name": "预算说明.pdf",
        "size": len(PDF_BYTES),
        "url": f"/chat/m/{message.pk}/file/",
        "thumbnail_url": None,
    }


def test_a_zip_of_materials_is_sent_as_a_file_message(chat: ChatCast) -> None:
    import zipfile

    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("议程.txt", "一、审议预算调整方案")
    group = working_group(chat)

    message = services.send_file(
        group, actor=chat.owner, upload=SimpleUploadedFile("会议材料.zip", buffer.getvalue())
    )

    assert (message.kind, message.file_name) == (MessageKind.FILE, "会议材料.zip")


def test_a_retried_upload_stores_one_message(chat: ChatCast) -> None:
    group = working_group(chat)
    first = services.send_file(group, actor=chat.owner, upload=pdf_upload(), client_id="up-1")
    again = services.send_file(group, actor=chat.owner, upload=pdf_upload(), client_id="up-1")
    assert first.pk == again.pk
    assert Message.objects.filter(conversation=group, kind=MessageKind.FILE).count() == 1


@pytest.mark.parametrize(
    ("upload", "refusal"),
    [
        (
            SimpleUploadedFile("工具.exe", b"MZ\x90\x00" + b"\x00" * 200),
            "不支持的文件类型",
        ),
        (SimpleUploadedFile("空文件.pdf", b""), "文件为空，请选择有内容的文件。"),
        (SimpleUploadedFile("伪装.pdf", PDF_BYTES.replace(b"%PDF", b"GIF8")), "文件扩展名与实际内容不符"),
    ],
)
def test_a_file_of_a_refused_type_is_refused_before_anything_is_stored(
    chat: ChatCast, upload: SimpleUploadedFile, refusal: str
) -> None:
    group = working_group(chat)
    blobs_before = Blob.objects.count()
    with pytest.raises(ChatError) as refused:
        services.send_file(group, actor=chat.owner, upload=upload)
    assert refused.value.message.startswith(refusal)
    assert Blob.objects.count() == blobs_before
    assert not Message.objects.filter(conversation=group, kind=MessageKind.FILE).exists()


@override_settings(CHAT_FILE_MAX_BYTES=50)
def test_a_file_too_big_is_refused_before_anything_is_stored(chat: ChatCast) -> None:
    group = working_group(chat)
    with pytest.raises(ChatError) as refused:
        services.send_file(group, actor=chat.owner, upload=pdf_upload())
    assert refused.value.message.startswith("文件过大")
    assert not Blob.objects.exists()


def test_an_outsider_cannot_upload_into_a_conversation_and_nothing_is_stored(chat: ChatCast) -> None:
    group = working_group(chat)
    with pytest.raises(Http404):
        services.send_file(group, actor=chat.outsider, upload=pdf_upload())
    assert not Blob.objects.exists()


def test_an_image_gets_a_thumbnail_from_the_worker_and_members_are_told(
    chat: ChatCast,
    pushes: Pushes,
    no_worker: list[tuple[str, tuple[Any, ...]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    group = working_group(chat)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_file(group, actor=chat.owner, upload=png_upload())
    assert message.kind == MessageKind.IMAGE
    assert no_worker == [("chat.tasks.make_thumbnail", (message.pk,))]
    pushes.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.make_thumbnail(message.pk) == "made"
        assert tasks.make_thumbnail(message.pk) == "exists"

    message.refresh_from_db()
    with Image.open(BytesIO(b"".join(open_blob(message.thumbnail)))) as thumbnail:
        assert max(thumbnail.size) == 320
    (frame,) = pushes.of_type("chat.message.updated")
    assert frame["message"]["file"]["thumbnail_url"] == f"/chat/m/{message.pk}/thumbnail/"
    assert history.thumbnail_blob_for(message) == message.thumbnail


def test_a_removed_member_loses_access_to_the_files(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_file(group, actor=chat.owner, upload=pdf_upload())
    assert referrer().can_read(chat.finance_member, message.blob)
    assert not referrer().can_read(chat.outsider, message.blob)
    assert not referrer().can_read(chat.audit_admin, message.blob)

    services.remove_member(group, chat.finance_member, actor=chat.owner)

    assert not referrer().can_read(chat.finance_member, message.blob)
    assert referrer().can_read(chat.education_member, message.blob)


def test_a_member_who_joined_later_cannot_read_files_sent_before(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_file(group, actor=chat.owner, upload=pdf_upload())
    services.add_members(group, [chat.outsider], actor=chat.owner)
    assert not referrer().can_read(chat.outsider, message.blob)


def test_a_recalled_file_is_gone_for_everyone(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_file(group, actor=chat.owner, upload=pdf_upload())
    blob = message.blob

    recalled = services.recall(message, actor=chat.owner)

    assert history.file_blob_for(recalled) is None
    assert not referrer().can_read(chat.owner, blob)
    assert not referrer().can_read(chat.finance_member, blob)
    assert blob.pk not in set(referrer().referenced_blob_ids())


def test_the_files_of_chat_are_kept_by_the_retention_job(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_file(group, actor=chat.owner, upload=pdf_upload())
    assert message.blob_id in set(referrer().referenced_blob_ids())


def test_a_download_is_audited_without_the_file_name(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_file(group, actor=chat.owner, upload=pdf_upload())

    services.record_download(message, actor=chat.finance_member)

    event = AuditEvent.objects.get(action="chat.file.download")
    assert event.actor_id == chat.finance_member.pk
    assert event.object_id == str(message.pk)
    assert "预算说明" not in str(event.details)


def test_a_forwarded_image_is_readable_in_its_new_conversation(chat: ChatCast) -> None:
    group = working_group(chat)
    image = services.send_file(group, actor=chat.owner, upload=png_upload())
    direct = services.open_direct(chat.outsider, actor=chat.owner)

    copy = services.forward(image, direct, actor=chat.owner)

    assert copy.kind == MessageKind.IMAGE and copy.blob_id == image.blob_id
    assert referrer().can_read(chat.outsider, copy.blob)


def test_a_recalled_file_is_removed_from_the_store_by_the_retention_job(chat: ChatCast) -> None:
    from officeapp.blobs.services import remove_unreferenced

    group = working_group(chat)
    message = services.send_file(group, actor=chat.owner, upload=pdf_upload())
    blob_id = message.blob_id
    remove_unreferenced(grace_hours=0)
    assert Blob.objects.filter(pk=blob_id).exists()  # held by the message

    services.recall(message, actor=chat.owner)
    remove_unreferenced(grace_hours=0)

    assert not Blob.objects.filter(pk=blob_id).exists()


def test_a_purged_file_message_no_longer_serves_its_file(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_file(group, actor=chat.owner, upload=pdf_upload())
    blob = message.blob

    services.purge_message(message)

    assert history.file_blob_for(message) is None
    assert not referrer().can_read(chat.owner, blob)


@override_settings(CHAT_SEND_RATE=(1, 60))
def test_uploading_too_fast_is_refused_before_the_file_is_stored(chat: ChatCast) -> None:
    group = working_group(chat)
    services.send_file(group, actor=chat.owner, upload=pdf_upload())
    blobs = Blob.objects.count()

    with pytest.raises(ChatError) as refused:
        services.send_file(group, actor=chat.owner, upload=png_upload())
    assert refused.value.message == "发送过于频繁，请稍后再试。"
    assert Blob.objects.count() == blobs
