"""Text as the embedded engine indexes and queries it (Elasticsearch analyses text itself).

Measured on 1,000,000 documents (issue 9): SQLite's trigram tokenizer finds nothing for one- and
two-character terms, and jieba-segmented words lose words inside longer words (台风 is not found
inside 防汛防台风). So, like Elasticsearch's `cjk` analyzer, we index every CJK character ("uni")
and every pair of neighbouring CJK characters ("bi"); a query of n >= 2 CJK characters is the
phrase of its n-1 pairs, which occurs exactly where the string occurs: substring matching, 100%
recall. Words segmented by rjieba go in a third column ("words") that only adds to the ranking.

Tokens are emitted space-separated and FTS5's `unicode61` tokenizer splits on the spaces: a CJK
pair is letters only, so unicode61 keeps it as one token (checked in tests/search/test_text_tokens.py).
"""

from __future__ import annotations

import re
import unicodedata

import rjieba

# Put between the pairs of two CJK runs in the "bi" column so that a phrase of pairs cannot match
# across punctuation: without it 大数据，数据库 would match 据数 ... A private-use character: our
# tokeniser never emits it from user text (it is not alphanumeric) and unicode61 keeps it as a token.
RUN_BREAK = "\ue000"


def normalize(text: str) -> str:
    """NFKC (full-width letters, digits and brackets become half-width) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


# Han ideographs (with extensions and compatibility forms), 〇, kana and hangul: scripts written
# without spaces between words, indexed by character and character pair.
CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3007\u3040-\u30ff\uac00-\ud7af\U00020000-\U0003134f"
_CJK = re.compile(f"[{CJK_RANGES}]")
_CJK_WORD = re.compile(f"[{CJK_RANGES}]+")
_RUN = re.compile(r"[^\W_]+")  # alphanumeric: everything else separates
_PARTS = re.compile(f"([{CJK_RANGES}]+)|[^{CJK_RANGES}]+")  # inside a run: CJK and non-CJK parts


def is_cjk(ch: str) -> bool:
    return _CJK.match(ch) is not None


def runs(normalized: str) -> list[tuple[str, bool]]:
    """Maximal runs of alphanumeric characters, each split into CJK and non-CJK parts, in order:
    "粤府办2026年" -> [("粤府办", True), ("2026", False), ("年", True)]. Punctuation separates."""
    return [
        (part.group(), part.group(1) is not None)
        for run in _RUN.finditer(normalized)
        for part in _PARTS.finditer(run.group())
    ]


def tokens(text: str) -> list[str]:
    """The "uni" tokens of text, in order: each CJK character and each non-CJK word."""
    out: list[str] = []
    for run, cjk in runs(normalize(text)):
        if cjk:
            out.extend(run)
        else:
            out.append(run)
    return out


def index_tokens(text: str) -> tuple[str, str, str]:
    """(uni, bi, words) columns for one text, each space-separated tokens."""
    norm = normalize(text)
    uni: list[str] = []
    bi: list[str] = []
    for run, cjk in runs(norm):
        if not cjk:
            uni.append(run)
            continue
        uni.extend(run)
        if len(run) > 1:
            if bi:
                bi.append(RUN_BREAK)
            bi.extend([a + b for a, b in zip(run, run[1:], strict=False)])
    words = [w for w in rjieba.cut(norm) if len(w) > 1 and _CJK_WORD.fullmatch(w)]
    return " ".join(uni), " ".join(bi), " ".join(words)


# --- queries ---------------------------------------------------------------------------------
# Every token goes into the MATCH expression inside double quotes; tokens are alphanumeric runs,
# so they can hold no quote, and FTS5 operators (AND, NEAR(, *, ^, :) typed by a user are only
# ever text inside a string: FTS5 syntax injection is impossible by construction.

UNI = "{tu bu}"
BI = "{tb bb}"
WORDS = "{tw bw}"


def _q(*toks: str) -> str:
    return '"' + " ".join(t.replace('"', '""') for t in toks) + '"'


def query_term(term: str, *, rank_words: bool = True) -> str | None:
    """FTS5 expression for a term with substring semantics for CJK: each run of the term must
    occur (a one-character run in the uni column, a longer one as the phrase of its pairs);
    non-CJK words must occur as words. Runs are ANDed, so "12号" finds 12 and 号 wherever they
    are. With rank_words, a CJK run is ORed with the same string as a segmented word: it matches
    only documents the pairs match already, and adds the words column's weight to their score."""
    parts: list[str] = []
    for run, cjk in runs(normalize(term)):
        if not cjk or len(run) == 1:
            parts.append(f"{UNI}: {_q(run)}")
        else:
            pairs = f"{BI}: {_q(*(run[i : i + 2] for i in range(len(run) - 1)))}"
            parts.append(f"({pairs} OR {WORDS}: {_q(run)})" if rank_words else pairs)
    if not parts:
        return None
    return " AND ".join(parts)


def query_phrase(phrase: str) -> str | None:
    """The phrase's tokens consecutive in one column, punctuation ignored."""
    toks = tokens(phrase)
    if not toks:
        return None
    return f"{UNI}: {_q(*toks)}"


def query_match(terms: tuple[str, ...], phrases: tuple[str, ...], excluded: tuple[str, ...]) -> str | None:
    """The whole MATCH expression, or None when nothing positive is left to look for."""
    positive = [e for e in (*(query_term(t) for t in terms), *(query_phrase(p) for p in phrases)) if e]
    if not positive:
        return None
    expr = " AND ".join(f"({e})" for e in positive)
    for ex in excluded:
        # One run (-台风, -covid): substring semantics like a term. Several runs (-12号, -"防汛 工作"):
        # the runs in that order, as a phrase, so that only that sequence is excluded.
        neg = query_phrase(ex) if len(runs(normalize(ex))) > 1 else query_term(ex, rank_words=False)
        if neg:
            expr = f"({expr}) NOT ({neg})"
    return expr


def query_prefix(prefix: str) -> str | None:
    """For suggestions: like query_term on titles, the last non-CJK word matched as a prefix."""
    rs = runs(normalize(prefix))
    parts: list[str] = []
    for i, (run, cjk) in enumerate(rs):
        if not cjk:
            star = " *" if i == len(rs) - 1 else ""
            parts.append(f"{{tu}}: {_q(run)}{star}")
        elif len(run) == 1:
            parts.append(f"{{tu}}: {_q(run)}")
        else:
            parts.append(f"{{tb}}: {_q(*(run[i : i + 2] for i in range(len(run) - 1)))}")
    return " AND ".join(parts) if parts else None
