"""Permission-matrix entries for versions, 痕迹, attachment and rendering files, and the 文号
register (documents/views/versions.py).

The shared document (matrix_setup) is the drafter's draft: the drafter and the 省府办公厅's 文秘
and 办公室主任 see it and its files; everyone else gets the same 404 as for a missing one. The
文号 register belongs to the 省府办公厅's office: anyone else who reaches it gets 403.
"""

from __future__ import annotations

import io
from typing import Any

SEES_DOCUMENT = {"drafter": 200, "office_secretary": 200, "office_director": 200}
OFFICE = {"office_secretary": 200, "office_director": 200}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "documents:versions": ("get", {"anonymous": 302, "*": 404, **SEES_DOCUMENT}),
    "documents:version": ("get", {"anonymous": 302, "*": 404, **SEES_DOCUMENT}),
    "documents:version_diff": ("get", {"anonymous": 302, "*": 404, **SEES_DOCUMENT}),
    "documents:attachment_preview": ("get", {"anonymous": 302, "*": 404, **SEES_DOCUMENT}),
    "documents:attachment_download": ("get", {"anonymous": 302, "*": 404, **SEES_DOCUMENT}),
    "documents:rendering_preview": ("get", {"anonymous": 302, "*": 404, **SEES_DOCUMENT}),
    "documents:rendering_download": ("get", {"anonymous": 302, "*": 404, **SEES_DOCUMENT}),
    "documents:number_register": ("get", {"anonymous": 302, "*": 403, **OFFICE}),
    # An empty form from the office: re-rendered with "请选择机关代字。" (400).
    "documents:number_reserve": (
        "post",
        {"anonymous": 302, "*": 403, "office_secretary": 400, "office_director": 400},
    ),
    "documents:number_void": ("get", {"anonymous": 302, "*": 403, **OFFICE}),
}


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    drawing = canvas.Canvas(out)
    drawing.drawString(72, 720, "matrix")
    drawing.showPage()
    drawing.save()
    return out.getvalue()


def objects(cast: Any, existing: dict[str, Any]) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from documents.attachments import add_attachment
    from documents.models import OfficialDocument, Rendering, RenderKind, RenderStatus
    from documents.numbering import reserve_number
    from officeapp.blobs.services import put

    document = OfficialDocument.objects.get(pk=existing["document_id"])
    data = _pdf()
    attachment = add_attachment(
        document, actor=cast.drafter, upload=SimpleUploadedFile("名单.pdf", data), title="防汛责任人名单"
    )
    rendering = Rendering.objects.create(
        document=document,
        version=document.current_version,
        kind=RenderKind.PDF,
        status=RenderStatus.READY,
        blob=put(io.BytesIO(data), actor=cast.office_secretary),
        requested_by=cast.office_secretary,
    )
    number = reserve_number(
        cast.gov_office, actor=cast.office_secretary, prefix="粤府办", year=2026, reason="矩阵测试预留"
    )
    return {
        "version_number": document.current_version.number,
        "attachment_id": attachment.pk,
        "rendering_id": rendering.pk,
        "doc_number_id": number.pk,
    }
