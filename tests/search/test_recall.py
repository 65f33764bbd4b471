"""Recall: on generated text from a small alphabet (so every term occurs often, inside longer runs
and next to punctuation), the embedded engine finds exactly what a brute-force substring scan finds,
for random terms of one to four CJK characters (issue 9: 100%)."""

from __future__ import annotations

import random

from search.engines.embedded import EmbeddedEngine
from search.interface import IndexDoc, ParsedQuery, SearchQuery
from search.text import normalize
from tests.search.conftest import make_doc

ALPHABET = "防汛台风大数据平"
NOISE = ["，", "。", " ", "ab", "12", "\n"]


def _text(rng: random.Random, n: int) -> str:
    out: list[str] = []
    for _ in range(n):
        out.append(rng.choice(NOISE) if rng.random() < 0.12 else rng.choice(ALPHABET))
    return "".join(out)


def _corpus(rng: random.Random, n: int) -> list[IndexDoc]:
    return [
        make_doc(
            key=f"document:{i}",
            title=_text(rng, rng.randint(0, 10)),
            body=_text(rng, rng.randint(0, 60)),
            principals={"u:1"} if i % 3 else {"u:2"},
        )
        for i in range(n)
    ]


def _brute_force(docs: list[IndexDoc], term: str, principal: str | None = None) -> set[str]:
    return {
        d.key
        for d in docs
        if (term in normalize(d.title) or term in normalize(d.body))
        and (principal is None or principal in d.principals)
    }


def test_one_to_four_character_terms_are_found_exactly_where_a_substring_scan_finds_them(
    embedded_engine: EmbeddedEngine,
) -> None:
    rng = random.Random(20260309)
    docs = _corpus(rng, 3000)
    embedded_engine.index(docs)
    terms = {
        "".join(rng.choice(ALPHABET) for _ in range(length)) for length in (1, 2, 3, 4) for _ in range(30)
    }
    for term in sorted(terms):
        expected = _brute_force(docs, term)
        assert embedded_engine.matching_keys_unfiltered((term,)) == expected, term
        visible = _brute_force(docs, term, "u:1")
        results = embedded_engine.search(
            SearchQuery(parsed=ParsedQuery(raw=term, terms=(term,)), principals={"u:1": None}, per_page=3000)
        )
        assert {h.key for h in results.hits} == visible, term
        assert results.total == len(visible), term


def test_two_terms_together_are_found_where_both_substrings_are(embedded_engine: EmbeddedEngine) -> None:
    rng = random.Random(7)
    docs = _corpus(rng, 1500)
    embedded_engine.index(docs)
    for _ in range(40):
        a = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 3)))
        b = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(2, 4)))
        expected = _brute_force(docs, a) & _brute_force(docs, b)
        assert embedded_engine.matching_keys_unfiltered((a, b)) == expected, (a, b)
