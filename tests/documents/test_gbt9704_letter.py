"""GB/T 9704 信函格式 (函, G60): one test per X rule on the produced .docx."""

from __future__ import annotations

from dataclasses import replace

import pytest

from documents.gbt9704 import render_docx
from tests.documents.gbt9704_reading import (
    HEAD_CHECKS,
    MAIN_CHECKS,
    NS,
    PAGE_CHECKS,
    PAGE_NUMBER_CHECKS,
    WP,
    XIAOBIAOSONG,
    Check,
    Docx,
    Para,
    check_g41_cc_line,
    check_id,
    run_color,
    run_font,
    text_of,
    w,
)
from tests.documents.test_gbt9704_standard import SPEC as DOWNWARD

SPEC = replace(
    DOWNWARD,
    layout="letter",
    title="广东省人民政府办公厅关于商请支持2026年防汛工作的函",
    mark_texts=["广东省人民政府办公厅"],
    doc_number="粤府办函〔2026〕5号",
    main_recipients="广东省财政厅",
)
LETTER_LINE = 170 * 56.6929


@pytest.fixture(scope="module")
def produced() -> Docx:
    return Docx(render_docx(SPEC))


ALL = PAGE_CHECKS + HEAD_CHECKS + MAIN_CHECKS + [check_g41_cc_line] + PAGE_NUMBER_CHECKS


@pytest.mark.parametrize("check", ALL, ids=check_id)
def test_a_letter_follows_rule(check: Check, produced: Docx) -> None:
    check(produced, SPEC)


def test_g60_the_mark_starts_30_mm_from_the_paper_top_in_red_xiaobiaosong(produced: Docx) -> None:
    assert produced.sectpr.find("w:titlePg", NS) is not None
    assert abs(int(produced.sect("w:pgMar", "header")) - 1701) <= 3  # 30 mm
    header = produced.header("first")
    mark = Para(header.find("w:p", NS))
    assert mark.text == "广东省人民政府办公厅"
    assert mark.align == "center"
    assert mark.line()[1] == "exact"
    runs = mark.runs
    assert {run_font(r) for r in runs} == {XIAOBIAOSONG}
    assert {run_color(r) for r in runs} == {"FF0000"}


def test_g60_a_red_double_line_170_mm_thick_over_thin_4_mm_under_the_mark(produced: Docx) -> None:
    paragraph = Para(produced.header("first").find("w:p", NS))
    border = paragraph.el.find("w:pPr/w:pBdr/w:bottom", NS)
    assert border.get(w("val")) == "thickThinSmallGap"
    assert border.get(w("color")) == "FF0000"
    width = 8845 - paragraph.indent("left") - paragraph.indent("right")
    assert abs(width - LETTER_LINE) <= 3
    assert paragraph.indent("left") == paragraph.indent("right")  # centred on the 版心


def test_g60_a_red_double_line_170_mm_thin_over_thick_20_mm_above_the_paper_bottom(produced: Docx) -> None:
    footer = produced.footer("first")
    border = footer.find(".//w:txbxContent/w:p/w:pPr/w:pBdr/w:bottom", NS)
    assert border.get(w("val")) == "thinThickSmallGap"
    assert border.get(w("color")) == "FF0000"
    box = next(footer.iter(f"{{{WP}}}anchor"))
    assert box.find(f"{{{WP}}}positionV", NS).get("relativeFrom") == "page"
    y = int(box.find(f"{{{WP}}}positionV/{{{WP}}}posOffset", NS).text) // 635
    x = int(box.find(f"{{{WP}}}positionH/{{{WP}}}posOffset", NS).text) // 635
    cx = int(box.find(f"{{{WP}}}extent", NS).get("cx")) // 635
    cy = int(box.find(f"{{{WP}}}extent", NS).get("cy")) // 635
    assert abs(cx - LETTER_LINE) <= 3
    assert abs(x + cx / 2 - 11906 / 2) <= 3  # centred on the paper
    assert abs(16838 - (y + cy) - 20 * 56.6929) <= 3  # its lower edge 20 mm above the paper bottom


def test_g60_page_one_has_no_page_number(produced: Docx) -> None:
    assert "PAGE" not in text_of(produced.footer("first"))
    assert "PAGE" in text_of(produced.footer("default"))


def test_g60_the_doc_number_is_flush_right_on_the_first_line_under_the_red_line(produced: Docx) -> None:
    first = produced.paragraphs()[0]
    assert first.text == "000123\t粤府办函〔2026〕5号"
    tab = first.el.find("w:pPr/w:tabs/w:tab", NS)
    assert tab.get(w("val")) == "right"
    assert abs(int(tab.get(w("pos"))) - 8845) <= 2


def test_g60_the_title_is_two_lines_below_the_last_head_element(produced: Docx) -> None:
    paragraphs = produced.paragraphs()
    index = produced.index_of(produced.para("^" + SPEC.title + "$"))
    assert [p.text for p in paragraphs[index - 3 : index]] == ["特急", "", ""]


def test_g60_the_version_block_has_no_printer_line_and_no_rules(produced: Docx) -> None:
    assert not [p for p in produced.paragraphs() if p.text.endswith("印发")]
    table = next(t for t in produced.body.iter(w("tbl")) if "抄送：" in text_of(t))
    borders = table.find("w:tblPr/w:tblBorders", NS)
    for side in ("top", "bottom", "insideH"):
        assert borders.find(f"w:{side}", NS).get(w("val")) == "nil"
