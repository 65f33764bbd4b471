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
from search.text import CJK_RANGES, normalize, runs

ELLIPSIS = "…"


@lru_cache(maxsize=65536)
def _normalize_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).lower()


def _normalized_with_map(text: str) -> tuple[str, list[int] | None]:
    """Text normalised character by character, and for each normalised character the index of the
    original character it came from (NFKC may turn one character into several: ㈠ -> (一)); None
    for the map when every character stays one character (the usual case, full-width punctuation
    included), so that a 200,000-character attachment costs one C call, not a Python loop."""
    norm = unicodedata.normalize("NFKC", text).lower()
    if len(norm) == len(text):
        return norm, None
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        n = _normalize_char(ch)
        out.append(n)
        where.extend([i] * len(n))
    return "".join(out), where


_SEP = r"[\W_]*"
# A non-CJK word character (search.text.is_cjk's ranges excluded): "12" is a word in "12号".
_LATIN = f"[^\\W_{CJK_RANGES}]"


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
        start, end = (m.start(), m.end()) if where is None else (where[m.start()], where[m.end() - 1] + 1)
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


_CHUNK = 4000  # snippets look for the first match a chunk at a time: attachments run to 200,000 chars
_MARGIN = 400  # more than any match can span (MAX_QUERY_CHARS and separators)


# A snippet shows the first match within this many characters, else the beginning: a page of 20
# long attachments that matched by title only must not scan 20 × 200,000 characters.
SNIPPET_SCAN_CHARS = 50_000


def _first_match(text: str, parsed: ParsedQuery) -> int | None:
    for start in range(0, min(len(text), SNIPPET_SCAN_CHARS), _CHUNK):
        spans = _spans(text[start : start + _CHUNK + _MARGIN], parsed)
        if spans:
            return start + spans[0][0]
    return None


def snippet(text: str, parsed: ParsedQuery, *, snippet_chars: int = 120) -> str:
    """About snippet_chars of the text around its first match (its beginning when nothing
    matches), escaped and marked, with … where it was cut."""
    if len(text) <= snippet_chars:
        lo, hi = 0, len(text)
    else:
        first = _first_match(text, parsed) or 0
        lo = max(0, min(first - snippet_chars // 4, len(text) - snippet_chars))
        hi = min(len(text), lo + snippet_chars)
    # Marks inside the window, found on the window and a margin on each side (a match may cross the cut).
    base = max(0, lo - _MARGIN)
    spans = [(a + base, b + base) for a, b in _spans(text[base : hi + _MARGIN], parsed)]
    body = _render(text, spans, lo, hi)
    body = " ".join(body.split())  # line breaks and runs of spaces read as one space in a snippet
    return (ELLIPSIS if lo > 0 else "") + body + (ELLIPSIS if hi < len(text) else "")


def highlight(text: str, parsed: ParsedQuery, *, snippet_chars: int | None = 120) -> str:
    """snippet(text, …) around the first match; with snippet_chars=None (or 0) the whole text
    marked, as for a title (same as mark())."""
    if not snippet_chars:
        return mark(text, parsed)
    return snippet(text, parsed, snippet_chars=snippet_chars)
