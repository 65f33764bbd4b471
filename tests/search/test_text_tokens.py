"""The embedded engine's tokens: CJK characters, CJK pairs, non-CJK words, segmented words."""

from __future__ import annotations

import sqlite3

from search.text import RUN_BREAK, index_tokens, normalize, query_match, query_term, runs, tokens


def test_normalize_turns_full_width_into_half_width_and_lowers_case() -> None:
    assert normalize("ＡＢＣ１２３（）") == "abc123()"


def test_runs_split_cjk_from_digits_and_drop_punctuation() -> None:
    assert runs(normalize("粤府办〔2026〕12号，Covid-19")) == [
        ("粤府办", True),
        ("2026", False),
        ("12", False),
        ("号", True),
        ("covid", False),
        ("19", False),
    ]


def test_index_tokens_give_characters_pairs_and_segmented_words() -> None:
    uni, bi, words = index_tokens("工业大数据平台")
    assert uni.split() == list("工业大数据平台")
    assert bi.split() == ["工业", "业大", "大数", "数据", "据平", "平台"]
    assert "工业" in words.split()


def test_pairs_of_two_runs_are_separated_so_a_phrase_cannot_span_punctuation() -> None:
    _, bi, _ = index_tokens("大数据，数据库")
    assert bi.split() == ["大数", "数据", RUN_BREAK, "数据", "据库"]


def test_single_character_runs_give_no_pairs_and_latin_words_stay_whole() -> None:
    uni, bi, _ = index_tokens("a 大 Office2026")
    assert uni.split() == ["a", "大", "office2026"]
    assert bi == ""
    assert tokens("防汛，工作") == ["防", "汛", "工", "作"]


def test_unicode61_keeps_each_space_separated_token_whole() -> None:
    # The scheme depends on it: a CJK pair and the run break must each stay one FTS5 token.
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='unicode61 remove_diacritics 0')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
    _, bi, _ = index_tokens("大数据，数据库 ab12")
    conn.execute("INSERT INTO t VALUES (?)", (bi,))
    assert {r[0] for r in conn.execute("SELECT term FROM v")} == {"大数", "数据", "据库", RUN_BREAK}


def test_query_of_one_character_searches_characters_and_longer_searches_pairs() -> None:
    assert query_term("台") == '{tu bu}: "台"'
    assert query_term("大数据", rank_words=False) == '{tb bb}: "大数 数据"'
    assert query_term("12号", rank_words=False) == '{tu bu}: "12" AND {tu bu}: "号"'


def test_fts5_operators_typed_by_a_user_are_only_quoted_text() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE fts USING fts5(tu, tb, tw, bu, bb, bw)")
    for raw in ['"', "*", "NEAR(", "AND", ":", "^", "OR x", "tu:a", "a*", "{tu}", '"a" OR "b"', "-", "NOT"]:
        expr = query_match((raw, "x"), (raw,), (raw,))
        assert expr is not None
        conn.execute("SELECT * FROM fts WHERE fts MATCH ?", (expr,)).fetchall()  # no syntax error
