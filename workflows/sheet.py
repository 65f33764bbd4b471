"""The 发文处理单: every step, person, time and opinion of a document, in order — for the printable
page, the .docx (documents/processing_sheet.py) and the archive package."""

from __future__ import annotations

from documents.models import OfficialDocument
from documents.processing_sheet import SheetRow, render_processing_sheet
from workflows.models import Opinion


def sheet_rows(document: OfficialDocument) -> list[SheetRow]:
    rows: list[SheetRow] = []
    opinions = Opinion.objects.filter(document=document).select_related("author", "on_behalf_of")
    for o in opinions.order_by("created_at", "pk"):
        person = o.author.real_name
        if o.on_behalf_of_id:
            person = f"{person}（代{o.on_behalf_of.real_name}）"
        step = o.step_label + (f"（{o.party_label}）" if o.party_label else "")
        rows.append(SheetRow(step=step, person=person, at=o.created_at, opinion=o.text))
    return rows


def sheet_docx(document: OfficialDocument) -> bytes:
    return render_processing_sheet(document.title, document.doc_number, sheet_rows(document))


def archive_part(document: OfficialDocument) -> tuple[str, bytes] | None:
    """The 发文处理单 in a 发文's archive package (a 收文 gets its 收文处理单 from incoming_sheet.py)."""
    if document.is_incoming or not Opinion.objects.filter(document=document).exists():
        return None
    return "发文处理单.docx", sheet_docx(document)
