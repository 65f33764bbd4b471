"""GB/T 9704 文件格式, 上行文 (请示/报告 with 签发人, G15): one test per X rule on the produced .docx."""

from __future__ import annotations

from dataclasses import replace

import pytest

from documents.errors import DocumentError
from documents.gbt9704 import render_docx
from tests.documents.gbt9704_reading import (
    FANGSONG,
    HEAD_CHECKS,
    KAITI,
    MAIN_CHECKS,
    NS,
    PAGE_CHECKS,
    PAGE_NUMBER_CHECKS,
    VERSION_BLOCK_CHECKS,
    Check,
    Docx,
    check_id,
    run_font,
    run_text,
    w,
)
from tests.documents.test_gbt9704_standard import SPEC as DOWNWARD

SPEC = replace(
    DOWNWARD,
    title="广东省人民政府办公厅关于申请2026年防汛专项经费的请示",
    upward=True,
    signers=["张三", "李四", "王五"],
    main_recipients="广东省人民政府",
)


@pytest.fixture(scope="module")
def produced() -> Docx:
    return Docx(render_docx(SPEC))


ALL = PAGE_CHECKS + HEAD_CHECKS + MAIN_CHECKS + VERSION_BLOCK_CHECKS + PAGE_NUMBER_CHECKS


@pytest.mark.parametrize("check", ALL, ids=check_id)
def test_an_upward_document_follows_rule(check: Check, produced: Docx) -> None:
    check(produced, SPEC)


def test_g15_signers_two_per_line_and_the_doc_number_shares_the_last_signer_line(produced: Docx) -> None:
    first = produced.para("签发人：")
    last = produced.paragraphs()[produced.index_of(first) + 1]
    assert first.text == "\t签发人：张三　李四"
    assert last.text == "粤府办〔2026〕12号\t　　　　王五"
    for line in (first, last):
        # 文号 left and 签发人 right, each with a one-character indent.
        assert line.indent("left") == 320 and line.indent("right") == 320
        assert line.el.find("w:pPr/w:tabs/w:tab", NS) is not None
        fonts = {run_text(r): run_font(r) for r in line.runs}
        assert all(size == 32 for size in (int(r.find("w:rPr/w:sz", NS).get(w("val"))) for r in line.runs))
    assert {run_text(r): run_font(r) for r in first.runs}["签发人："] == FANGSONG
    assert {run_text(r): run_font(r) for r in first.runs}["张三　李四"] == KAITI
    assert fonts["粤府办〔2026〕12号"] == FANGSONG
    assert fonts["王五"] == KAITI


def test_g15_one_signer_shares_the_doc_number_line() -> None:
    d = Docx(render_docx(replace(SPEC, signers=["张三"])))
    line = d.para("签发人：")
    assert line.text == "粤府办〔2026〕12号\t签发人：张三"


def test_g15_an_upward_document_without_a_signer_is_refused() -> None:
    with pytest.raises(DocumentError, match="G15"):
        render_docx(replace(SPEC, signers=[]))


def test_g16_the_red_line_under_the_signer_line_spans_the_text_area(produced: Docx) -> None:
    last = produced.para("^粤府办〔2026〕12号\t")
    rule = produced.paragraphs()[produced.index_of(last) + 1]
    border = rule.el.find("w:pPr/w:pBdr/w:top", NS)
    assert border.get(w("color")) == "FF0000"
    assert rule.indent("left") == 0 and rule.indent("right") == 0
    assert rule.text == ""


def test_g20_the_title_is_two_blank_lines_below_the_red_line(produced: Docx) -> None:
    paragraphs = produced.paragraphs()
    index = produced.index_of(produced.para("^" + SPEC.title + "$"))
    assert [p.text for p in paragraphs[index - 2 : index]] == ["", ""]
    assert paragraphs[index - 3].el.find("w:pPr/w:pBdr/w:top", NS) is not None
