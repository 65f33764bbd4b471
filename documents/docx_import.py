"""正文 from an uploaded .docx: Word paragraphs become the structured body (h1…h4 and p).

Heading levels (G24) are recognised first by a Word heading style ("Heading 2", "标题 2"), then by
the numbering a drafter types: 一、 → h1, （一） → h2, 1. → h3, （1） → h4. Everything else is a
paragraph. Tables become one paragraph per row (cells separated by a full-width space): the
structured body has no tables, and the text must not be lost. The upload has passed
officeapp.blobs.checks.check_upload (type, size, zip limits) before it reaches here.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import IO, Any

from docx import Document as open_docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml.etree import XMLSyntaxError

from documents.errors import DocumentError

NOT_A_DOCX = (
    "上传的文件不是有效的 Word 文档（.docx），无法读取正文。如为 .doc 或 WPS 格式，请先另存为 .docx 再上传。"
)
EMPTY_DOCX = "上传的 Word 文档中没有正文内容。"

_CN = "一二三四五六七八九十百零〇"
# G24 numbering; the parentheses may be typed full- or half-width. "1." must not be followed by a
# digit, so a paragraph opening with "1.5万元" stays a paragraph.
HEADING_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("h1", re.compile(rf"^[{_CN}]+、")),
    ("h2", re.compile(rf"^[（(][{_CN}]+[）)]")),
    ("h4", re.compile(r"^[（(]\d+[）)]")),
    ("h3", re.compile(r"^\d+[.．](?!\d)")),
]
_STYLE_LEVEL = re.compile(r"^(?:heading|标题)\s*([1-4])$", re.IGNORECASE)


def kind_of(text: str, style_name: str = "") -> str:
    """The block kind of one paragraph: its heading style wins, else its numbering, else "p"."""
    match = _STYLE_LEVEL.match(style_name.strip())
    if match:
        return f"h{match.group(1)}"
    for kind, pattern in HEADING_PATTERNS:
        if pattern.match(text):
            return kind
    return "p"


def _paragraph_text(paragraph: Paragraph) -> str:
    # Word keeps manual line breaks and tabs inside a paragraph; the body has one line per block.
    return re.sub(r"\s+", " ", paragraph.text.replace("\u3000", " ")).strip()


def body_from_docx(file: IO[bytes] | bytes | Any) -> list[dict[str, str]]:
    """The structured 正文 of a .docx (bytes, a file or an UploadedFile), or DocumentError."""
    if isinstance(file, bytes | bytearray):
        source: Any = io.BytesIO(file)
    else:
        source = getattr(file, "file", file)
        if hasattr(source, "seek"):
            source.seek(0)
    try:
        document = open_docx(source)
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, XMLSyntaxError, OSError) as exc:
        raise DocumentError(NOT_A_DOCX) from exc
    blocks: list[dict[str, str]] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = _paragraph_text(item)
            if text:
                style = item.style.name if item.style is not None else ""
                blocks.append({"kind": kind_of(text, style or ""), "text": text})
        elif isinstance(item, Table):
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = re.sub(r"\s+", " ", cell.text).strip()
                    # A merged cell repeats in every grid column it spans: keep it once.
                    if value and (not cells or cells[-1] != value):
                        cells.append(value)
                if cells:
                    blocks.append({"kind": "p", "text": "\u3000".join(cells)})
    if not blocks:
        raise DocumentError(EMPTY_DOCX)
    return blocks


__all__ = ["HEADING_PATTERNS", "body_from_docx", "kind_of"]
