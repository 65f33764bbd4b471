"""What the user typed in the search box, understood: search.interface.ParsedQuery and Filters.

Syntax: whitespace separates terms, all ANDed; "double quotes" (or “”) make a phrase that must
occur as typed (punctuation ignored); a leading - excludes a term or phrase; a 文号 such as
粤府办〔2026〕12号 — with 〔〕, [], (), 【】 or ［］ and any digits — is recognised: its normalised form
ranks its document first and is kept as a phrase, so it must match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from search.interface import KINDS, MAX_QUERY_CHARS, MAX_QUERY_TERMS, Filters, ParsedQuery, QueryError
from search.text import normalize, runs

EMPTY = "请输入要搜索的内容。"
ONLY_PUNCTUATION = "搜索内容只有标点符号，请输入文字或数字。"
TOO_LONG = f"搜索内容太长（最多 {MAX_QUERY_CHARS} 个字）。"
TOO_MANY = f"搜索词太多（最多 {MAX_QUERY_TERMS} 个）。"
ONLY_EXCLUDED = "请至少输入一个要查找的词（不能只有排除词）。"
BAD_FILTER = "筛选条件无效。"

# On NFKC text: full-width digits are ASCII and （）［］ are ()[] by then; 〔〕 and 【】 stay.
_DOC_NUMBER = re.compile(
    r"(?P<org>[\u3400-\u9fff]{1,20})\s*[〔\[(【]\s*(?P<year>[0-9]{4})\s*[〕\])】]\s*(?P<num>[0-9]{1,6})\s*号"
)
_PHRASE = re.compile(r"(?P<neg>-?)[\"“”](?P<body>[^\"“”]*)[\"“”]?")


def normalize_doc_number(text: str) -> str:
    """粤府办[２０２６]012号 -> 粤府办〔2026〕12号; "" when text is not a 文号."""
    m = _DOC_NUMBER.fullmatch(normalize(text).strip())
    if not m:
        return ""
    return f"{m['org']}〔{m['year']}〕{int(m['num'])}号"


def _has_word(text: str) -> bool:
    return bool(runs(normalize(text)))


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def parse(raw: str) -> ParsedQuery:
    text = (raw or "").strip()
    if not text:
        raise QueryError(EMPTY)
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(TOO_LONG)
    text = normalize(text)

    terms: list[str] = []
    phrases: list[str] = []
    excluded: list[str] = []
    doc_number = ""

    def take_phrase(m: re.Match[str]) -> str:
        nonlocal doc_number
        body = m["body"].strip()
        if _has_word(body):
            (excluded if m["neg"] else phrases).append(body)
            if not m["neg"] and not doc_number:
                doc_number = normalize_doc_number(body)
        return " "

    def take_doc_number(m: re.Match[str]) -> str:
        nonlocal doc_number
        number = f"{m['org']}〔{m['year']}〕{int(m['num'])}号"
        start = m.start()
        if start > 0 and m.string[start - 1] == "-":
            excluded.append(number)
            return " "
        phrases.append(number)
        doc_number = doc_number or number
        return " "

    text = _PHRASE.sub(take_phrase, text)
    text = _DOC_NUMBER.sub(take_doc_number, text)
    for word in text.split():
        if word.startswith("-"):
            word = word.lstrip("-")
            if _has_word(word):
                excluded.append(word)
        elif _has_word(word):
            terms.append(word)

    terms_t, phrases_t, excluded_t = _unique(terms), _unique(phrases), _unique(excluded)
    if len(terms_t) + len(phrases_t) + len(excluded_t) > MAX_QUERY_TERMS:
        raise QueryError(TOO_MANY)
    if not (terms_t or phrases_t or excluded_t):
        raise QueryError(ONLY_PUNCTUATION)
    if not (terms_t or phrases_t):
        raise QueryError(ONLY_EXCLUDED)
    return ParsedQuery(raw=raw, terms=terms_t, phrases=phrases_t, excluded=excluded_t, doc_number=doc_number)


_CODE = re.compile(r"[A-Za-z0-9_\-]{1,40}")


def _values(querydict: object, name: str) -> list[str]:
    getlist = getattr(querydict, "getlist", None)
    if getlist is not None:
        raw = getlist(name)
    else:
        value = querydict.get(name, []) if isinstance(querydict, Mapping) else []
        raw = [value] if isinstance(value, str | int) else list(value)
    return [str(v).strip() for v in raw if str(v).strip()]


def _int(value: str) -> int:
    if not re.fullmatch(r"[0-9]{1,10}", value):
        raise QueryError(BAD_FILTER)
    return int(value)


def parse_filters(querydict: object) -> Filters:
    """kind, agency, doc_type, year, status from a QueryDict (or a mapping of lists); empty values
    are ignored, anything malformed raises QueryError("筛选条件无效。")."""
    kinds = _values(querydict, "kind")
    if any(k not in KINDS for k in kinds):
        raise QueryError(BAD_FILTER)
    agencies = [_int(v) for v in _values(querydict, "agency")]
    if any(a < 1 for a in agencies):
        raise QueryError(BAD_FILTER)
    years = [_int(v) for v in _values(querydict, "year")]
    if any(not 1949 <= y <= 2100 for y in years):
        raise QueryError(BAD_FILTER)
    doc_types = _values(querydict, "doc_type")
    statuses = _values(querydict, "status")
    if any(not _CODE.fullmatch(v) for v in (*doc_types, *statuses)):
        raise QueryError(BAD_FILTER)
    return Filters(
        kinds=tuple(dict.fromkeys(kinds)),
        agency_ids=tuple(dict.fromkeys(agencies)),
        doc_types=tuple(dict.fromkeys(doc_types)),
        years=tuple(dict.fromkeys(years)),
        statuses=tuple(dict.fromkeys(statuses)),
    )
