"""版式 PDF through LibreOffice: the R rules measured on the render (G05, G06, G13, G16, G51) and
the converter's failures. Geometry is read with `pdftotext -bbox` (text lines) and by scanning the
pixels of a 300 dpi `pdftoppm` render (ink edges: the dash, the red mark and line)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from PIL import Image

from documents.errors import RenderFailed
from documents.gbt9704 import render_docx
from documents.pdf import docx_to_pdf
from tests.documents.test_gbt9704_standard import SPEC as DOWNWARD

needs_libreoffice = pytest.mark.skipif(
    shutil.which(settings.LIBREOFFICE_BIN) is None or shutil.which("pdftoppm") is None,
    reason="LibreOffice 或 poppler 未安装（make 会安装 libreoffice-writer-nogui 和 poppler-utils）",
)

DPI = 300
PARAGRAPH = "各地各部门要充分认识防汛工作的重要性和紧迫性" * 3  # 66 characters, no punctuation
# A 3-page 正文: page 2 is text from top to bottom.
SPEC = replace(DOWNWARD, body=[{"kind": "p", "text": PARAGRAPH} for _ in range(26)], attachments=[])
TEXT_BOTTOM_MM = 297 - 35  # 版心 bottom edge (G04)


def mm_of(pixels: int) -> float:
    return pixels / DPI * 25.4


def px_of(millimetres: float) -> int:
    return round(millimetres / 25.4 * DPI)


@pytest.fixture(scope="module")
def rendered() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as work:
        pdf = Path(work) / "document.pdf"
        pdf.write_bytes(docx_to_pdf(render_docx(SPEC)))
        yield pdf


def words(pdf: Path, page: int) -> list[tuple[float, float, float, float, str]]:
    """(xMin, yMin, xMax, yMax, text) in points of every word pdftotext finds on `page`."""
    out = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    found = re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out)
    return [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in found]


def text_lines(pdf: Path, page: int) -> list[tuple[float, str]]:
    """Lines of the 版心 (footer excluded): (top in mm, text), grouped by their top edge."""
    lines: dict[int, list[tuple[float, float, str]]] = {}
    for x0, y0, _x1, _y1, text in words(pdf, page):
        if y0 / 72 * 25.4 < TEXT_BOTTOM_MM:
            lines.setdefault(round(y0), []).append((x0, y0, text))
    return [
        (min(y for _x, y, _t in parts) / 72 * 25.4, "".join(t for _x, _y, t in sorted(parts)))
        for _key, parts in sorted(lines.items())
    ]


def page_image(pdf: Path, page: int, *, gray: bool) -> Image.Image:
    with tempfile.TemporaryDirectory() as work:
        prefix = Path(work) / "page"
        mode = ["-gray"] if gray else []
        subprocess.run(
            ["pdftoppm", "-r", str(DPI), *mode, "-f", str(page), "-l", str(page), str(pdf), str(prefix)],
            check=True,
        )
        image_path = next(Path(work).iterdir())
        return Image.open(image_path).copy()


def page_count(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, text=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", out).group(1))  # type: ignore[union-attr]


@needs_libreoffice
def test_the_body_runs_to_three_pages(rendered: Path) -> None:
    assert page_count(rendered) >= 3


@needs_libreoffice
def test_g05_a_full_page_holds_22_lines_filling_the_text_area(rendered: Path) -> None:
    lines = text_lines(rendered, 2)
    assert len(lines) == 22
    pitches = [b[0] - a[0] for a, b in zip(lines, lines[1:], strict=False)]
    assert all(abs(p - 225 / 22) < 0.15 for p in pitches), pitches  # 10.23 mm a line
    assert 37 <= lines[0][0] < 37 + 225 / 22  # the first line at the 版心 top


@needs_libreoffice
def test_g06_a_full_line_holds_28_characters_across_156_mm(rendered: Path) -> None:
    lines = [text for _top, text in text_lines(rendered, 2)]
    full = [t for t in lines if len(t) >= 27]
    assert full
    # The first line of a paragraph is indented two characters (G23): 26; the rest 28.
    assert {len(t) for t in full} <= {26, 28}
    assert 28 in {len(t) for t in full}
    spans = [(x1 - x0) / 72 * 25.4 for x0, _y0, x1, _y1, text in words(rendered, 2) if len(text) == 28]
    assert spans and all(154 <= s <= 156.1 for s in spans)


@needs_libreoffice
def test_g51_the_page_number_dash_sits_7_mm_below_the_text_area(rendered: Path) -> None:
    for page in (1, 2):
        image = page_image(rendered, page, gray=True)
        pixels = image.load()
        top, bottom = px_of(TEXT_BOTTOM_MM), px_of(292)
        columns = [x for x in range(image.width) if any(pixels[x, y] < 128 for y in range(top, bottom))]
        first = columns[0]
        dash = range(first, first + px_of(2.5))  # the leading 一字线 only, not the digit
        rows = [y for y in range(top, bottom) if any(pixels[x, y] < 128 for x in dash)]
        assert abs(mm_of(rows[0]) - (TEXT_BOTTOM_MM + 7)) <= 0.5, mm_of(rows[0])
        # G52: odd pages at the right, even pages at the left, one 4号 character (4.9 mm) in.
        if page % 2:
            assert abs(mm_of(columns[-1]) - (210 - 26 - 4.9)) <= 1.5
        else:
            assert abs(mm_of(columns[0]) - (28 + 4.9)) <= 1.5


def _red_bands(image: Image.Image) -> list[tuple[float, float]]:
    pixels = image.load()
    rows = [
        y
        for y in range(image.height // 2)
        if any(
            (lambda p: p[0] > 180 and p[1] < 90 and p[2] < 90)(pixels[x, y]) for x in range(0, image.width, 2)
        )
    ]
    bands: list[list[int]] = []
    for y in rows:
        if bands and y - bands[-1][-1] <= 2:
            bands[-1].append(y)
        else:
            bands.append([y])
    return [(mm_of(b[0]), mm_of(b[-1])) for b in bands]


@needs_libreoffice
def test_g13_the_red_mark_starts_35_mm_below_the_text_area_top(rendered: Path) -> None:
    mark, _line = _red_bands(page_image(rendered, 1, gray=False))
    # 37 mm 天头 + 35 mm; the ink of a glyph starts a little under its em box.
    assert 71 <= mark[0] <= 73.5, mark


@needs_libreoffice
def test_g16_the_red_line_lies_about_4_mm_under_the_doc_number(rendered: Path) -> None:
    colour = page_image(rendered, 1, gray=False)
    _mark, line = _red_bands(colour)
    gray = colour.convert("L").load()
    line_top = px_of(line[0])
    ink = [
        y
        for y in range(line_top - px_of(15), line_top - 2)
        if any(gray[x, y] < 100 for x in range(0, colour.width, 2))
    ]
    gap = line[0] - mm_of(ink[-1])
    assert 3 <= gap <= 5, gap


@needs_libreoffice
def test_g22_page_one_shows_text(rendered: Path) -> None:
    assert any(PARAGRAPH[:20] in text for _top, text in text_lines(rendered, 1))


@needs_libreoffice
def test_parallel_conversions_do_not_clash() -> None:
    docx = render_docx(replace(SPEC, body=SPEC.body[:2]))
    results: list[Any] = []

    def convert() -> None:
        try:
            results.append(docx_to_pdf(docx))
        except RenderFailed as exc:
            results.append(exc)

    threads = [threading.Thread(target=convert) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3
    assert all(isinstance(r, bytes) and r.startswith(b"%PDF") for r in results), results


def _fake_binary(tmp_path: Path, script: str) -> str:
    path = tmp_path / "fake-soffice"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    return str(path)


def test_a_missing_libreoffice_is_a_clear_render_failure(settings: Any) -> None:
    settings.LIBREOFFICE_BIN = "/nonexistent/soffice"
    with pytest.raises(RenderFailed, match="找不到 LibreOffice"):
        docx_to_pdf(b"PK")


def test_a_conversion_that_exits_with_an_error_is_a_render_failure(settings: Any, tmp_path: Path) -> None:
    settings.LIBREOFFICE_BIN = _fake_binary(tmp_path, "exit 3")
    with pytest.raises(RenderFailed, match="无法转换"):
        docx_to_pdf(b"PK")


def test_a_conversion_past_the_time_limit_is_a_render_failure(settings: Any, tmp_path: Path) -> None:
    settings.LIBREOFFICE_BIN = _fake_binary(tmp_path, "sleep 5")
    settings.RENDER_TIMEOUT_SECONDS = 1
    with pytest.raises(RenderFailed, match="超时"):
        docx_to_pdf(b"PK")


def test_each_conversion_gets_its_own_profile(settings: Any, tmp_path: Path) -> None:
    log = tmp_path / "calls"
    settings.LIBREOFFICE_BIN = _fake_binary(tmp_path, f'echo "$1" >> {log}; exit 1')
    for _ in range(2):
        with pytest.raises(RenderFailed):
            docx_to_pdf(b"PK")
    profiles = log.read_text().split()
    assert len(profiles) == 2 and profiles[0] != profiles[1]
    assert all(p.startswith("-env:UserInstallation=file://") for p in profiles)


@needs_libreoffice
def test_g20_a_two_line_title_keeps_the_line_pitch(rendered: Path) -> None:
    lines = text_lines(rendered, 1)
    tops = [
        top
        for top, text in lines
        if "防台风工作的通知" in text or text.startswith("广东省人民政府办公厅关于")
    ]
    assert len(tops) == 2
    assert abs(tops[1] - tops[0] - 225 / 22) < 0.2


@needs_libreoffice
def test_g40_the_last_version_block_rule_lies_on_the_text_area_bottom_of_the_last_page(
    rendered: Path,
) -> None:
    last = page_count(rendered)
    image = page_image(rendered, last, gray=True)
    pixels = image.load()
    step = 4
    # Rules: rows dark across most of the 156 mm width.
    rules = [
        y
        for y in range(image.height)
        if sum(1 for x in range(0, image.width, step) if pixels[x, y] < 128) * step > px_of(150)
    ]
    assert rules
    assert abs(mm_of(rules[-1]) - TEXT_BOTTOM_MM) <= 0.5, mm_of(rules[-1])
    # Three rules: thick, thin, thick (G40) — groups of adjacent rows.
    groups = 1 + sum(1 for a, b in zip(rules, rules[1:], strict=False) if b - a > 2)
    assert groups == 3
    # Below the first rule there is only the block's own text: nothing of the body runs under it.
    below = [text for top, text in text_lines(rendered, last) if top > mm_of(rules[0])]
    assert [t[:3] for t in below] == ["抄送：", "广东省"]
    assert below[1].endswith("印发")


@pytest.fixture(scope="module")
def rendered_letter() -> Iterator[Path]:
    from tests.documents.test_gbt9704_letter import SPEC as LETTER

    with tempfile.TemporaryDirectory() as work:
        pdf = Path(work) / "letter.pdf"
        pdf.write_bytes(docx_to_pdf(render_docx(replace(LETTER, body=SPEC.body[:14]))))
        yield pdf


def _red_lines(image: Image.Image) -> list[tuple[float, float, float, float]]:
    """(top mm, bottom mm, left mm, right mm) of each band of red rows."""
    pixels = image.load()

    def red(p: Any) -> bool:
        return p[0] > 180 and p[1] < 90 and p[2] < 90

    rows = [y for y in range(image.height) if any(red(pixels[x, y]) for x in range(0, image.width, 2))]
    bands: list[list[int]] = []
    for y in rows:
        if bands and y - bands[-1][-1] <= 1:
            bands[-1].append(y)
        else:
            bands.append([y])
    found = []
    for band in bands:
        middle = band[len(band) // 2]
        xs = [x for x in range(image.width) if red(pixels[x, middle])]
        found.append((mm_of(band[0]), mm_of(band[-1]), mm_of(xs[0]), mm_of(xs[-1])))
    return found


@needs_libreoffice
def test_g60_letter_mark_at_30_mm_and_its_170_mm_double_lines(rendered_letter: Path) -> None:
    mark, top_thick, top_thin, bottom_thin, bottom_thick = _red_lines(
        page_image(rendered_letter, 1, gray=False)
    )
    assert abs(mark[0] - 30) <= 1  # the mark's top edge 30 mm from the paper top
    assert abs(top_thick[0] - mark[1] - 4) <= 1  # the first double line 4 mm under it
    assert top_thick[1] - top_thick[0] > top_thin[1] - top_thin[0]  # 上粗下细
    assert bottom_thick[1] - bottom_thick[0] > bottom_thin[1] - bottom_thin[0]  # 上细下粗
    assert abs(297 - bottom_thick[1] - 20) <= 0.7  # 20 mm above the paper bottom
    for line in (top_thick, top_thin, bottom_thin, bottom_thick):
        assert abs(line[3] - line[2] - 170) <= 1


@needs_libreoffice
def test_g60_letter_page_one_has_no_page_number_and_page_two_has_one(rendered_letter: Path) -> None:
    assert page_count(rendered_letter) >= 2
    footer = [w for w in words(rendered_letter, 1) if w[1] / 72 * 25.4 > TEXT_BOTTOM_MM]
    assert footer == []
    assert [w[4] for w in words(rendered_letter, 2) if w[1] / 72 * 25.4 > TEXT_BOTTOM_MM] == ["—", "2", "—"]


@needs_libreoffice
def test_g26_the_seal_lies_centred_on_the_date_just_under_the_text(tmp_path: Path) -> None:
    from documents.gbt9704 import SealImage
    from tests.documents.gbt9704_reading import seal_png

    sealed = replace(
        DOWNWARD, attachments=[], remark="", seals=[SealImage("广东省人民政府办公厅", seal_png())]
    )
    pdf = tmp_path / "sealed.pdf"
    pdf.write_bytes(docx_to_pdf(render_docx(sealed)))
    page = page_count(pdf)
    image = page_image(pdf, page, gray=False)
    pixels = image.load()
    red = [
        (x, y)
        for y in range(0, image.height, 2)
        for x in range(0, image.width, 2)
        if (lambda p: p[0] > 180 and p[1] < 90 and p[2] < 90)(pixels[x, y])
    ]
    top, bottom = mm_of(min(y for _x, y in red)), mm_of(max(y for _x, y in red))
    left, right = mm_of(min(x for x, _y in red)), mm_of(max(x for x, _y in red))
    ring = 42 * 400 / 420  # the test impression's ring fills 400 of its 420 pixels
    assert abs(bottom - top - ring) <= 1 and abs(right - left - ring) <= 1
    assert left >= 28 and right <= 210 - 26  # inside the 版心
    lines = text_lines(pdf, page)
    date_top = next(t for t, text in lines if text == "2026年6月8日")
    date_words = [w for w in words(pdf, page) if abs(w[1] / 72 * 25.4 - date_top) < 1]
    date_left, date_right = date_words[0][0] / 72 * 25.4, date_words[-1][2] / 72 * 25.4
    assert abs((left + right) / 2 - (date_left + date_right) / 2) <= 2  # centred on the date
    assert abs(210 - 26 - date_right - 4 * 16 * 25.4 / 72) <= 1  # the date 右空四字
    body_bottom = max(t for t, text in lines if text.startswith("发生险情")) + 225 / 22
    assert 0 <= top - body_bottom <= 225 / 22  # the seal's top within one line of the text
    assert top < date_top < (top + bottom) / 2 + 225 / 22  # the date a little under the centre
