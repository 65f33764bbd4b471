"""版式文件: .docx → PDF through LibreOffice headless, the one door to that outside program.

Each call gets a private temporary profile (-env:UserInstallation): two conversions sharing a
profile block each other or fail, and the worker runs several at once. Any failure — binary
missing, non-zero exit, timeout, no output — becomes RenderFailed with a Chinese message; nothing
else is touched, so the caller's document and flow stay as they were.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings

from documents.errors import RenderFailed

logger = logging.getLogger(__name__)


def docx_to_pdf(docx: bytes) -> bytes:
    """The PDF LibreOffice makes of `docx`."""
    binary = settings.LIBREOFFICE_BIN
    if shutil.which(binary) is None:
        raise RenderFailed(f"版式文件生成失败：找不到 LibreOffice（{binary}），请联系系统管理员。")
    timeout = settings.RENDER_TIMEOUT_SECONDS
    with tempfile.TemporaryDirectory(prefix="officeapp-render-") as work:
        root = Path(work)
        source = root / "document.docx"
        source.write_bytes(docx)
        profile = root / "profile"
        command = [
            binary,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "pdf:writer_pdf_Export",
            "--outdir",
            str(root),
            str(source),
        ]
        try:
            # The command is ours: the binary from settings and paths in our own temporary directory.
            completed = subprocess.run(command, capture_output=True, timeout=timeout, check=False)  # noqa: S603
        except subprocess.TimeoutExpired as exc:
            raise RenderFailed(f"版式文件生成超时（超过{timeout}秒），请稍后重试。") from exc
        except OSError as exc:
            raise RenderFailed("版式文件生成失败：无法启动 LibreOffice。") from exc
        target = root / "document.pdf"
        if completed.returncode != 0 or not target.exists() or target.stat().st_size == 0:
            logger.warning(
                "LibreOffice conversion failed (exit %s): %s",
                completed.returncode,
                completed.stderr.decode("utf-8", "replace")[-500:],
            )
            raise RenderFailed("版式文件生成失败：排版稿无法转换为 PDF。")
        return target.read_bytes()
