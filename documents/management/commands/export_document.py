"""manage.py export_document <文号 or id> --format docx|pdf --out PATH

Writes the document's current rendering: the newest ready one of its current version, or — when
none was made yet — one rendered now (nothing is written to the database).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from documents.errors import DocumentError
from documents.models import OfficialDocument, RenderKind
from documents.rendering import latest_rendering, render_docx_of, render_pdf
from officeapp.blobs.services import open_blob


def find_document(reference: str) -> OfficialDocument:
    """By 发文字号 first (a 文号 is never all digits), then by id."""
    reference = reference.strip()
    document = OfficialDocument.objects.filter(doc_number=reference).order_by("-pk").first()
    if document is None and reference.isdigit():
        document = OfficialDocument.objects.filter(pk=int(reference)).first()
    if document is None:
        raise CommandError(f"未找到公文：“{reference}”（请输入发文字号或公文编号）。")
    return document


class Command(BaseCommand):
    help = "导出公文的排版文件（.docx 或 PDF）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("reference", help="发文字号（如 粤府办〔2026〕12号）或公文编号")
        parser.add_argument("--format", choices=["docx", "pdf"], default="pdf", help="docx 或 pdf")
        parser.add_argument("--out", required=True, help="输出文件路径")

    def handle(self, *args: Any, **options: Any) -> None:
        document = find_document(options["reference"])
        if document.current_version is None:
            raise CommandError("该公文还没有正文，无法导出。")
        kind = RenderKind.DOCX if options["format"] == "docx" else RenderKind.PDF
        out = Path(options["out"])
        ready = latest_rendering(document, kind)
        try:
            if ready is not None and ready.blob is not None:
                data = b"".join(open_blob(ready.blob))
            elif kind == RenderKind.DOCX:
                data = render_docx_of(document)
            else:
                data = render_pdf(document)
        except DocumentError as exc:
            raise CommandError(exc.message) from exc
        try:
            out.write_bytes(data)
        except OSError as exc:
            raise CommandError(f"无法写入文件 {out}：{exc.strerror}") from exc
        self.stdout.write(f"已导出 {document} → {out}（{len(data)} 字节）")
