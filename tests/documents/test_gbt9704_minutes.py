"""GB/T 9704 纪要格式 (G62): one test per X rule on the produced .docx."""

from __future__ import annotations

from dataclasses import replace

import pytest

from documents.gbt9704 import render_docx
from tests.documents.gbt9704_reading import (
    FANGSONG,
    HEITI,
    MAIN_CHECKS,
    PAGE_CHECKS,
    PAGE_NUMBER_CHECKS,
    VERSION_BLOCK_CHECKS,
    XIAOBIAOSONG,
    Check,
    Docx,
    check_g10_copy_number_is_six_digits_top_left,
    check_g14_doc_number_form,
    check_id,
    run_color,
    run_font,
    run_size,
    run_text,
)
from tests.documents.test_gbt9704_standard import SPEC as DOWNWARD

SPEC = replace(
    DOWNWARD,
    layout="minutes",
    title="省政府办公厅2026年防汛工作专题会议纪要",
    classification="",
    secrecy_period="",
    urgency="",
    mark_texts=["广东省人民政府办公厅纪要"],
    doc_number="粤府办纪〔2026〕3号",
    main_recipients="",
    attendees=["张三", "李四", "王五", "赵六", "钱七", "孙八", "周九", "吴十", "郑十一", "冯十二", "陈十三"],
    on_leave=["褚十四"],
    observers=["卫十五", "蒋十六"],
)
# 纪要 carry no 署名 or seal: the date and the 附注 rules are checked where they apply.
MINUTES_MAIN = [
    c
    for c in MAIN_CHECKS
    if c.__name__
    not in {"check_g21_main_recipients_one_line_below_title_ending_with_colon", "check_g29_issued_on_form"}
]


@pytest.fixture(scope="module")
def produced() -> Docx:
    return Docx(render_docx(SPEC))


ALL = (
    PAGE_CHECKS
    + [check_g10_copy_number_is_six_digits_top_left, check_g14_doc_number_form]
    + MINUTES_MAIN
    + VERSION_BLOCK_CHECKS
    + PAGE_NUMBER_CHECKS
)


@pytest.mark.parametrize("check", ALL, ids=check_id)
def test_minutes_follow_rule(check: Check, produced: Docx) -> None:
    check(produced, SPEC)


def test_g62_the_mark_ends_with_jiyao_in_red_xiaobiaosong(produced: Docx) -> None:
    mark = produced.para("纪要$")
    assert mark.text == "广东省人民政府办公厅纪要"
    assert mark.align == "center"
    assert {run_font(r) for r in mark.runs} == {XIAOBIAOSONG}
    assert {run_color(r) for r in mark.runs} == {"FF0000"}


def test_g62_attendance_lines_follow_the_text_with_heiti_labels_and_aligned_wraps(produced: Docx) -> None:
    paragraphs = produced.paragraphs()
    present = produced.para("^出席：")
    index = produced.index_of(present)
    assert paragraphs[index - 1].text == ""  # one line below 正文/附件说明
    assert paragraphs[index - 2].text.startswith("2.")  # the last 附件说明 line
    lines = paragraphs[index : index + 3]
    assert [p.text.split("：")[0] for p in lines] == ["出席", "请假", "列席"]
    assert lines[0].text == "出席：" + "，".join(SPEC.attendees)
    for line in lines:
        label, colon, names = line.runs
        assert run_font(label) == HEITI and run_text(label) in ("出席", "请假", "列席")
        assert run_text(colon) == "："
        assert run_font(names) == FANGSONG
        assert {run_size(r) for r in line.runs} == {32}
        # 左空二字; wrapped names align after the colon (hanging indent = label + colon).
        assert line.indent("hanging") == 3 * 320
        assert line.indent("left") - line.indent("hanging") == 640


def test_g62_minutes_without_someone_on_leave_skip_that_line() -> None:
    d = Docx(render_docx(replace(SPEC, on_leave=[])))
    assert [p.text.split("：")[0] for p in d.paragraphs() if p.text.startswith(("出席", "请假", "列席"))] == [
        "出席",
        "列席",
    ]
