"""GB/T 9704 文件格式, 下行文: one test per X rule on the produced .docx (rule ids G01 …)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from documents.errors import NumberRuleBroken
from documents.gbt9704 import DocumentSpec, SealImage, render_docx
from tests.documents.gbt9704_reading import (
    HEAD_CHECKS,
    MAIN_CHECKS,
    NS,
    PAGE_CHECKS,
    PAGE_NUMBER_CHECKS,
    VERSION_BLOCK_CHECKS,
    WP,
    XIAOBIAOSONG,
    Check,
    Docx,
    Para,
    check_id,
    run_color,
    run_font,
    seal_png,
    w,
)

BODY = [
    {
        "kind": "p",
        "text": "为切实做好今年汛期防汛防台风工作，确保人民群众生命财产安全，现就有关事项通知如下。",
    },
    {"kind": "h1", "text": "一、提高思想认识"},
    {"kind": "p", "text": "各地各部门要充分认识防汛工作的重要性和紧迫性，压实各级责任。"},
    {"kind": "h2", "text": "（一）落实防汛责任制"},
    {"kind": "p", "text": "严格落实以行政首长负责制为核心的防汛责任制。"},
    {"kind": "h3", "text": "1.加强值班值守"},
    {"kind": "p", "text": "汛期实行24小时值班和领导带班制度。"},
    {"kind": "h4", "text": "（1）及时报送信息"},
    {"kind": "p", "text": "发生险情灾情要第一时间报告。"},
]

SPEC = DocumentSpec(
    title="广东省人民政府办公厅关于做好2026年防汛防台风工作的通知",
    layout="standard",
    copy_number="000123",
    classification="机密",
    secrecy_period="1年",
    urgency="特急",
    mark_texts=["广东省人民政府办公厅文件"],
    doc_number="粤府办〔2026〕12号",
    main_recipients="各地级以上市人民政府，省政府各部门、各直属机构",
    body=BODY,
    attachments=["2026年防汛责任人名单", "汛期值班安排表"],
    issuers=["广东省人民政府办公厅"],
    issued_on=date(2026, 6, 8),
    remark="此件公开发布",
    cc="省财政厅，省教育厅",
    printed_by="广东省人民政府办公厅",
    printed_on=date(2026, 6, 9),
)


@pytest.fixture(scope="module")
def produced() -> Docx:
    return Docx(render_docx(SPEC))


ALL = PAGE_CHECKS + HEAD_CHECKS + MAIN_CHECKS + VERSION_BLOCK_CHECKS + PAGE_NUMBER_CHECKS


@pytest.mark.parametrize("check", ALL, ids=check_id)
def test_a_downward_document_follows_rule(check: Check, produced: Docx) -> None:
    check(produced, SPEC)


def _exact_height(el: object) -> int:
    spacing = el.find("w:pPr/w:spacing", NS)  # type: ignore[attr-defined]
    assert spacing.get(w("lineRule")) == "exact"
    return int(spacing.get(w("line")))


def test_g13_the_mark_is_red_xiaobiaosong_centred_with_its_top_35_mm_below_the_text_area(
    produced: Docx,
) -> None:
    mark = produced.para("^广东省人民政府办公厅文件$")
    assert mark.align == "center"
    assert {run_font(r) for r in mark.runs} == {XIAOBIAOSONG}
    assert {run_color(r) for r in mark.runs} == {"FF0000"}
    above = produced.top_level()[: produced.top_level().index(mark.el)]
    assert abs(sum(_exact_height(p) for p in above) - 1984) <= 3  # 35 mm
    assert mark.line()[1] == "exact"


def test_g14_two_blank_lines_separate_the_mark_and_the_centred_doc_number(produced: Docx) -> None:
    paragraphs = produced.paragraphs()
    number = produced.para("^粤府办〔2026〕12号$")
    index = produced.index_of(number)
    assert number.align == "center"
    assert [p.text for p in paragraphs[index - 3 : index]] == ["广东省人民政府办公厅文件", "", ""]


@pytest.mark.parametrize(
    "bad", ["粤府办[2026]12号", "粤府办（2026）12号", "粤府办〔2026〕012号", "粤府办〔2026〕第12号"]
)
def test_g14_a_doc_number_in_the_wrong_form_is_refused_naming_the_rule(bad: str) -> None:
    with pytest.raises(NumberRuleBroken, match="G14"):
        render_docx(replace(SPEC, doc_number=bad))


def test_g10_a_copy_number_that_is_not_six_digits_is_refused() -> None:
    with pytest.raises(NumberRuleBroken, match="G10"):
        render_docx(replace(SPEC, copy_number="123"))


def test_g11_without_copy_number_the_classification_still_sits_on_line_2() -> None:
    d = Docx(render_docx(replace(SPEC, copy_number="")))
    assert d.paragraphs()[0].text == ""
    assert d.paragraphs()[1].text == "机密★1年"


def test_g16_a_red_full_width_line_runs_under_the_doc_number(produced: Docx) -> None:
    number = produced.para("^粤府办〔2026〕12号$")
    border = number.el.find("w:pPr/w:pBdr/w:bottom", NS)
    assert border.get(w("color")) == "FF0000"
    assert border.get(w("val")) == "single"
    assert number.indent("left") == 0 and number.indent("right") == 0  # 156 mm: the whole 版心
    assert int(border.get(w("space"))) > 0  # below the text, not through it


def test_g20_the_title_is_two_blank_lines_below_the_red_line(produced: Docx) -> None:
    paragraphs = produced.paragraphs()
    index = produced.index_of(produced.para("^" + SPEC.title + "$"))
    assert [p.text for p in paragraphs[index - 3 : index]] == ["粤府办〔2026〕12号", "", ""]
    for blank in paragraphs[index - 2 : index]:
        assert blank.line() == (579, "exact")  # explicit 28.95 pt lines, not w:before


def test_g27_unsealed_signature_right_two_characters_and_the_date_two_characters_further_in(
    produced: Docx,
) -> None:
    name = produced.para("^广东省人民政府办公厅$")
    day = produced.para("^2026年6月8日$")
    paragraphs = produced.paragraphs()
    assert paragraphs[produced.index_of(name) - 1].text == ""  # one blank line under 附件说明
    assert produced.index_of(day) == produced.index_of(name) + 1
    assert name.align == "right" and name.indent("right") == 640
    # Start of each line measured from the right edge: text width + right indent.
    name_start = name.indent("right") + 10 * 320
    day_start = day.indent("right") + 6 * 160 + 3 * 320
    assert name_start - day_start == 640
    assert not produced.anchors()


def test_g27_a_date_longer_than_the_signature_keeps_right_two_and_moves_the_signature() -> None:
    d = Docx(render_docx(replace(SPEC, issuers=["粤府办"], issued_on=date(2026, 12, 28))))
    name = d.para("^粤府办$")
    day = d.para("^2026年12月28日$")
    assert day.indent("right") == 640
    day_start = 640 + 8 * 160 + 3 * 320
    assert name.indent("right") + 3 * 320 - day_start == 640


def _width(text: str) -> int:
    """Printed width in twips with the standard faces: 3号 Chinese 320, digits half of it."""
    return sum(160 if c.isascii() else 320 for c in text)


def _anchor_x(anchor: Any) -> int:
    """The seal's left edge from the 版心 left, in twips. A seal anchored at a character of a
    right-aligned line (the date) is measured from where that character sits."""
    position = anchor.find(f"{{{WP}}}positionH")
    offset = int(position.find(f"{{{WP}}}posOffset").text) // 635
    if position.get("relativeFrom") == "margin":
        return offset
    assert position.get("relativeFrom") == "character"
    run = next(anchor.iterancestors(w("r")))
    paragraph = Para(next(anchor.iterancestors(w("p"))))
    assert paragraph.align == "right"
    before = "".join(t.text or "" for r in run.itersiblings(w("r"), preceding=True) for t in r.iter(w("t")))
    start = 8845 - paragraph.indent("right") - _width(paragraph.text)
    return start + _width(before) + offset


def _top_of(d: Docx, paragraph: object) -> int:
    """Distance from the 版心 top of a top-level paragraph: every paragraph has an exact height."""
    total = 0
    for el in d.top_level():
        if el is paragraph:
            return total
        total += _exact_height(el)
    raise AssertionError("not a top-level paragraph")


def _anchor_y(d: Docx, anchor: object) -> int:
    offset = anchor.find(f"{{{WP}}}positionV/{{{WP}}}posOffset")  # type: ignore[attr-defined]
    paragraph = next(p for p in anchor.iterancestors(w("p")))  # type: ignore[attr-defined]
    return _top_of(d, paragraph) + int(offset.text) // 635


def test_g26_sealed_date_right_four_characters_with_the_seal_centred_on_it() -> None:
    sealed = replace(SPEC, seals=[SealImage("广东省人民政府办公厅", seal_png())])
    d = Docx(render_docx(sealed))
    day = d.para("^2026年6月8日$")
    assert day.indent("rightChars") == 400 and day.indent("right") == 1280
    anchors = d.anchors()
    assert len(anchors) == 1
    anchor = anchors[0]
    assert anchor.find(f"{{{WP}}}wrapNone") is not None
    assert anchor.get("behindDoc") == "0"
    diameter = int(anchor.find(f"{{{WP}}}extent").get("cx")) // 635
    day_width = 6 * 160 + 3 * 320
    day_centre = 8845 - 1280 - day_width // 2
    assert abs(_anchor_x(anchor) + diameter // 2 - day_centre) <= 160
    # Anchored in the date at its middle character, so it follows the date's real width.
    assert next(anchor.iterancestors(w("p"))) is day.el
    assert anchor.find(f"{{{WP}}}positionH").get("relativeFrom") == "character"
    name = d.para("广东省人民政府办公厅$")
    assert d.index_of(day) == d.index_of(name) + 1
    # 居中下压署名和日期: the seal's centre a little above the middle of the two lines; its top
    # within one line of the 附件说明 above.
    centre = _anchor_y(d, anchor) + diameter // 2
    assert _top_of(d, name.el) < centre < _top_of(d, day.el)
    last_text = d.para("^2\\.汛期值班安排表$")
    gap = _anchor_y(d, anchor) - (_top_of(d, last_text.el) + 579)
    assert 0 <= gap <= 579


def test_g26_joint_seals_one_per_signature_never_overlap_and_stay_inside_the_text_area() -> None:
    issuers = ["广东省人民政府办公厅", "广东省财政厅", "广东省教育厅"]
    joint = replace(SPEC, issuers=issuers, seals=[SealImage(n, seal_png()) for n in issuers])
    d = Docx(render_docx(joint))
    anchors = d.anchors()
    assert len(anchors) == 3
    names = [a.find(f"{{{WP}}}docPr").get("name") for a in anchors]
    assert names == [f"印章 {n}" for n in issuers]
    diameter = int(anchors[0].find(f"{{{WP}}}extent").get("cx")) // 635
    boxes = [(_anchor_x(a), _anchor_y(d, a)) for a in anchors]
    for i, (x1, y1) in enumerate(boxes):
        for x2, y2 in boxes[i + 1 :]:
            assert abs(x1 - x2) > diameter or abs(y1 - y2) > diameter  # not touching
        assert x1 >= 0 and x1 + diameter <= 8845
    # The 署名 under the seals never run together: centre tabs at least one name apart.
    for paragraph in {a.getparent().getparent().getparent() for a in anchors}:
        centres = sorted(int(t.get(w("pos"))) for t in paragraph.findall("w:pPr/w:tabs/w:tab", NS))
        for left, right in zip(centres, centres[1:], strict=False):
            assert right - left > 10 * 320
    # The last seal covers the date.
    day = d.para("^2026年6月8日$")
    day_centre = 8845 - 1280 - (6 * 160 + 3 * 320) // 2
    assert abs(boxes[-1][0] + diameter // 2 - day_centre) <= 160
    assert boxes[-1][1] < _top_of(d, day.el) < boxes[-1][1] + diameter


def test_g13_a_joint_mark_lists_the_issuers_with_the_suffix_at_the_right_centred_vertically() -> None:
    joint = replace(
        SPEC,
        mark_texts=["广东省人民政府办公厅", "广东省财政厅"],
        issuers=["广东省人民政府办公厅", "广东省财政厅"],
    )
    d = Docx(render_docx(joint))
    table = next(d.body.iter(w("tbl")))
    cells = table.findall("w:tr/w:tc", NS)
    assert ["".join(t.text for t in p.iter(w("t"))) for p in cells[0].findall("w:p", NS)] == [
        "广东省人民政府办公厅",
        "广东省财政厅",
    ]
    assert "".join(t.text for t in cells[1].iter(w("t"))) == "文件"
    assert cells[1].find("w:tcPr/w:vAlign", NS).get(w("val")) == "center"
    for run in table.iter(w("r")):
        assert run_color(run) == "FF0000"


def test_g22_the_body_follows_the_head_so_page_one_shows_text(produced: Docx) -> None:
    # Page 1 holds 3 + 1.3 + 3 head lines, 2 blank, title, blank, 主送: 正文 starts on line ≤ 13 of 22.
    lines = 0
    for el in produced.top_level():
        if el.tag == w("p") and "".join(t.text or "" for t in el.iter(w("t"))) == BODY[0]["text"]:
            break
        lines += _exact_height(el)
    assert lines < 13 * 579
    assert not re.search("pageBreakBefore", "".join(el.tag for el in produced.top_level()[:20]))
