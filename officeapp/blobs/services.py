"""Blob services: put (store once per content), open_blob (stream), download, and the retention job.

Bytes go to the store before any transaction that references them (content-addressed, so a put
whose form then fails leaves only an orphan the retention job removes after the grace period).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone

from officeapp.audit.services import record
from officeapp.blobs.backends import CHUNK_SIZE, BlobStoreUnavailable, get_backend, remove_staged
from officeapp.blobs.checks import CheckedUpload, detect_type
from officeapp.blobs.models import Blob
from officeapp.blobs.referrers import all_referrers

__all__ = ["BlobStoreUnavailable", "put", "open_blob", "download", "remove_unreferenced"]

RETENTION_BATCH = 500


def _chunks_of(source: Any) -> Iterator[bytes]:
    # Django's UploadedFile streams through chunks() (from its temp file or memory); any other
    # binary stream is read in fixed pieces. Never the whole file at once.
    if hasattr(source, "chunks"):
        source.seek(0)
        yield from source.chunks(CHUNK_SIZE)
        return
    while chunk := source.read(CHUNK_SIZE):
        yield chunk


def _stage(source: Any, staging_dir: Path | None) -> tuple[Path, str, int]:
    """Copy the stream to a temporary file while hashing it. Returns (path, sha256, size)."""
    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(dir=staging_dir, prefix="put-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in _chunks_of(source):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        remove_staged(Path(name))
        raise
    return Path(name), digest.hexdigest(), size


def put(source: Any, *, actor: Any) -> Blob:
    """Store the bytes of `source` (an UploadedFile, a CheckedUpload or any binary stream) once.

    Identical content returns the existing Blob without a second upload; an existing object is
    never overwritten. Raises BlobStoreUnavailable when the store cannot be reached. The type comes
    from the bytes; no file name is stored or audited (a name can reveal what a document is about).
    """
    if isinstance(source, CheckedUpload):
        source = source.file
    backend = get_backend()
    path, sha256, size = _stage(source, backend.staging_dir())
    try:
        with open(path, "rb") as staged:
            content_type = detect_type(staged).mime

        # The row lock serialises us with the retention job: it deletes object and row under the
        # same lock, so a deduplicated blob cannot vanish between this check and our caller's commit.
        with transaction.atomic():
            existing = Blob.objects.select_for_update().filter(sha256=sha256).first()
            if existing is not None:
                existing.touched_at = timezone.now()
                existing.save(update_fields=["touched_at"])
                record(
                    "blob.put",
                    actor=actor,
                    obj=existing,
                    details={"size": size, "content_type": existing.content_type, "deduplicated": True},
                )
        if existing is not None:
            # A row whose object the store lost (a restored database) is repaired by uploading the same
            # bytes again. The touch above keeps the retention job away meanwhile.
            if not backend.exists(existing.key):
                backend.store(existing.key, path, size=size, content_type=existing.content_type)
            return existing

        key = Blob.key_for(sha256)
        backend.store(key, path, size=size, content_type=content_type)

        with transaction.atomic():
            blob, created = Blob.objects.get_or_create(
                sha256=sha256, defaults={"size": size, "content_type": content_type, "key": key}
            )
            if not created:
                blob.touched_at = timezone.now()
                blob.save(update_fields=["touched_at"])
            record(
                "blob.put",
                actor=actor,
                obj=blob,
                details={"size": size, "content_type": blob.content_type, "deduplicated": not created},
            )
            return blob
    finally:
        remove_staged(path)


def open_blob(blob: Blob) -> Iterator[bytes]:
    """Stream the blob's bytes in chunks. Opening happens now, so BlobStoreUnavailable or
    BlobMissing is raised before the caller starts a response."""
    return get_backend().open(blob.key)


def download(blob: Blob, *, actor: Any) -> Iterator[bytes]:
    """Open the blob for a user who passed blobs.access, and audit the download (never the content
    or the file name: a name can reveal what a document is about)."""
    chunks = open_blob(blob)
    with transaction.atomic():
        record(
            "blob.download",
            actor=actor,
            obj=blob,
            details={"size": blob.size, "content_type": blob.content_type},
        )
    return chunks


def _unreferenced(candidates: QuerySet[Blob]) -> QuerySet[Blob]:
    for referrer in all_referrers():
        ids = referrer.referenced_blob_ids()
        # A queryset stays a subquery: the database, not Python, compares a province's worth of ids.
        candidates = candidates.exclude(pk__in=ids if isinstance(ids, QuerySet) else list(ids))
    return candidates


def remove_unreferenced(grace_hours: int | None = None) -> int:
    """Delete blobs no referrer references and nobody has put for `grace_hours`. Returns how many.

    Each blob is re-checked under its row lock, and its object deleted while the lock is held (the
    one place we call the store inside a transaction, on purpose): a concurrent put() of the same
    content waits for us and then uploads afresh instead of trusting a row we are removing.
    """
    hours = settings.BLOB_RETENTION_GRACE_HOURS if grace_hours is None else grace_hours
    cutoff = timezone.now() - timedelta(hours=hours)
    backend = get_backend()
    removed = 0
    last_pk = 0
    while True:
        batch = list(
            _unreferenced(Blob.objects.filter(touched_at__lt=cutoff, pk__gt=last_pk))
            .order_by("pk")
            .values_list("pk", flat=True)[:RETENTION_BATCH]
        )
        if not batch:
            return removed
        last_pk = batch[-1]
        for pk in batch:
            try:
                with transaction.atomic():
                    blob = Blob.objects.select_for_update().filter(pk=pk, touched_at__lt=cutoff).first()
                    if blob is None or not _unreferenced(Blob.objects.filter(pk=pk)).exists():
                        continue
                    record(
                        "blob.remove",
                        actor=None,
                        obj=blob,
                        actor_label="保留期清理",
                        details={"size": blob.size, "content_type": blob.content_type},
                    )
                    blob.delete()
                    backend.delete(blob.key)
            except ProtectedError:
                # Some model points at it with PROTECT without registering a referrer: keep it.
                continue
            removed += 1
