"""Attachment text for the index: .docx (python-docx), PDF (pypdf), .xlsx (openpyxl) and plain text.

Bounded three ways, because an attachment is whatever someone uploaded:
- a file larger than SEARCH_EXTRACT_MAX_BYTES is not read at all (status too_large: found by name);
- the text is cut at SEARCH_EXTRACT_MAX_CHARS (the reader stops as soon as it has that much);
- the reading runs in a child process (`python -m search.extract <kind> <path> <max_chars>`) that is
  killed after SEARCH_EXTRACT_TIMEOUT_SECONDS, with its address space limited, so a hostile PDF
  (a loop of object references, a decompression bomb) cannot hang or exhaust the worker.

Results are kept in `search.models.ExtractedText`, one row per stored content (blob sha256), so a
file attached to a 发文 and to each recipient's 收文 is read once, and a rebuild reads nothing again.

Extraction happens in the worker only: the attachment source's build() calls `ensure_extracted`
for a file not yet read, and build() runs in the outbox consumer (the worker) or in
`manage.py search_reindex` — never in a web request.

This module imports Django lazily: the child process runs it with no settings.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_BY_TYPE = {DOCX_MIME: "docx", XLSX_MIME: "xlsx", "application/pdf": "pdf", "text/plain": "text"}
_BY_SUFFIX = {".docx": "docx", ".xlsx": "xlsx", ".pdf": "pdf", ".txt": "text", ".csv": "text"}
# The child's address space: far above what reading a 30 MB office file needs, far below the host's.
CHILD_MEMORY_BYTES = 1536 * 1024 * 1024
# Status codes (search.models.ExtractionStatus values; repeated here so the child needs no Django).
OK, TOO_LARGE, TIMEOUT, FAILED, UNSUPPORTED = "ok", "too_large", "timeout", "failed", "unsupported"


@dataclass(frozen=True)
class Extraction:
    status: str
    text: str = ""
    detail: str = ""


def kind_of(filename: str, content_type: str = "") -> str | None:
    """ "docx", "pdf", "xlsx", "text" or None (images, OFD …: found by name only)."""
    return _BY_TYPE.get((content_type or "").split(";")[0].strip()) or _BY_SUFFIX.get(
        Path(filename or "").suffix.lower()
    )


# --- Reading (in the child process) -------------------------------------------------------------


class _Full(Exception):
    """Enough text collected: stop reading the file."""


class _Collector:
    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.parts: list[str] = []
        self.size = 0

    def add(self, text: str | None) -> None:
        text = (text or "").strip()
        if not text:
            return
        self.parts.append(text)
        self.size += len(text) + 1
        if self.size >= self.max_chars:
            raise _Full

    def text(self) -> str:
        return clean("\n".join(self.parts))[: self.max_chars]


def clean(text: str) -> str:
    # NUL cannot be stored in a PostgreSQL text column; other control characters are noise.
    return "".join(c for c in text if c in "\n\t" or c >= " ")


def _read_docx(path: Path, out: _Collector) -> None:
    from docx import Document

    document = Document(str(path))
    for paragraph in document.paragraphs:
        out.add(paragraph.text)
    for table in document.tables:
        for row in table.rows:
            # Merged cells repeat the same cell object; each text once per row.
            seen: list[str] = []
            for cell in row.cells:
                if cell.text not in seen:
                    seen.append(cell.text)
            out.add("\u3000".join(t.strip() for t in seen if t.strip()))


def _read_pdf(path: Path, out: _Collector) -> None:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        reader.decrypt("")  # an owner-password-only PDF opens with the empty user password
    for page in reader.pages:
        out.add(page.extract_text())


def _read_xlsx(path: Path, out: _Collector) -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(str(path), read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            out.add(sheet.title)
            for row in sheet.iter_rows(values_only=True):
                out.add("\t".join(str(v) for v in row if v is not None and str(v).strip()))
    finally:
        workbook.close()


def _read_text(path: Path, out: _Collector) -> None:
    limit = out.max_chars * 4  # enough bytes for max_chars characters in any of these encodings
    with path.open("rb") as handle:
        data = handle.read(limit)
    final = len(data) < limit
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            # Incremental: a character cut in two at the read limit is not a decoding error.
            out.add(codecs.getincrementaldecoder(encoding)().decode(data, final=final))
            return
        except UnicodeDecodeError:
            continue
    out.add(data.decode("utf-8", errors="replace"))


_READERS = {"docx": _read_docx, "pdf": _read_pdf, "xlsx": _read_xlsx, "text": _read_text}


def read_file(path: str | Path, kind: str, max_chars: int) -> str:
    """The text of a file, in this process (no time bound: the child process calls this)."""
    out = _Collector(max_chars)
    with contextlib.suppress(_Full):  # enough text: the rest of the file is not read
        _READERS[kind](Path(path), out)
    return out.text()


def main(argv: list[str]) -> int:
    """The child: `python -m search.extract <kind> <path> <max_chars>`; the text on stdout (UTF-8)."""
    kind, path, max_chars = argv[0], argv[1], int(argv[2])
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    except (ImportError, ValueError, OSError):  # not POSIX, or a lower hard limit already
        pass
    try:
        text = read_file(path, kind, max_chars)
    except Exception as exc:  # noqa: BLE001 — any failure of a parser on a hostile file
        sys.stderr.write(f"{type(exc).__name__}: {exc}"[:300])
        return 2
    sys.stdout.buffer.write(text.encode("utf-8"))
    return 0


# --- Bounded extraction (in the worker) ----------------------------------------------------------


def _child_command(kind: str, path: Path, max_chars: int) -> list[str]:
    return [sys.executable, "-m", "search.extract", kind, str(path), str(max_chars)]


def extract_file(path: str | Path, *, kind: str, timeout: float, max_chars: int) -> Extraction:
    """Read `path` in a child process killed after `timeout` seconds. Never raises."""
    project_root = Path(__file__).resolve().parent.parent
    try:
        done = subprocess.run(  # noqa: S603 — our own module on a path we made
            _child_command(kind, Path(path), max_chars),
            cwd=project_root,
            capture_output=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "PYTHONPATH": str(project_root)},
        )
    except subprocess.TimeoutExpired:
        # subprocess.run kills the child and waits for it before raising.
        return Extraction(TIMEOUT, detail=f"超过 {timeout:g} 秒")
    except OSError as exc:
        return Extraction(FAILED, detail=str(exc)[:300])
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", errors="replace").strip() or f"退出码 {done.returncode}"
        return Extraction(FAILED, detail=detail[:300])
    return Extraction(OK, text=done.stdout.decode("utf-8", errors="replace")[:max_chars])


def extract_blob(blob: Any, *, filename: str = "") -> Extraction:
    """Bounded extraction of a stored file (officeapp.blobs). BlobStoreUnavailable propagates (the
    outbox consumer retries later); a missing file is a failure like a corrupt one."""
    from django.conf import settings

    from officeapp.blobs.backends import BlobMissing
    from officeapp.blobs.services import open_blob

    kind = kind_of(filename, blob.content_type)
    if kind is None:
        return Extraction(UNSUPPORTED, detail=blob.content_type[:300])
    if blob.size > settings.SEARCH_EXTRACT_MAX_BYTES:
        return Extraction(TOO_LARGE, detail=f"{blob.size} 字节")
    with tempfile.TemporaryDirectory(prefix="search-extract-") as folder:
        path = Path(folder) / f"file.{kind}"
        try:
            with path.open("wb") as handle:
                written = 0
                for chunk in open_blob(blob):
                    written += len(chunk)
                    if written > settings.SEARCH_EXTRACT_MAX_BYTES:  # the row's size was wrong
                        return Extraction(TOO_LARGE, detail=f"超过 {written} 字节")
                    handle.write(chunk)
        except BlobMissing as exc:
            return Extraction(FAILED, detail=f"文件缺失：{exc}"[:300])
        return extract_file(
            path,
            kind=kind,
            timeout=settings.SEARCH_EXTRACT_TIMEOUT_SECONDS,
            max_chars=settings.SEARCH_EXTRACT_MAX_CHARS,
        )


def ensure_extracted(blob: Any, *, filename: str = "") -> Any:
    """The ExtractedText of this blob's content, extracting it now (bounded) when not yet done.
    Worker only (see the module docstring)."""
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from search.models import ExtractedText

    existing = ExtractedText.objects.filter(sha256=blob.sha256).first()
    if existing is not None:
        return existing
    result = extract_blob(blob, filename=filename)
    try:
        with transaction.atomic():
            return ExtractedText.objects.create(
                sha256=blob.sha256,
                text=clean(result.text),
                status=result.status,
                detail=result.detail[:300],
                extracted_at=timezone.now(),
            )
    except IntegrityError:  # another worker stored the same content meanwhile
        return ExtractedText.objects.get(sha256=blob.sha256)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
