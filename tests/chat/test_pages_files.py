"""Files and images from the conversation page: the upload answers the message (or the Chinese reason
and nothing sent), and a member downloads through the access-checked view (audited); a stranger, a
removed member and anyone after a recall get 404."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from chat import services, tasks
from chat.models import Message, MessageKind
from officeapp.audit.models import AuditEvent
from tests.chat.chat_cast import ChatCast
from tests.chat.services_support import working_group

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def local_blobs(settings: Any, tmp_path: Path) -> None:
    settings.S3_ENDPOINT = ""
    settings.BLOB_DIR = tmp_path / "blobs"
    cache.clear()


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


def upload(client: Client, conversation_id: int, file: SimpleUploadedFile, client_id: str = "f-1") -> Any:
    return client.post(
        reverse("chat:upload", args=[conversation_id]),
        {"file": file, "client_id": client_id},
        HTTP_ACCEPT="application/json",
    )


def pdf(name: str = "预算说明.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def png() -> SimpleUploadedFile:
    out = BytesIO()
    Image.new("RGB", (800, 600), (200, 30, 30)).save(out, "PNG")
    return SimpleUploadedFile("现场照片.png", out.getvalue(), content_type="image/png")


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_a_member_sends_a_file_and_another_downloads_it_audited(chat: ChatCast) -> None:
    group = working_group(chat)

    sent = upload(signed_in(chat.finance_member), group.pk, pdf())
    frame = sent.json()["message"]
    response = signed_in(chat.education_member).get(frame["file"]["url"])

    assert frame["kind"] == "file" and frame["file"]["name"] == "预算说明.pdf"
    assert frame["file"]["url"] == reverse("chat:file", args=[frame["id"]])
    assert response.status_code == 200 and body_of(response) == PDF_BYTES
    assert "attachment" in response["Content-Disposition"]
    event = AuditEvent.objects.get(action="chat.file.download")
    assert event.actor == chat.education_member and "预算" not in str(event.details)


def test_a_retried_upload_with_the_same_client_id_is_one_message(chat: ChatCast) -> None:
    group = working_group(chat)
    client = signed_in(chat.finance_member)

    first = upload(client, group.pk, pdf(), client_id="same").json()["message"]
    again = upload(client, group.pk, pdf(), client_id="same").json()["message"]

    assert first["id"] == again["id"]
    assert Message.objects.filter(conversation=group, kind=MessageKind.FILE).count() == 1


def test_an_image_gets_a_thumbnail_members_can_see(chat: ChatCast) -> None:
    group = working_group(chat)
    frame = upload(signed_in(chat.owner), group.pk, png()).json()["message"]
    tasks.make_thumbnail(frame["id"])

    response = signed_in(chat.admin).get(reverse("chat:thumbnail", args=[frame["id"]]))

    assert frame["kind"] == "image"
    assert response.status_code == 200 and body_of(response)[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"RIFF")
    assert signed_in(chat.outsider).get(reverse("chat:thumbnail", args=[frame["id"]])).status_code == 404


@pytest.mark.parametrize(
    ("file", "refusal"),
    [
        (SimpleUploadedFile("工具.exe", b"MZ\x90\x00" + b"\x00" * 200), "不支持"),
        (SimpleUploadedFile("伪装.pdf", PDF_BYTES.replace(b"%PDF", b"GIF8")), "文件扩展名与实际内容不符"),
    ],
)
def test_a_refused_file_shows_the_chinese_reason_and_nothing_is_sent(
    chat: ChatCast, file: SimpleUploadedFile, refusal: str
) -> None:
    group = working_group(chat)
    before = group.messages.count()

    response = upload(signed_in(chat.owner), group.pk, file)

    assert response.status_code == 400
    assert refusal in response.json()["error"]
    assert group.messages.count() == before


def test_an_upload_without_a_file_is_refused(chat: ChatCast) -> None:
    group = working_group(chat)
    response = signed_in(chat.owner).post(reverse("chat:upload", args=[group.pk]), {"client_id": "x"})
    assert response.status_code == 400 and response.json()["error"] == "请选择要发送的文件。"


def test_an_outsider_a_removed_member_and_everyone_after_a_recall_get_404(chat: ChatCast) -> None:
    group = working_group(chat)
    frame = upload(signed_in(chat.finance_member), group.pk, pdf()).json()["message"]
    url = frame["file"]["url"]

    assert signed_in(chat.outsider).get(url).status_code == 404
    assert upload(signed_in(chat.outsider), group.pk, pdf(), client_id="o").status_code == 404
    services.remove_member(group, chat.education_member, actor=chat.owner)
    assert signed_in(chat.education_member).get(url).status_code == 404
    services.recall(Message.objects.get(pk=frame["id"]), actor=chat.finance_member)
    assert signed_in(chat.admin).get(url).status_code == 404
    assert signed_in(chat.finance_member).get(url).status_code == 404
    assert not AuditEvent.objects.filter(action="chat.file.download").exists()
