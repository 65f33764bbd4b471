"""Upload checks every app uses, run BEFORE anything is stored.

check_upload() refuses, with a reason in Chinese, a file that is empty, too big, of a type not
allowed here (decided by the bytes, and the extension must agree with them), a docx/xlsx/pptx
whose zip structure could blow up a reader (too many entries, too large uncompressed, too high a
compression ratio), or whose name is nothing once sanitised. What passes comes back as a
CheckedUpload with a safe display name and the detected type, ready for blobs.services.put().
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

import filetype
from django.conf import settings

HEAD_BYTES = 8192

# Zip-bomb limits for OOXML/OFD containers, read from the central directory without extracting.
# Python's zipfile (and so openpyxl and python-docx) never inflates an entry beyond its declared
# size, so the declared sizes checked here bound what any later reader will decompress.
ZIP_MAX_ENTRIES = 5000
ZIP_MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
ZIP_MAX_RATIO = 100

NAME_MAX_CHARS = 120


@dataclass(frozen=True)
class FileType:
    key: str  # "docx", "png" …: what the bytes are
    mime: str
    label: str  # shown to users
    extensions: tuple[str, ...]  # the extensions a file of this type may carry
    zipped: bool = False


TYPES: dict[str, FileType] = {
    t.key: t
    for t in [
        FileType(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "Word 文档",
            (".docx",),
            zipped=True,
        ),
        FileType(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Excel 表格",
            (".xlsx",),
            zipped=True,
        ),
        FileType(
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "PowerPoint 演示文稿",
            (".pptx",),
            zipped=True,
        ),
        FileType("ofd", "application/ofd", "OFD 版式文件", (".ofd",), zipped=True),
        FileType("pdf", "application/pdf", "PDF", (".pdf",)),
        # No charset: GB18030 text passes too, and a wrong charset claim garbles it in the browser.
        FileType("txt", "text/plain", "纯文本", (".txt",)),
        FileType("png", "image/png", "PNG 图片", (".png",)),
        FileType("jpeg", "image/jpeg", "JPEG 图片", (".jpg", ".jpeg")),
        FileType("gif", "image/gif", "GIF 图片", (".gif",)),
        FileType("webp", "image/webp", "WebP 图片", (".webp",)),
        # A plain zip of files (chat, meeting materials); its entries are not inspected, its size is.
        FileType("zip", "application/zip", "ZIP 压缩包", (".zip",), zipped=True),
    ]
}

# Kinds an upload field may allow. Apps name kinds, never raw types, so a new format is added here once.
KINDS: dict[str, frozenset[str]] = {
    "document": frozenset({"docx", "pdf", "ofd", "xlsx", "pptx", "txt"}),
    "image": frozenset({"png", "jpeg", "gif", "webp"}),
    "spreadsheet": frozenset({"xlsx"}),
    "archive": frozenset({"zip"}),
}

UNKNOWN = FileType("unknown", "application/octet-stream", "未知类型", ())

# The members that identify a zip container, checked in this order.
_ZIP_MARKERS: list[tuple[str, str]] = [
    ("word/document.xml", "docx"),
    ("xl/workbook.xml", "xlsx"),
    ("ppt/presentation.xml", "pptx"),
    ("OFD.xml", "ofd"),
]

_WINDOWS_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(10)),
    *(f"LPT{i}" for i in range(10)),
}
_FORBIDDEN_CHARS = re.compile(r'[<>:"/\\|?*]')


class UploadRefused(Exception):
    """An upload that must not be stored; `message` (Chinese) tells the user why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CheckedUpload:
    file: Any  # the uploaded file, rewound; hand it to blobs.services.put()
    name: str  # sanitised display name, keeps Chinese
    size: int
    type: FileType

    @property
    def content_type(self) -> str:
        return self.type.mime


# --- messages (tests assert these exact strings) --------------------------------------------------

MSG_EMPTY = "文件为空，请选择有内容的文件。"
MSG_BAD_NAME = "文件名无效，请重命名后再上传。"
MSG_ZIP_BAD = "文件结构异常（压缩条目过多、解压后过大或压缩比异常），已拒绝上传。"


def msg_too_big(max_bytes: int) -> str:
    return f"文件过大：单个文件不能超过 {_megabytes(max_bytes)} MB。"


def msg_not_allowed(allowed: Iterable[str]) -> str:
    labels = "、".join(TYPES[k].label for k in sorted(allowed))
    return f"不支持的文件类型，此处只接受：{labels}。"


def msg_extension_mismatch(detected: FileType) -> str:
    return f"文件扩展名与实际内容不符（内容为{detected.label}），请检查后重新上传。"


