"""Highlighting on the stored original text, shared by both engines: the text is HTML-escaped and
every occurrence of each term and phrase of the query is wrapped in <mark>, matched after NFKC and
lower-casing (so ＡＢＣ and abc both light up for abc). Excluded words are never marked.

Matching mirrors the embedded engine: a CJK run matches as a substring, a non-CJK word only as a
whole word, and the parts of a phrase (or of a mixed term such as 12号) may be separated by
punctuation or spaces.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from html import escape

from search.interface import ParsedQuery
from search.text import normalize, runs

ELLIPSIS = "…"


def _normalized_with_map(text: str) -> tuple[str, list[int]]:
    """Text normalised character by character, and for each normalised character the index of the
    original character it came from (NFKC may turn one character into several: ㈠ -> (一))."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        n = unicodedata.normalize("NFKC", ch).lower() if not ch.isascii() else ch.lower()
        out.append(n)
        where.extend([i] * len(n))
    return "".join(out), where


_SEP = r"[\W_]*"
# A non-CJK word character (search.text.is_cjk's ranges excluded): "12" is a word in "12号".
_LATIN = r"[^\W_\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0003134f\uf900-\ufaff\u3007\u3040-\u30ff\uac00-\ud7af]"


def _run_pattern(run: str, cjk: bool) -> str:
    if cjk:
        return re.escape(run)
    # Whole words only, as the engine matches them: "ab" does not light up inside "abc".
    return rf"(?<!{_LATIN}){re.escape(run)}(?!{_LATIN})"


def _sequence_pattern(text: str) -> str | None:
    parts = [_run_pattern(run, cjk) for run, cjk in runs(normalize(text))]
    return _SEP.join(parts) if parts else None


@lru_cache(maxsize=256)
def _pattern(terms: tuple[str, ...], phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    alternatives: list[str] = []
    for phrase in phrases:
        if p := _sequence_pattern(phrase):
            alternatives.append(p)
    for term in terms:
        if p := _sequence_pattern(term):
            alternatives.append(p)
        term_runs = runs(normalize(term))
        if len(term_runs) > 1:  # the engine ANDs a mixed term's parts: each part may stand alone
            alternatives.extend(_run_pattern(run, cjk) for run, cjk in term_runs)
    if not alternatives:
        return None
    # Longest alternative first, so the phrase wins over a shorter term at the same place.
    alternatives.sort(key=len, reverse=True)
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def _spans(text: str, parsed: ParsedQuery) -> list[tuple[int, int]]:
    """Match spans in the original text's indices, in order, not overlapping."""
    pattern = _pattern(parsed.terms, parsed.phrases)
    if pattern is None or not text:
        return []
    norm, where = _normalized_with_map(text)
    spans: list[tuple[int, int]] = []
    for m in pattern.finditer(norm):
        if m.end() == m.start():
            continue
        start, end = where[m.start()], where[m.end() - 1] + 1
        if spans and start < spans[-1][1]:
            continue
        spans.append((start, end))
    return spans


def _render(text: str, spans: list[tuple[int, int]], lo: int, hi: int) -> str:
    out: list[str] = []
    pos = lo
    for start, end in spans:
        start, end = max(start, lo), min(end, hi)
        if end <= start:
            continue
        out.append(escape(text[pos:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        pos = end
    out.append(escape(text[pos:hi]))
    return "".join(out)


def mark(text: str, parsed: ParsedQuery) -> str:
    """The whole text, escaped, with every match marked (titles)."""
    return _render(text, _spans(text, parsed), 0, len(text))


def snippet(text: str, parsed: ParsedQuery, *, snippet_chars: int = 120) -> str:
    """About snippet_chars of the text around its first match (its beginning when nothing
    matches), escaped and marked, with … where it was cut."""
    spans = _spans(text, parsed)
    if len(text) <= snippet_chars:
        lo, hi = 0, len(text)
    else:
        first = spans[0][0] if spans else 0
        lo = max(0, min(first - snippet_chars // 4, len(text) - snippet_chars))
        hi = min(len(text), lo + snippet_chars)
    body = _render(text, spans, lo, hi)
    body = " ".join(body.split())  # line breaks and runs of spaces read as one space in a snippet
    return (ELLIPSIS if lo > 0 else "") + body + (ELLIPSIS if hi < len(text) else "")


def highlight(text: str, parsed: ParsedQuery, *, snippet_chars: int | None = 120) -> str:
    """snippet(text, …) around the first match; with snippet_chars=None (or 0) the whole text
    marked, as for a title (same as mark())."""
    if not snippet_chars:
        return mark(text, parsed)
    return snippet(text, parsed, snippet_chars=snippet_chars)
