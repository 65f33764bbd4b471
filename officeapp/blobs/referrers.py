"""The protocol by which apps that hold files answer for them.

An app that keeps blobs (documents' attachments, chat files, meeting materials) registers one
referrer in officeapp.registries.blob_referrers from its AppConfig.ready():

    blob_referrers.register("documents.attachment", AttachmentReferrer())

Downloads ask every referrer `can_read(user, blob)` and serve the file when one says yes (else the
same 404 as a missing file); the retention job keeps every blob that any referrer still lists in
`referenced_blob_ids()` — return a values_list("blob_id") queryset so the database does the work.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from officeapp.registries import blob_referrers

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from officeapp.blobs.models import Blob


@runtime_checkable
class BlobReferrer(Protocol):
    name: str

    def can_read(self, user: Any, blob: Blob) -> bool:
        """True when `user` may read `blob` through this referrer (an object it can see holds it)."""
        ...

    def referenced_blob_ids(self) -> QuerySet[Any] | Iterable[int]:
        """Ids of every blob this referrer still holds."""
        ...


def register_referrer(referrer: BlobReferrer) -> BlobReferrer:
    return blob_referrers.register(referrer.name, referrer)


def all_referrers() -> list[BlobReferrer]:
    return blob_referrers.values()