def _megabytes(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:.0f}" if mb == int(mb) else f"{mb:.1f}"


# --- names -------------------------------------------------------------------------------------


def sanitise_name(raw: str) -> str:
    """A display name safe in any filesystem and header: no directories, no control or reserved
    characters, no Windows device names, bounded length; Chinese is kept. May return ''."""
    name = unicodedata.normalize("NFC", raw or "")
    # Browsers on Windows used to send the full client path; either separator ends a directory.
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    name = _FORBIDDEN_CHARS.sub("_", name)
    name = name.strip(" .")
    if not name or set(name) <= {"_"}:
        return ""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    ext = ext[:16]
    stem = stem[: NAME_MAX_CHARS - len(ext) - 1].rstrip(" .") or "_"
    return f"{stem}.{ext}" if ext else stem


def extension_of(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot else ""


# --- type detection ------------------------------------------------------------------------------


def detect_type(file: IO[bytes]) -> FileType:
    """What the bytes are, from magic numbers and (for zip containers) the central directory.

    The file is rewound afterwards. Never trusts a name or the browser's Content-Type.
    """
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    try:
        if head.startswith(b"PK\x03\x04"):
            return _zip_type(file)
        guess = filetype.guess(head)
        if guess is not None:
            for t in TYPES.values():
                if t.mime == guess.mime and not t.zipped:
                    return t
            return FileType(guess.extension, guess.mime, guess.extension.upper(), (f".{guess.extension}",))
        if _looks_like_text(head):
            return TYPES["txt"]
        return UNKNOWN
    finally:
        file.seek(0)


def _zip_type(file: IO[bytes]) -> FileType:
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return UNKNOWN
    for marker, key in _ZIP_MARKERS:
        if marker in names:
            return TYPES[key]
    return TYPES["zip"]


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    # The head may end inside a multi-byte character: drop at most 3 trailing bytes before decoding.
    for cut in range(4):
        sample = head[: len(head) - cut] if cut else head
        try:
            sample.decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    try:
        head.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return True


def _check_zip_limits(file: IO[bytes], size: int) -> None:
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UploadRefused(MSG_ZIP_BAD) from exc
    finally:
        file.seek(0)
    if len(infos) > ZIP_MAX_ENTRIES:
        raise UploadRefused(MSG_ZIP_BAD)
    total = 0
    for info in infos:
        total += info.file_size
        if total > ZIP_MAX_UNCOMPRESSED_BYTES:
            raise UploadRefused(MSG_ZIP_BAD)
        # One entry of a few KB inflating to megabytes is the classic bomb; tiny entries are exempt
        # because a near-empty XML part legitimately compresses very well.
        if info.file_size > 1024 * 1024 and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
            raise UploadRefused(MSG_ZIP_BAD)
    if total > 1024 * 1024 and total > ZIP_MAX_RATIO * max(size, 1):
        raise UploadRefused(MSG_ZIP_BAD)


# --- the check ---------------------------------------------------------------------------------


def _size_of(uploaded_file: Any) -> int:
    size = getattr(uploaded_file, "size", None)
    if isinstance(size, int):
        return size
    uploaded_file.seek(0, 2)
    size = uploaded_file.tell()
    uploaded_file.seek(0)
    return int(size)


def check_upload(
    uploaded_file: Any, *, allowed_kinds: Iterable[str], max_bytes: int | None = None, name: str | None = None
) -> CheckedUpload:
    """Refuse (UploadRefused with a Chinese reason) or return the checked upload. Stores nothing."""
    allowed: set[str] = set()
    for kind in allowed_kinds:
        allowed |= KINDS[kind]
    limit = settings.UPLOAD_MAX_BYTES if max_bytes is None else max_bytes

    size = _size_of(uploaded_file)
    if size == 0:
        raise UploadRefused(MSG_EMPTY)
    if size > limit:
        raise UploadRefused(msg_too_big(limit))

    clean_name = sanitise_name(name if name is not None else getattr(uploaded_file, "name", "") or "")
    if not clean_name:
        raise UploadRefused(MSG_BAD_NAME)

    detected = detect_type(uploaded_file)
    if detected.key not in allowed:
        raise UploadRefused(msg_not_allowed(allowed))
    if extension_of(clean_name) not in detected.extensions:
        raise UploadRefused(msg_extension_mismatch(detected))
    if detected.zipped:
        _check_zip_limits(uploaded_file, size)
    uploaded_file.seek(0)
    return CheckedUpload(file=uploaded_file, name=clean_name, size=size, type=detected)
