"""痕迹 between versions, and which changes at 复核 send a document back to the signer."""

from __future__ import annotations

from typing import Any

import pytest

from documents.diffing import change_counts, diff_html, diff_versions, is_substantive
from documents.versions import save_version
from tests.documents.factories import make_document


def test_a_changed_word_shows_as_one_deletion_and_one_insertion() -> None:
    ops = diff_versions("各地要加强值班值守。", "各地要严格值班值守。")

    assert ("delete", "加强") in ops
    assert ("insert", "严格") in ops
    assert "".join(t for op, t in ops if op != "insert") == "各地要加强值班值守。"
    assert "".join(t for op, t in ops if op != "delete") == "各地要严格值班值守。"


def test_versions_of_a_document_are_compared_block_by_block(cast: Any) -> None:
    document = make_document(
        cast, body=[{"kind": "h1", "text": "一、总体要求"}, {"kind": "p", "text": "认真落实。"}]
    )
    first = document.current_version
    second = save_version(
        document,
        actor=cast.drafter,
        body=[{"kind": "h1", "text": "一、总体要求"}, {"kind": "p", "text": "认真贯彻落实。"}],
        based_on=1,
    )

    ops = diff_versions(first, second)

    assert ("insert", "贯彻") in ops
    assert change_counts(ops) == (2, 0)


def test_the_html_marks_insertions_and_deletions_and_escapes_the_text() -> None:
    html = diff_html(diff_versions("原文", "原文<script>alert(1)</script>"))

    assert "<script>" not in html
    assert "<ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>" in html
    html = diff_html(diff_versions("<b>原文</b>", "新文"))
    assert "<b>" not in html
    assert "<ins>" in html and "<del>" in html


def test_line_breaks_between_blocks_survive_in_the_html() -> None:
    html = diff_html(diff_versions("第一段\n第二段", "第一段\n第二段\n第三段"))

    assert "<br>" in html and "第三段" in html


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("各地要加强值班值守。", "各地要加强值班值守；"),
        ("各地要加强值班值守。", "各地要加强 值班值守。"),
        ("报送时间为2026年", "报送时间为２０２６年"),
        ("一、总体要求", "一．总体要求"),
    ],
)
def test_punctuation_or_whitespace_only_changes_are_not_substantive(old: str, new: str) -> None:
    assert not is_substantive(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("经费为100万元。", "经费为1000万元。"),
        ("各地要加强值班值守。", "各地要加强值班。"),
        ("请于7月1日前报送。", "请于7月1日前报送省政府。"),
        ("不得迟报。", "不得迟报、漏报。"),
    ],
)
def test_a_changed_word_or_figure_is_substantive(old: str, new: str) -> None:
    assert is_substantive(old, new)


def test_bodies_are_compared_by_their_text() -> None:
    old = [{"kind": "p", "text": "认真落实。"}]

    assert not is_substantive(old, [{"kind": "p", "text": "认真落实！"}])
    assert is_substantive(old, [{"kind": "p", "text": "认真贯彻落实。"}])
