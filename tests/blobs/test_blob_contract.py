"""One contract, two backends: every test here runs against the local folder and real SeaweedFS."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from officeapp.audit.models import AuditEvent
from officeapp.blobs import services
from officeapp.blobs.backends import CHUNK_SIZE, BlobMissing, BlobStoreUnavailable
from officeapp.blobs.models import Blob
from tests.blobs.conftest import PNG_BYTES, docx_bytes, unique, upload

pytestmark = pytest.mark.django_db


class ChunkCountingStream(io.RawIOBase):
    """A stream that remembers the largest read it was asked for."""

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.largest_read = max(self.largest_read, size if size >= 0 else 1 << 62)
        return self._buffer.read(size)


def read_all(blob: Blob) -> bytes:
    return b"".join(services.open_blob(blob))


def test_put_returns_blob_with_hash_size_detected_type_and_server_key(blob_store: Any, cast: Any) -> None:
    content = unique("关于召开全省政务工作会议的通知")
    blob = services.put(upload("../../通知.txt", content), actor=cast.drafter)
    sha = hashlib.sha256(content).hexdigest()
    assert blob.sha256 == sha
    assert blob.size == len(content)
    assert blob.content_type == "text/plain"
    assert blob.key == f"sha256/{sha[:2]}/{sha[2:4]}/{sha}"
    assert read_all(blob) == content


def test_type_comes_from_the_bytes_not_the_name(blob_store: Any, cast: Any) -> None:
    blob = services.put(upload("照片.txt", PNG_BYTES + unique()), actor=cast.drafter)
    assert blob.content_type == "image/png"
    docx = services.put(io.BytesIO(docx_bytes()), actor=cast.drafter)
    assert docx.content_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_identical_content_is_stored_once(
    blob_store: Any, cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = unique("同一份附件")
    uploads: list[str] = []
    real_store = blob_store.store

    def counting_store(key: str, path: Path, **kwargs: Any) -> bool:
        uploads.append(key)
        return real_store(key, path, **kwargs)

    monkeypatch.setattr(blob_store, "store", counting_store)
    first = services.put(io.BytesIO(content), actor=cast.drafter)
    second = services.put(upload("另一个名字.txt", content), actor=cast.clerk)
    assert second.pk == first.pk
    assert Blob.objects.count() == 1
    assert uploads == [first.key]
    events = AuditEvent.objects.filter(action="blob.put", object_id=str(first.pk)).order_by("id")
    assert [e.details["deduplicated"] for e in events] == [False, True]


def test_existing_object_is_never_overwritten(blob_store: Any, cast: Any, tmp_path: Path) -> None:
    original = unique("原件")
    blob = services.put(io.BytesIO(original), actor=cast.drafter)
    impostor = tmp_path / "impostor"
    impostor.write_bytes(b"something else entirely")
    written = blob_store.store(blob.key, impostor, size=impostor.stat().st_size, content_type="text/plain")
    assert written is False
    assert read_all(blob) == original


def test_reads_stream_in_bounded_chunks(blob_store: Any, cast: Any) -> None:
    content = unique() + os.urandom(CHUNK_SIZE * 2 + 12345)
    blob = services.put(io.BytesIO(content), actor=cast.drafter)
    chunks = list(services.open_blob(blob))
    assert len(chunks) >= 3
    assert all(len(c) <= CHUNK_SIZE for c in chunks)
    assert b"".join(chunks) == content


def test_put_reads_the_source_piece_by_piece(blob_store: Any, cast: Any) -> None:
    content = unique() + os.urandom(CHUNK_SIZE * 3)
    stream = ChunkCountingStream(content)
    blob = services.put(stream, actor=cast.drafter)
    assert 0 < stream.largest_read <= CHUNK_SIZE
    assert blob.size == len(content)


def test_put_leaves_no_staging_files_behind(blob_store: Any, cast: Any) -> None:
    staging = blob_store.staging_dir() or Path(tempfile.gettempdir())
    before = {p.name for p in staging.glob("put-*")}
    services.put(io.BytesIO(unique()), actor=cast.drafter)
    assert {p.name for p in staging.glob("put-*")} == before


def test_retention_removes_only_old_unreferenced_blobs(blob_store: Any, cast: Any, referrer: Any) -> None:
    orphan = services.put(io.BytesIO(unique("无人引用")), actor=cast.drafter)
    held = services.put(io.BytesIO(unique("正文附件")), actor=cast.drafter)
    fresh = services.put(io.BytesIO(unique("表单尚未提交")), actor=cast.drafter)
    referrer.blob_ids.add(held.pk)
    long_ago = timezone.now() - timedelta(hours=25)
    Blob.objects.filter(pk__in=[orphan.pk, held.pk]).update(touched_at=long_ago)

    assert services.remove_unreferenced(grace_hours=24) == 1

    assert set(Blob.objects.values_list("pk", flat=True)) == {held.pk, fresh.pk}
    with pytest.raises(BlobMissing):
        services.open_blob(orphan)
    assert read_all(held) and read_all(fresh)
    assert AuditEvent.objects.filter(action="blob.remove", object_id=str(orphan.pk)).exists()


def test_putting_again_protects_an_old_orphan_from_retention(blob_store: Any, cast: Any) -> None:
    content = unique("再次上传")
    blob = services.put(io.BytesIO(content), actor=cast.drafter)
    Blob.objects.filter(pk=blob.pk).update(touched_at=timezone.now() - timedelta(days=3))
    again = services.put(io.BytesIO(content), actor=cast.drafter)  # a form about to reference it
    assert services.remove_unreferenced(grace_hours=24) == 0
    assert read_all(again) == content


def test_content_removed_by_retention_can_be_put_again(blob_store: Any, cast: Any) -> None:
    content = unique("删除后重新上传")
    blob = services.put(io.BytesIO(content), actor=cast.drafter)
    Blob.objects.filter(pk=blob.pk).update(touched_at=timezone.now() - timedelta(days=3))
    assert services.remove_unreferenced(grace_hours=24) == 1
    again = services.put(io.BytesIO(content), actor=cast.drafter)
    assert again.pk != blob.pk
    assert read_all(again) == content


def test_invalid_key_never_reaches_the_store(blob_store: Any) -> None:
    with pytest.raises(ValueError):
        blob_store.exists("../../etc/passwd")


def test_local_store_that_cannot_write_is_unavailable(broken_local_store: Any, cast: Any) -> None:
    with pytest.raises(BlobStoreUnavailable) as refusal:
        services.put(io.BytesIO(unique()), actor=cast.drafter)
    assert refusal.value.message == "文件存储服务暂不可用，请稍后重试；您填写的内容已保留。"
    assert Blob.objects.count() == 0


@pytest.mark.s3
def test_stopped_s3_store_is_unavailable_and_stores_nothing(seaweedfs_outage: Any, cast: Any) -> None:
    with pytest.raises(BlobStoreUnavailable) as refusal:
        services.put(io.BytesIO(unique()), actor=cast.drafter)
    assert refusal.value.message == "文件存储服务暂不可用，请稍后重试；您填写的内容已保留。"
    assert Blob.objects.count() == 0


@pytest.mark.s3
def test_missing_bucket_is_created(s3_settings: Any, settings: Any, cast: Any) -> None:
    settings.S3_BUCKET = f"officeapp-new-{os.urandom(4).hex()}"
    blob = services.put(io.BytesIO(unique()), actor=cast.drafter)
    assert s3_settings.client().bucket_exists(settings.S3_BUCKET)
    assert read_all(blob)


def test_retention_runs_hourly_from_the_worker_schedules() -> None:
    from django.utils.module_loading import import_string

    from officeapp.registries import worker_schedules
    from officeapp.worker.schedules import Schedule

    schedule = worker_schedules["blobs.remove_unreferenced"]
    assert isinstance(schedule, Schedule)
    assert schedule.seconds == 3600
    assert import_string(schedule.func) is services.remove_unreferenced


def test_uploading_the_same_bytes_again_restores_content_the_store_lost(blob_store: Any, cast: Any) -> None:
    # given: a blob whose object is gone from the store (a database restored without its files)
    content = unique("丢失后重新上传")
    blob = services.put(io.BytesIO(content), actor=cast.drafter)
    blob_store.delete(blob.key)
    with pytest.raises(BlobMissing):
        services.open_blob(blob)
    # when: someone uploads the same file again
    again = services.put(io.BytesIO(content), actor=cast.drafter)
    # then: it is the same blob, and its content can be read again
    assert again.pk == blob.pk
    assert read_all(blob) == content
