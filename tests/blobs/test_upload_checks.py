"""Uploads are refused before storage, with the reason in Chinese; what passes gets a safe name."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from officeapp.blobs.checks import UploadRefused, check_upload, sanitise_name
from officeapp.blobs.models import Blob
from tests.blobs.conftest import EXE_BYTES, PNG_BYTES, docx_bytes, unique, upload, xlsx_bytes

DOCUMENT_TYPES = (
    "不支持的文件类型，此处只接受：Word 文档、OFD 版式文件、PDF、PowerPoint 演示文稿、纯文本、Excel 表格。"
)


def refusal(uploaded: Any, **kwargs: Any) -> str:
    kwargs.setdefault("allowed_kinds", ["document"])
    with pytest.raises(UploadRefused) as refused:
        check_upload(uploaded, **kwargs)
    return refused.value.message


def zip_bomb_docx(megabytes: int = 20) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        with archive.open("word/media/padding.bin", "w") as entry:
            for _ in range(megabytes):
                entry.write(b"\0" * (1024 * 1024))
    return buffer.getvalue()


def many_entries_docx(count: int = 5001) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        for i in range(count):
            archive.writestr(f"word/p{i}.xml", "")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "kinds", "content_type"),
    [
        (
            "关于做好2026年防汛工作的通知.docx",
            docx_bytes(),
            ["document"],
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "人员名单.xlsx",
            xlsx_bytes(),
            ["spreadsheet"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "请示.pdf",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
            ["document"],
            "application/pdf",
        ),
        ("说明.txt", "会议于上午九时开始。".encode("gb18030"), ["document"], "text/plain"),
        ("合影.PNG", PNG_BYTES, ["image"], "image/png"),
    ],
)
def test_files_of_allowed_kinds_pass_with_detected_type(
    name: str, content: bytes, kinds: list[str], content_type: str
) -> None:
    checked = check_upload(upload(name, content), allowed_kinds=kinds)
    assert checked.name == name
    assert checked.size == len(content)
    assert checked.content_type == content_type
    assert checked.file.read() == content  # rewound, ready for put()


def test_empty_file_is_refused() -> None:
    assert refusal(upload("空白.txt", b"")) == "文件为空，请选择有内容的文件。"


def test_too_big_file_is_refused_naming_the_limit_in_megabytes(settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 2 * 1024 * 1024
    assert refusal(upload("大文件.txt", b"a" * (2 * 1024 * 1024 + 1))) == "文件过大：单个文件不能超过 2 MB。"
    half = refusal(upload("大.txt", b"a" * (600 * 1024)), max_bytes=512 * 1024)
    assert half == "文件过大：单个文件不能超过 0.5 MB。"


def test_default_limit_is_the_configured_upload_maximum(settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 50 * 1024 * 1024
    big = upload("大文件.pdf", b"%PDF-1.7\n")
    big.size = 50 * 1024 * 1024 + 1  # the size Django measured while receiving
    assert refusal(big) == "文件过大：单个文件不能超过 50 MB。"


def test_exe_renamed_to_docx_is_refused() -> None:
    assert refusal(upload("通知.docx", EXE_BYTES)) == DOCUMENT_TYPES


def test_image_is_refused_where_only_documents_are_allowed() -> None:
    assert refusal(upload("通知.png", PNG_BYTES)) == DOCUMENT_TYPES


def test_extension_must_agree_with_content() -> None:
    message = refusal(upload("通知.docx", PNG_BYTES), allowed_kinds=["document", "image"])
    assert message == "文件扩展名与实际内容不符（内容为PNG 图片），请检查后重新上传。"
    message = refusal(upload("表格.xlsx", docx_bytes()), allowed_kinds=["document"])
    assert message == "文件扩展名与实际内容不符（内容为Word 文档），请检查后重新上传。"


def test_zip_bomb_docx_is_refused_without_extracting() -> None:
    bomb = zip_bomb_docx()
    assert len(bomb) < 200 * 1024  # 20 MB of zeros squeezed into a few KB
    assert (
        refusal(upload("通知.docx", bomb))
        == "文件结构异常（压缩条目过多、解压后过大或压缩比异常），已拒绝上传。"
    )


def plain_zip(payload: bytes = b"agenda and materials") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("材料/说明.txt", payload)
    return buffer.getvalue()


def test_a_plain_zip_passes_where_archives_are_allowed_and_nowhere_else() -> None:
    checked = check_upload(upload("会议材料.zip", plain_zip()), allowed_kinds=["archive"])
    assert checked.type.key == "zip" and checked.name == "会议材料.zip"
    assert refusal(upload("会议材料.zip", plain_zip())) == DOCUMENT_TYPES


def test_a_zip_bomb_is_refused_as_an_archive_too() -> None:
    bomb = plain_zip(b"\0" * (20 * 1024 * 1024))
    message = refusal(upload("材料.zip", bomb), allowed_kinds=["archive"])
    assert message == "文件结构异常（压缩条目过多、解压后过大或压缩比异常），已拒绝上传。"


def test_docx_with_too_many_entries_is_refused() -> None:
    message = refusal(upload("通知.docx", many_entries_docx()))
    assert message == "文件结构异常（压缩条目过多、解压后过大或压缩比异常），已拒绝上传。"


def test_truncated_docx_is_not_recognised_as_a_document() -> None:
    broken = docx_bytes()[:-30]
    assert refusal(upload("通知.docx", broken)) == DOCUMENT_TYPES


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\Windows\\System32\\关于做好防汛工作的通知.txt", "关于做好防汛工作的通知.txt"),
        ("C:\\Users\\林小梅\\桌面\\请示.txt", "请示.txt"),
        ("a\x00b\x1f\u202ec.txt", "abc.txt"),
        ('报告<第1版>:"终稿"?.txt', "报告_第1版___终稿__.txt"),
        ("CON.txt", "_CON.txt"),
        ("  ..通知.txt.. ", "通知.txt"),
    ],
)
def test_names_are_sanitised_keeping_chinese(raw: str, clean: str) -> None:
    assert sanitise_name(raw) == clean
    checked = check_upload(upload("x.txt", unique()), allowed_kinds=["document"], name=raw)
    assert checked.name == clean


def test_long_names_are_bounded_and_keep_their_extension() -> None:
    name = sanitise_name("关于" + "进一步加强" * 60 + "的通知.docx")
    assert len(name) <= 120
    assert name.startswith("关于进一步加强") and name.endswith(".docx")


@pytest.mark.parametrize("raw", ["../..", "..", "/", "\\\\server\\share\\", "\x00\x01", "???"])
def test_name_that_is_nothing_once_sanitised_is_refused(raw: str) -> None:
    assert refusal(upload("x.txt", unique()), name=raw) == "文件名无效，请重命名后再上传。"


@pytest.mark.django_db
def test_refused_uploads_store_nothing(local_store: Any) -> None:
    for uploaded in [
        upload("空白.txt", b""),
        upload("通知.docx", EXE_BYTES),
        upload("通知.docx", zip_bomb_docx()),
    ]:
        with pytest.raises(UploadRefused):
            check_upload(uploaded, allowed_kinds=["document"])
    assert Blob.objects.count() == 0
    assert not local_store.root.exists() or not any(p.is_file() for p in local_store.root.rglob("*"))
