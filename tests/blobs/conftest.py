"""Blob-store fixtures: both backends, a referrer the tests control, and sample files by kind."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from officeapp.blobs.backends import BlobBackend, get_backend
from officeapp.registries import blob_referrers

# A 1×1 transparent PNG.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 512


def unique(text: str = "") -> bytes:
    """Content no other test stored: the S3 bucket lives for the whole session."""
    return f"{text}\n{uuid.uuid4()}\n".encode()


def docx_bytes(body: str = "正文", *, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr(
            "word/document.xml", f"<w:document><w:body>{body}{uuid.uuid4()}</w:body></w:document>"
        )
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["部门", "编码", str(uuid.uuid4())])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def blob_store(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> BlobBackend:
    """The configured backend, once as a local folder and once as the suite's SeaweedFS."""
    if request.param == "local":
        settings.S3_ENDPOINT = ""
        settings.BLOB_DIR = tmp_path / "blobs"
    else:
        request.getfixturevalue("s3_settings")
    backend = get_backend()
    assert backend.name == request.param
    return backend


@pytest.fixture
def local_store(settings: Any, tmp_path: Path) -> BlobBackend:
    settings.S3_ENDPOINT = ""
    settings.BLOB_DIR = tmp_path / "blobs"
    return get_backend()


@pytest.fixture
def broken_local_store(settings: Any, tmp_path: Path) -> BlobBackend:
    """A local store whose folder cannot exist (its parent is a regular file): the disk is 'down'."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.S3_ENDPOINT = ""
    settings.BLOB_DIR = blocker / "blobs"
    return get_backend()


@dataclass
class ListReferrer:
    """A referrer holding an explicit list of blobs, readable by an explicit list of users."""

    name: str = "tests.list"
    blob_ids: set[int] = field(default_factory=set)
    reader_ids: set[int] = field(default_factory=set)

    def can_read(self, user: Any, blob: Any) -> bool:
        return blob.pk in self.blob_ids and user.pk in self.reader_ids

    def referenced_blob_ids(self) -> set[int]:
        return set(self.blob_ids)


@pytest.fixture
def referrer() -> Iterator[ListReferrer]:
    item = ListReferrer()
    blob_referrers.register(item.name, item)
    try:
        yield item
    finally:
        blob_referrers.unregister(item.name)
