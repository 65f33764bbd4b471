"""Handwritten signatures under opinions: a blob referrer, so they download through the checked view."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from documents.access import visible_documents
from workflows.models import Opinion


class SignatureReferrer:
    name = "workflows.signature"

    def can_read(self, user: Any, blob: Any) -> bool:
        documents = Opinion.objects.filter(signature=blob).values("document_id")
        return visible_documents(user).filter(pk__in=documents).exists()

    def referenced_blob_ids(self) -> QuerySet[Any]:
        return Opinion.objects.filter(signature__isnull=False).values_list("signature_id", flat=True)
