"""Highlights: escaped HTML with <mark> around each term and phrase, never around excluded words."""

from __future__ import annotations

from search.highlight import highlight, mark, snippet
from search.query import parse


def test_title_with_markup_comes_back_escaped() -> None:
    html = mark("<script>alert(1)</script>防汛通知", parse("防汛"))
    assert html == "&lt;script&gt;alert(1)&lt;/script&gt;<mark>防汛</mark>通知"


def test_every_occurrence_of_every_term_is_marked_case_and_width_insensitively() -> None:
    html = mark("防汛 ABC 防汛 ａｂｃ abcd", parse("防汛 abc"))
    assert html == "<mark>防汛</mark> <mark>ABC</mark> <mark>防汛</mark> <mark>ａｂｃ</mark> abcd"


def test_phrase_is_marked_across_punctuation_as_one() -> None:
    assert mark("做好防汛，工作安排", parse('"防汛 工作"')) == "做好<mark>防汛，工作</mark>安排"


def test_doc_number_is_marked_whatever_its_brackets() -> None:
    assert mark("见粤府办[2026]12号文", parse("粤府办〔2026〕12号")) == "见<mark>粤府办[2026]12号</mark>文"


def test_excluded_words_are_never_marked() -> None:
    assert mark("台风 防汛", parse("防汛 -台风")) == "台风 <mark>防汛</mark>"


def test_snippet_is_cut_around_the_first_match() -> None:
    text = "甲" * 300 + "台风" + "乙" * 300
    html = snippet(text, parse("台风"), snippet_chars=40)
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>台风</mark>" in html
    assert len(html.replace("<mark>", "").replace("</mark>", "")) == 42


def test_snippet_without_a_match_is_the_beginning() -> None:
    assert snippet("短文本 & 说明", parse("防汛")) == "短文本 &amp; 说明"


def test_highlight_gives_a_snippet_or_the_whole_text() -> None:
    text = "甲" * 200 + "台风"
    assert highlight(text, parse("台风"), snippet_chars=None) == mark(text, parse("台风"))
    assert highlight(text, parse("台风")) == snippet(text, parse("台风"), snippet_chars=120)


def test_characters_that_normalise_to_several_keep_the_original_text_around_marks() -> None:
    # ㈠ is "(一)" after NFKC: the marks must still fall on the original characters.
    assert mark("㈠防汛ＡＢ工作", parse("防汛 ab")) == "㈠<mark>防汛</mark><mark>ＡＢ</mark>工作"


def test_a_long_attachment_is_highlighted_quickly() -> None:
    import time

    text = ("各单位，请做好准备。" * 20_000) + "防汛"
    started = time.perf_counter()
    for _ in range(20):  # a page of results
        assert snippet("防汛" + text, parse("防汛")).startswith("<mark>防汛</mark>")
        assert "<mark>" not in snippet(text, parse("防汛"))  # beyond SNIPPET_SCAN_CHARS: the beginning
    assert time.perf_counter() - started < 1.0


def test_a_match_across_a_chunk_boundary_is_found() -> None:
    text = "甲" * 3999 + "防汛" + "乙" * 5000
    assert "<mark>防汛</mark>" in snippet(text, parse("防汛"), snippet_chars=40)
