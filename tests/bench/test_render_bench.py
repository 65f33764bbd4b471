"""Benchmark: GB/T 9704 rendering time of a 10-page document, .docx and PDF (p50/p95/max).

Run with `make bench` (pytest -s tests/bench). Figures are printed, never asserted: timings vary
by machine. The .docx is built by python-docx in this process (RENDER_BENCH_DOCX_RUNS runs); the
PDF is that .docx converted by LibreOffice headless, a new process with its own profile each time,
as the worker does it (RENDER_BENCH_PDF_RUNS runs). No database: the renderer takes plain values.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from documents.gbt9704 import SealImage, render_docx
from documents.pdf import docx_to_pdf
from tests.documents.gbt9704_reading import seal_png
from tests.documents.test_gbt9704_standard import SPEC

DOCX_RUNS = int(os.environ.get("RENDER_BENCH_DOCX_RUNS", "50"))
PDF_RUNS = int(os.environ.get("RENDER_BENCH_PDF_RUNS", "10"))
TARGET_PAGES = 10
PARAGRAPH = "各地各部门要充分认识防汛工作的重要性和紧迫性，压实各级责任，确保人民群众生命财产安全。" * 2

# Headings and paragraphs in the four levels, about 10 pages with the 版头, 附件 pages and 版记.
BODY = []
for section in range(1, 6):
    BODY.append({"kind": "h1", "text": f"{'一二三四五六七八'[section - 1]}、第{section}部分工作要求"})
    BODY.append({"kind": "h2", "text": "（一）落实责任"})
    BODY += [{"kind": "p", "text": PARAGRAPH}] * 7
SPEC_10 = replace(
    SPEC,
    body=BODY,
    seals=[SealImage("广东省人民政府办公厅", seal_png())],
)


def _ms(start: int) -> float:
    return (time.perf_counter_ns() - start) / 1e6


def _pages(pdf: bytes) -> int:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        out = subprocess.run(["pdfinfo", f.name], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


@pytest.mark.skipif(
    shutil.which(settings.LIBREOFFICE_BIN) is None or shutil.which("pdfinfo") is None,
    reason="LibreOffice 或 poppler 未安装",
)
def test_render_a_10_page_document_docx_and_pdf(bench: Any) -> None:
    docx = render_docx(SPEC_10)  # warm-up: imports, template
    pdf = docx_to_pdf(docx)
    pages = _pages(pdf)

    docx_ms: list[float] = []
    for _ in range(DOCX_RUNS):
        start = time.perf_counter_ns()
        render_docx(SPEC_10)
        docx_ms.append(_ms(start))
    pdf_ms: list[float] = []
    for _ in range(PDF_RUNS):
        start = time.perf_counter_ns()
        docx_to_pdf(docx)
        pdf_ms.append(_ms(start))

    rows = []
    for name, samples in (("docx（python-docx）", docx_ms), ("PDF（LibreOffice，docx→pdf）", pdf_ms)):
        p50, p95, worst = bench.percentiles(samples)
        rows.append([name, len(samples), p50, p95, worst])
    bench.print_table(
        f"GB/T 9704 排版：{pages} 页公文（{len(docx)} 字节 docx，{len(pdf)} 字节 PDF）",
        ["步骤", "次数", "p50 ms", "p95 ms", "max ms"],
        rows,
    )
    assert TARGET_PAGES - 1 <= pages <= TARGET_PAGES + 1  # the document is the size the figure claims
    Path(tempfile.gettempdir(), "render-bench.pdf").write_bytes(pdf)
