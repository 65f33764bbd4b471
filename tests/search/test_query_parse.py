"""What the search box understands, and the message for each thing it refuses."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from search.interface import MAX_QUERY_CHARS, MAX_QUERY_TERMS, Filters, QueryError
from search.query import normalize_doc_number, parse, parse_filters


def _message(raw: str) -> str:
    with pytest.raises(QueryError) as exc:
        parse(raw)
    return exc.value.message


def test_empty_or_blank_query_asks_for_something() -> None:
    assert _message("") == "请输入要搜索的内容。"
    assert _message(" \u3000 ") == "请输入要搜索的内容。"


def test_only_punctuation_says_so() -> None:
    assert _message('，。！？ -- "" *') == "搜索内容只有标点符号，请输入文字或数字。"


def test_too_long_query_is_refused() -> None:
    assert _message("字" * (MAX_QUERY_CHARS + 1)) == f"搜索内容太长（最多 {MAX_QUERY_CHARS} 个字）。"
    assert parse("字" * MAX_QUERY_CHARS).terms


def test_too_many_terms_is_refused() -> None:
    raw = " ".join(f"词{i}" for i in range(MAX_QUERY_TERMS + 1))
    assert _message(raw) == f"搜索词太多（最多 {MAX_QUERY_TERMS} 个）。"
    assert len(parse(" ".join(f"词{i}" for i in range(MAX_QUERY_TERMS))).terms) == MAX_QUERY_TERMS


def test_only_exclusions_is_refused() -> None:
    assert _message("-防汛 -台风") == "请至少输入一个要查找的词（不能只有排除词）。"


def test_words_phrases_and_exclusions() -> None:
    q = parse('乡村振兴 资金 "防汛 工作" “应急 预案” -台风 -"暴雨 预警"')
    assert q.terms == ("乡村振兴", "资金")
    assert q.phrases == ("防汛 工作", "应急 预案")
    assert set(q.excluded) == {"台风", "暴雨 预警"}
    assert q.doc_number == ""


def test_terms_are_normalised_and_duplicates_dropped() -> None:
    assert parse("ＡＢＣ abc 防汛 防汛").terms == ("abc", "防汛")


def test_punctuation_only_words_are_dropped_beside_real_ones() -> None:
    assert parse("防汛 ， * NEAR( AND").terms == ("防汛", "near(", "and")


@pytest.mark.parametrize(
    "raw",
    [
        "粤府办〔2026〕12号",
        "粤府办[2026]12号",
        "粤府办(2026)12号",
        "粤府办（2026）12号",
        "粤府办【2026】12号",
        "粤府办［2026］12号",
        "粤府办〔２０２６〕１２号",
        "粤府办〔2026〕012号",
    ],
)
def test_doc_number_in_every_bracket_style_is_recognised_and_must_match(raw: str) -> None:
    q = parse(raw)
    assert q.doc_number == "粤府办〔2026〕12号"
    assert q.phrases == ("粤府办〔2026〕12号",)
    assert q.terms == ()


def test_doc_number_beside_other_words() -> None:
    q = parse("防汛 粤府办[2026]12号 通知")
    assert q.doc_number == "粤府办〔2026〕12号"
    assert q.terms == ("防汛", "通知")


def test_excluded_doc_number_is_not_the_one_to_rank_first() -> None:
    q = parse("通知 -粤府办[2026]12号")
    assert q.doc_number == ""
    assert q.excluded == ("粤府办〔2026〕12号",)


def test_normalize_doc_number_refuses_what_is_not_one() -> None:
    assert normalize_doc_number("粤府办〔２０２６〕１２号") == "粤府办〔2026〕12号"
    assert normalize_doc_number("防汛工作") == ""


def test_unclosed_quote_is_a_phrase_to_the_end() -> None:
    assert parse('通知 "防汛 工作').phrases == ("防汛 工作",)


def test_filters_from_a_query_string() -> None:
    f = parse_filters(
        QueryDict("kind=document&kind=message&agency=3&doc_type=notice&year=2026&status=issued")
    )
    assert f == Filters(
        kinds=("document", "message"),
        agency_ids=(3,),
        doc_types=("notice",),
        years=(2026,),
        statuses=("issued",),
    )


def test_empty_filter_values_are_ignored() -> None:
    assert parse_filters(QueryDict("kind=&agency=&year=")) == Filters()
    assert parse_filters({"kind": ["meeting"]}) == Filters(kinds=("meeting",))


@pytest.mark.parametrize(
    "qs",
    [
        "kind=person",
        "agency=abc",
        "agency=0",
        "agency=-1",
        "year=1900",
        "year=2101",
        "year=20x6",
        "doc_type=<x>",
    ],
)
def test_malformed_filter_is_refused(qs: str) -> None:
    with pytest.raises(QueryError) as exc:
        parse_filters(QueryDict(qs))
    assert exc.value.message == "筛选条件无效。"
