"""The 发文处理单: every step, person, time and opinion of a document, in order."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from documents.models import OfficialDocument
from workflows.models import Opinion


def sheet_rows(document: OfficialDocument) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for o in (
        Opinion.objects.filter(document=document)
        .select_related("author", "on_behalf_of")
        .order_by("created_at", "pk")
    ):
        person = o.author.real_name
        if o.on_behalf_of_id:
            person = f"{person}（代{o.on_behalf_of.real_name}）"
        step = o.step_label + (f"·{o.party_label}" if o.party_label else "")
        rows.append(
            {
                "step": step,
                "person": person,
                "time": timezone.localtime(o.created_at).strftime("%Y-%m-%d %H:%M"),
                "opinion": o.text,
                "decision": o.get_decision_display(),
                "signature_id": o.signature_id,
            }
        )
    return rows
