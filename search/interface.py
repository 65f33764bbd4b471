"""The one public interface of search: what is indexed, what is asked, what comes back.

Every other module of the project talks to search through these types and `search.engines.get_engine()`;
the two engines (embedded SQLite FTS5, Elasticsearch) implement `Engine` and pass the same contract
suite (tests/search/test_engine_contract.py).

Permissions live inside the engine query. Each indexed item carries the principals that may see it
(`IndexDoc.principals`, strings such as "u:12", "doc-office:3", "conv:88"); each query carries the
user's principals, each with an optional floor: a principal matches an item only when the item's
`acl_seq` is greater than the floor. The floor exists for chat: a member who joined a group late sees
only messages after `joined_seq`, so her principal is {"conv:88": 120}; everything else has floor None.
An item is visible when at least one of its principals matches. Results, totals, facet counts,
highlights and suggestions are all computed over visible items only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

# Result kinds, in the order the facet shows them (glossary labels).
KINDS: dict[str, str] = {
    "document": "公文",
    "attachment": "附件",
    "supervision": "督办",
    "meeting": "会议",
    "message": "消息",
}

# Facet counts are exact up to this many and shown as "10,000+" beyond (the total too).
COUNT_CAP = 10_000
# Bounds that keep one item's index entry small; sources cut their text to these.
MAX_TITLE_CHARS = 500
MAX_BODY_CHARS = 200_000
# Query bounds: longer input is refused with QueryError, never sent to an engine.
MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 12
PER_PAGE = 20
MAX_PAGE = 50  # deep paging is refused: narrow with facets instead

# principal -> floor (None: no floor). See the module docstring.
Principals = Mapping[str, int | None]


class SearchError(Exception):
    """Base class; `message` is shown to the user as is (Chinese)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class QueryError(SearchError):
    """The query itself is unusable (empty, only punctuation, too long, malformed filter)."""


class SearchUnavailable(SearchError):
    """The engine cannot answer (Elasticsearch down, index file missing or locked)."""


@dataclass(frozen=True)
class IndexDoc:
    """One searchable item, built by a source from the database's current state."""

    key: str  # unique across kinds: "document:42", "attachment:17", "supervision:5", "meeting:9", "message:9001"
    kind: str  # a key of KINDS
    title: str
    body: str  # plain text, at most MAX_BODY_CHARS
    principals: frozenset[str]
    url: str  # absolute path where the result opens
    date: datetime  # aware; recency ranking and "sort by date"
    agency_id: int | None = None  # facet "机关"
    agency_name: str = ""
    doc_number: str = ""  # 文号 as printed, e.g. 粤府办〔2026〕12号 (documents and their attachments)
    doc_type: str = ""  # 文种 code (documents), facet "文种"
    doc_type_label: str = ""
    status: str = ""  # state code, filter "状态"
    status_label: str = ""
    acl_seq: int = 0  # compared with principal floors (chat message seq); 0 elsewhere
    subtitle: str = ""  # one line under the title on the results page (会议时间, 所属会话 …)

    @property
    def year(self) -> int:
        return self.date.year


@dataclass(frozen=True)
class ParsedQuery:
    """What the user typed, understood (search.query.parse). All parts are ANDed."""

    raw: str
    terms: tuple[str, ...] = ()  # must each occur (substring semantics for CJK)
    phrases: tuple[str, ...] = ()  # "exact phrase": must occur as typed (punctuation-insensitive)
    excluded: tuple[str, ...] = ()  # -word: must not occur
    doc_number: str = ""  # a recognised 文号, normalised (粤府办〔2026〕12号); its document ranks first


@dataclass(frozen=True)
class Filters:
    kinds: tuple[str, ...] = ()
    agency_ids: tuple[int, ...] = ()
    doc_types: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchQuery:
    parsed: ParsedQuery
    principals: Principals
    filters: Filters = field(default_factory=Filters)
    sort: str = "relevance"  # "relevance" (blended with recency) or "date" (newest first)
    page: int = 1
    per_page: int = PER_PAGE
    facets: bool = True


@dataclass(frozen=True)
class Hit:
    key: str
    kind: str
    title_html: str  # escaped, matched words wrapped in <mark>
    snippet_html: str  # escaped fragment of the body around the first match, <mark>ed
    url: str
    date: datetime
    agency_name: str = ""
    doc_number: str = ""
    doc_type_label: str = ""
    status_label: str = ""
    subtitle: str = ""
    score: float = 0.0


@dataclass(frozen=True)
class FacetValue:
    value: str  # kind code, agency id, 文种 code, year — as a string, as it appears in the filter
    label: str
    count: int  # exact up to COUNT_CAP
    capped: bool = False  # True when the real count is above COUNT_CAP: shown as "10,000+"


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    total: int  # exact up to COUNT_CAP
    total_capped: bool
    # facet name ("kind", "agency", "doc_type", "year") -> values, largest count first
    facets: dict[str, list[FacetValue]]
    page: int
    per_page: int


@dataclass(frozen=True)
class Suggestion:
    title: str
    url: str
    kind: str


@runtime_checkable
class Engine(Protocol):
    name: str  # "embedded" or "elasticsearch"

    def index(self, docs: Iterable[IndexDoc]) -> int:
        """Insert or replace each doc by key (idempotent); returns how many were written."""

    def delete(self, keys: Iterable[str]) -> int:
        """Remove these keys if present (idempotent); returns how many were removed."""

    def search(self, query: SearchQuery) -> Results: ...

    def suggest(self, prefix: str, principals: Principals, *, limit: int = 8) -> list[Suggestion]:
        """Titles of visible items containing `prefix`, newest first (the shell's search box)."""

    def visible_keys(self, principals: Principals, *, kind: str | None = None) -> set[str]:
        """Every key these principals may see (the permission suites compare it with access.py)."""

    def count(self) -> int: ...

    def rebuild(self, docs: Iterator[IndexDoc], *, total: int | None = None, progress: object = None) -> int:
        """Build a new generation of the index from `docs` while the current one keeps answering,
        then switch to it at once (file swap / alias swap). `progress` is a tqdm-like object with
        update(n). Returns how many docs the new generation holds."""

    def check(self) -> dict[str, object]:
        """Health: raises SearchUnavailable when the engine cannot answer; returns facts for /healthz."""

    def clear(self) -> None:
        """Drop everything (tests and `search_reindex --clear`)."""
