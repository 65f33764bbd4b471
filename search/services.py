"""Searching, as the pages ask it: the user's query, filters and page → the engine's visible results.

Search queries are not audited. The audit log records views and downloads of files and documents
(officeapp.audit.services.record_view), and opening a result is audited by the page it opens; a
search itself discloses nothing beyond titles and fragments of records the user may already open,
and auditing every keystroke-driven suggestion and query would drown the log (volume), while putting
query text in it would copy document wording into the audit log, which holds ids and kinds only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from search.engines import get_engine
from search.interface import MAX_PAGE, PER_PAGE, QueryError, Results, SearchQuery, Suggestion
from search.principals import principals_of
from search.query import parse, parse_filters

SORTS = ("relevance", "date")
SUGGEST_LIMIT = 8
SUGGEST_MIN_CHARS = 2
SUGGEST_MAX_CHARS = 50
PAGE_MESSAGE = f"页码无效：最多显示前 {MAX_PAGE} 页，请用筛选条件缩小范围。"


def parse_page(value: str | None) -> int:
    if value in (None, ""):
        return 1
    text = value.strip()
    # isascii: int() accepts other scripts' digits and 5,000-digit strings; neither is a page.
    if not (text.isascii() and text.isdigit() and len(text) <= 4):
        raise QueryError(PAGE_MESSAGE)
    page = int(text)
    if not 1 <= page <= MAX_PAGE:
        raise QueryError(PAGE_MESSAGE)
    return page


def empty_results(page: int = 1) -> Results:
    return Results(hits=[], total=0, total_capped=False, facets={}, page=page, per_page=PER_PAGE)


def run_search(user: Any, raw_query: str, querydict: Mapping[str, Any]) -> Results:
    """Raises QueryError (shown above the box) or SearchUnavailable (the page answers 503)."""
    parsed = parse(raw_query)
    filters = parse_filters(querydict)
    sort = querydict.get("sort") or "relevance"
    if sort not in SORTS:
        sort = "relevance"
    page = parse_page(querydict.get("page"))
    principals = principals_of(user)
    if not principals:
        # Someone every app refuses (the 审计管理员) sees nothing: no need to ask the engine.
        return empty_results(page)
    return get_engine().search(
        SearchQuery(parsed=parsed, principals=principals, filters=filters, sort=sort, page=page)
    )


def suggestions(user: Any, prefix: str) -> list[Suggestion]:
    """Titles for the shell's search box; nothing for short or unusable input (raises only
    SearchUnavailable, which the view turns into an empty list)."""
    text = (prefix or "").replace("\x00", "").strip()
    if not SUGGEST_MIN_CHARS <= len(text) <= SUGGEST_MAX_CHARS:
        return []
    try:
        parse(text)
    except QueryError:
        return []
    principals = principals_of(user)
    if not principals:
        return []
    return get_engine().suggest(text, principals, limit=SUGGEST_LIMIT)[:SUGGEST_LIMIT]
