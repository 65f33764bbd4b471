"""The Elasticsearch engine: the official `elasticsearch` client, Elasticsearch 8.x servers.

Used when ELASTICSEARCH_URL is set (search.engines.get_engine). The index template lives in
es_mappings.py (MAPPING_VERSION, analyzers, one primary shard). Every read and write goes through the
alias `<prefix>-search`; the concrete index is `<prefix>-search-v<MAPPING_VERSION>-<timestamp>`, and
`rebuild()` fills a new one while the current one keeps answering, then moves the alias in one atomic
`update_aliases` call and deletes the old index.

Faults are handled differently on the two sides, on purpose:
- search(), suggest(), visible_keys(), count() and check() turn any transport or server error into
  SearchUnavailable with a Chinese message: the results page says so and the rest of the site works.
- index(), delete() and rebuild() let the client's exception propagate: the outbox consumer (search/
  indexing.py) then advances nothing and retries the batch with backoff, so a change made while
  Elasticsearch is down is indexed when it is back, and none is lost.

Permissions are a filter inside the query (see `permission_filter`), so hits, totals, facet counts,
highlights and suggestions are all computed over visible items only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError, helpers

from search.engines import es_mappings
from search.highlight import mark, snippet
from search.interface import (
    COUNT_CAP,
    KINDS,
    MAX_PAGE,
    MAX_QUERY_CHARS,
    FacetValue,
    Filters,
    Hit,
    IndexDoc,
    ParsedQuery,
    Principals,
    QueryError,
    Results,
    SearchQuery,
    SearchUnavailable,
    Suggestion,
)
from search.query import normalize_doc_number
from search.text import normalize, runs

logger = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = "搜索服务暂时不可用，请稍后再试。"
PAGE_OUT_OF_RANGE = "页码超出范围。"  # the embedded engine's words
SUPPORTED_MAJOR = 8

BULK_CHUNK = 500
# A rebuild's bulk requests carry 500 items of up to MAX_BODY_CHARS each: give them more than a query's time.
BULK_TIMEOUT_SECONDS = 120.0
SNIPPET_CHARS = 120
# Elasticsearch picks the passage (a little longer than the snippet); search.highlight renders it.
FRAGMENT_CHARS = 200
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"  # private-use characters, stripped before rendering
DOC_NUMBER_BOOST = 1000.0
# Recency: a relevance score is multiplied by (1 + decay), decay falling from 1 (today) to 0.5 after a
# year, so recency at most doubles a score and never buries an old item that matches much better.
RECENCY_SCALE = "365d"
RECENCY_OFFSET = "7d"
FACET_SIZES = {"kind": len(KINDS), "agency": 50, "doc_type": 50, "year": 80}

# Facet name -> (field, Filters attribute, label field or None).
_FACETS: dict[str, tuple[str, str, str | None]] = {
    "kind": ("kind", "kinds", None),
    "agency": ("agency_id", "agency_ids", "agency_name"),
    "doc_type": ("doc_type", "doc_types", "doc_type_label"),
    "year": ("year", "years", None),
}

_TEXT_FIELDS = ("title.uni", "body.uni", "doc_number.uni")
_HIT_SOURCE = [
    "key",
    "kind",
    "title",
    "url",
    "date",
    "agency_name",
    "doc_number",
    "doc_type_label",
    "status_label",
    "subtitle",
]
_ANALYZER_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")


def _unavailable(exc: Exception) -> SearchUnavailable:
    logger.warning("Elasticsearch unavailable: %s", exc, exc_info=exc)
    return SearchUnavailable(UNAVAILABLE_MESSAGE)


def _client_from_settings(url: str, timeout: float | None) -> Elasticsearch:
    if timeout is None:
        from django.conf import settings

        timeout = float(settings.SEARCH_ES_TIMEOUT_SECONDS)
    # A timed-out request is retried once on another try, then the page says 搜索服务暂时不可用:
    # a user waits at most about (1 + max_retries) × timeout.
    return Elasticsearch(url, request_timeout=timeout, retry_on_timeout=True, max_retries=1)


# --- Request bodies (pure functions: the request-level tests assert their shape) --------------------


def source_of(doc: IndexDoc) -> dict[str, Any]:
    """The indexed JSON of one item. Empty codes are left out so they make no facet bucket."""
    source: dict[str, Any] = {
        "key": doc.key,
        "kind": doc.kind,
        "title": doc.title,
        "body": doc.body,
        "principals": sorted(doc.principals),
        "acl_seq": doc.acl_seq,
        "date": doc.date.isoformat(),
        "year": doc.year,
        "agency_id": doc.agency_id,
        "agency_name": doc.agency_name or None,
        "doc_number": doc.doc_number or None,
        # Normalised as search.query normalises the 文号 a user types, so the term query meets it.
        "doc_number_norm": (normalize_doc_number(doc.doc_number) or None) if doc.doc_number else None,
        "doc_type": doc.doc_type or None,
        "doc_type_label": doc.doc_type_label or None,
        "status": doc.status or None,
        "status_label": doc.status_label or None,
        "subtitle": doc.subtitle,
        "url": doc.url,
    }
    return {name: value for name, value in source.items() if value is not None}


def permission_filter(principals: Principals) -> dict[str, Any]:
    """Visible when one of the item's principals is the user's and, for a floored one, acl_seq > floor."""
    free = sorted(p for p, floor in principals.items() if floor is None)
    should: list[dict[str, Any]] = []
    if free:
        should.append({"terms": {"principals": free}})
    for principal, floor in sorted((p, f) for p, f in principals.items() if f is not None):
        should.append(
            {"bool": {"filter": [{"term": {"principals": principal}}, {"range": {"acl_seq": {"gt": floor}}}]}}
        )
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _phrase_anywhere(text: str, *, boost_title: float = 1.0) -> dict[str, Any]:
    """`text` occurs as consecutive characters in the title, the body or the 文号 (the `.uni` subfields)."""
    clauses = []
    for field in _TEXT_FIELDS:
        phrase: dict[str, Any] = {"query": text}
        if field == "title.uni" and boost_title != 1.0:
            phrase["boost"] = boost_title
        clauses.append({"match_phrase": {field: phrase}})
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def _text_clauses(
    parsed: ParsedQuery,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(must, should, must_not), with the embedded engine's semantics (search.text.query_match):
    each run of a term must occur ("12号" needs 12 and 号, wherever they are; a CJK run as a substring,
    a Latin word or number as a whole word); a phrase's tokens must be consecutive, punctuation ignored;
    an exclusion of one run excludes that run, of several runs that sequence. The configured analyzer's
    fields only rank."""
    required: list[str] = []
    for term in parsed.terms:
        required.extend(run for run, _ in runs(normalize(term)))
    required.extend(parsed.phrases)
    must = [_phrase_anywhere(part, boost_title=2.0) for part in dict.fromkeys(required)]
    should: list[dict[str, Any]] = []
    for part in dict.fromkeys((*parsed.terms, *parsed.phrases)):
        should.append({"match_phrase": {"title": {"query": part, "boost": 3.0}}})
        should.append({"match_phrase": {"body": {"query": part}}})
    if parsed.doc_number:
        should.append({"term": {"doc_number_norm": {"value": parsed.doc_number, "boost": DOC_NUMBER_BOOST}}})
    must_not = []
    for excluded in dict.fromkeys(parsed.excluded):
        parts = runs(normalize(excluded))
        if parts:
            must_not.append(_phrase_anywhere(parts[0][0] if len(parts) == 1 else excluded))
    return must, should, must_not


def _filter_clause(facet: str, values: tuple[Any, ...]) -> dict[str, Any]:
    field = _FACETS[facet][0]
    return {"terms": {field: list(values)}}


def _facet_filters(filters: Filters, *, without: str | None = None) -> list[dict[str, Any]]:
    clauses = []
    for facet, (_, attr, _) in _FACETS.items():
        values = getattr(filters, attr)
        if values and facet != without:
            clauses.append(_filter_clause(facet, values))
    return clauses


def _facet_aggregations(filters: Filters) -> dict[str, Any]:
    """Drill-down facets: each is counted with every other filter but not its own (post_filter keeps
    the hits filtered by all of them), so choosing 公文 still shows how many 会议 there are."""
    aggs: dict[str, Any] = {}
    for facet, (field, _, label_field) in _FACETS.items():
        terms: dict[str, Any] = {
            "terms": {
                "field": field,
                "size": FACET_SIZES[facet],
                "order": [{"_count": "desc"}, {"_key": "asc"}],
            }
        }
        if label_field:
            terms["aggs"] = {"label": {"terms": {"field": label_field, "size": 1}}}
        others = _facet_filters(filters, without=facet)
        aggs[facet] = {
            "filter": {"bool": {"filter": others}} if others else {"match_all": {}},
            "aggs": {"values": terms},
        }
    return aggs


def _check_page(query: SearchQuery) -> None:
    # Deep paging is refused, as by the embedded engine (MAX_PAGE pages stay far below max_result_window).
    if not 1 <= query.page <= MAX_PAGE:
        raise QueryError(PAGE_OUT_OF_RANGE)


def build_search_body(query: SearchQuery) -> dict[str, Any]:
    """The `_search` request for a query (keyword arguments of `Elasticsearch.search`)."""
    _check_page(query)
    must, should, must_not = _text_clauses(query.parsed)
    filters = query.filters
    base_filter: list[dict[str, Any]] = [permission_filter(query.principals)]
    if filters.statuses:  # not a facet: it narrows hits and facets alike
        base_filter.append({"terms": {"status": list(filters.statuses)}})
    text_query: dict[str, Any] = {
        "bool": {
            "must": must or [{"match_all": {}}],
            "should": should,
            "must_not": must_not,
            "filter": base_filter,
        }
    }
    body: dict[str, Any] = {
        "from_": (query.page - 1) * query.per_page,
        "size": query.per_page,
        "track_total_hits": COUNT_CAP + 1,
        "source": _HIT_SOURCE,
        # Elasticsearch finds the body's best passage (the body itself never leaves the server); the
        # title and that passage are then escaped and <mark>ed by search.highlight, exactly as the
        # embedded engine does. Excluded words are not in highlight_query, so they are never marked.
        "highlight": {
            "pre_tags": [MARK_OPEN],
            "post_tags": [MARK_CLOSE],
            "encoder": "default",
            "require_field_match": True,
            "highlight_query": {"bool": {"should": must, "minimum_should_match": 0}},
            "fields": {
                "body.uni": {
                    "fragment_size": FRAGMENT_CHARS,
                    "number_of_fragments": 1,
                    "no_match_size": FRAGMENT_CHARS,
                },
            },
        },
    }
    if query.sort == "date":
        body["query"] = text_query
        body["sort"] = [{"date": {"order": "desc"}}, {"key": {"order": "asc"}}]
    else:
        body["query"] = {
            "function_score": {
                "query": text_query,
                "functions": [
                    {"weight": 1},
                    {
                        "exp": {
                            "date": {
                                "origin": "now",
                                "scale": RECENCY_SCALE,
                                "offset": RECENCY_OFFSET,
                                "decay": 0.5,
                            }
                        },
                        "weight": 1,
                    },
                ],
                "score_mode": "sum",
                "boost_mode": "multiply",
            }
        }
        body["sort"] = [{"_score": {"order": "desc"}}, {"date": {"order": "desc"}}, {"key": {"order": "asc"}}]
    post = _facet_filters(filters)
    if post:
        body["post_filter"] = {"bool": {"filter": post}}
    if query.facets:
        body["aggs"] = _facet_aggregations(filters)
    return body


def build_suggest_body(prefix: str, principals: Principals, limit: int) -> dict[str, Any]:
    return {
        "size": limit,
        "query": {
            "bool": {
                "must": [{"match_phrase_prefix": {"title.uni": {"query": prefix, "max_expansions": 50}}}],
                "filter": [permission_filter(principals)],
            }
        },
        "sort": [{"date": {"order": "desc"}}, {"key": {"order": "asc"}}],
        "source": ["title", "url", "kind"],
    }


# --- Responses ---------------------------------------------------------------------------------------


def _capped(count: int) -> tuple[int, bool]:
    return (COUNT_CAP, True) if count > COUNT_CAP else (count, False)


def parse_hit(raw: Mapping[str, Any], parsed: ParsedQuery) -> Hit:
    source = raw.get("_source", {})
    passages = raw.get("highlight", {}).get("body.uni") or [""]
    passage = passages[0].replace(MARK_OPEN, "").replace(MARK_CLOSE, "")
    title_html = mark(source.get("title", ""), parsed)
    snippet_html = snippet(passage, parsed, snippet_chars=SNIPPET_CHARS) if passage else ""
    return Hit(
        key=source.get("key", raw.get("_id", "")),
        kind=source.get("kind", ""),
        title_html=title_html,
        snippet_html=snippet_html,
        url=source.get("url", ""),
        date=datetime.fromisoformat(source["date"]),
        agency_name=source.get("agency_name", ""),
        doc_number=source.get("doc_number", ""),
        doc_type_label=source.get("doc_type_label", ""),
        status_label=source.get("status_label", ""),
        subtitle=source.get("subtitle", ""),
        score=float(raw.get("_score") or 0.0),
    )


def _facet_label(facet: str, bucket: Mapping[str, Any]) -> str:
    value = str(bucket["key"])
    if facet == "kind":
        return KINDS.get(value, value)
    labels = bucket.get("label", {}).get("buckets", [])
    return str(labels[0]["key"]) if labels else value


def parse_facets(aggregations: Mapping[str, Any]) -> dict[str, list[FacetValue]]:
    facets: dict[str, list[FacetValue]] = {}
    for facet in _FACETS:
        buckets = aggregations.get(facet, {}).get("values", {}).get("buckets", [])
        values = []
        for bucket in buckets:
            count, capped = _capped(int(bucket["doc_count"]))
            values.append(FacetValue(str(bucket["key"]), _facet_label(facet, bucket), count, capped))
        # Largest first, ties by label: the embedded engine's order.
        values.sort(key=lambda f: (-f.count, -int(f.capped), f.label, f.value))
        facets[facet] = values
    return facets


def parse_results(response: Mapping[str, Any], query: SearchQuery) -> Results:
    hits = response.get("hits", {})
    total_raw = hits.get("total", {"value": 0, "relation": "eq"})
    value = int(total_raw.get("value", 0))
    capped = total_raw.get("relation") == "gte" or value > COUNT_CAP
    total = COUNT_CAP if capped else value
    facets = parse_facets(response.get("aggregations", {})) if query.facets else {}
    return Results(
        hits=[parse_hit(raw, query.parsed) for raw in hits.get("hits", [])],
        total=total,
        total_capped=capped,
        facets=facets,
        page=query.page,
        per_page=query.per_page,
    )


def _empty_results(query: SearchQuery) -> Results:
    facets: dict[str, list[FacetValue]] = {facet: [] for facet in _FACETS} if query.facets else {}
    return Results(
        hits=[], total=0, total_capped=False, facets=facets, page=query.page, per_page=query.per_page
    )


# --- The engine --------------------------------------------------------------------------------------


class ElasticEngine:
    """Engine over an Elasticsearch 8.x cluster (see the module docstring)."""

    name = "elasticsearch"

    def __init__(
        self,
        url: str,
        *,
        index_prefix: str = "officeapp",
        analyzer: str = "cjk",
        client: Elasticsearch | None = None,
        refresh: bool = False,
        timeout: float | None = None,
    ) -> None:
        if not _ANALYZER_NAME.match(analyzer):
            raise ValueError(f"SEARCH_ES_ANALYZER 无效：{analyzer!r}")
        self.url = url
        self.prefix = index_prefix
        self.analyzer = analyzer
        self.alias = es_mappings.alias_name(index_prefix)
        self.next_alias = es_mappings.next_alias_name(index_prefix)
        self.client = client if client is not None else _client_from_settings(url, timeout)
        # refresh=True (tests, the contract suite): a write is searchable when index()/delete() return.
        # "true" rather than "wait_for": wait_for never returns on a rebuild's index (refresh_interval -1).
        self._refresh: bool | None = True if refresh else None
        self._ensured = False

    # -- setup ---------------------------------------------------------------------------------------

    def put_template(self) -> None:
        self.client.indices.put_index_template(**es_mappings.template_body(self.prefix, self.analyzer))

    def _new_index_name(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        return f"{self.prefix}-search-v{es_mappings.MAPPING_VERSION}-{stamp}"

    def _ensure_index(self) -> None:
        """The template and an index behind the alias exist (first write on a fresh cluster)."""
        if self._ensured:
            return
        self.put_template()
        if not self.client.indices.exists_alias(name=self.alias):
            # A fixed name, so two processes starting at once create one index, not two behind one alias.
            initial = f"{self.prefix}-search-v{es_mappings.MAPPING_VERSION}-initial"
            try:
                self.client.indices.create(index=initial, aliases={self.alias: {}})
            except BadRequestError as exc:
                if exc.message != "resource_already_exists_exception":
                    raise
                self.client.indices.put_alias(index=initial, name=self.alias)
        self._ensured = True

    def _write_targets(self) -> list[str]:
        targets = [self.alias]
        if self.client.indices.exists_alias(name=self.next_alias):
            targets.append(self.next_alias)  # a rebuild is running: it must see this change too
        return targets

    # -- writes (exceptions propagate: the outbox retries) ---------------------------------------------

    def _bulk(
        self, actions: Iterable[dict[str, Any]], *, ignore_status: tuple[int, ...] = ()
    ) -> list[dict[str, Any]]:
        try:
            return [
                item
                for _, item in helpers.streaming_bulk(
                    self.client,
                    actions,
                    chunk_size=BULK_CHUNK,
                    max_retries=3,
                    ignore_status=ignore_status,
                    refresh=self._refresh,
                    require_alias=True,  # never auto-create an unmapped index if the alias went missing
                )
            ]
        except Exception:
            self._ensured = False  # check the template and alias again on the retry
            raise

    def index(self, docs: Iterable[IndexDoc]) -> int:
        docs = list(docs)
        if not docs:
            return 0
        self._ensure_index()
        written = 0
        # The live alias first (its count is what index() returns), then the rebuild's index if one runs.
        for n, target in enumerate(self._write_targets()):
            items = self._bulk(
                {"_op_type": "index", "_index": target, "_id": d.key, "_source": source_of(d)} for d in docs
            )
            if n == 0:
                written = len(items)
        return written

    def delete(self, keys: Iterable[str]) -> int:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return 0
        self._ensure_index()
        deleted = 0
        for n, target in enumerate(self._write_targets()):
            items = self._bulk(
                ({"_op_type": "delete", "_index": target, "_id": key} for key in keys), ignore_status=(404,)
            )
            if n == 0:
                deleted = sum(1 for item in items if item["delete"].get("result") == "deleted")
        return deleted

    def rebuild(self, docs: Iterator[IndexDoc], *, total: int | None = None, progress: object = None) -> int:
        """Fill a new concrete index, then switch the alias to it in one atomic call.

        While it fills, the alias `<prefix>-search-next` points at it, so index()/delete() from the worker
        write there too; the current index keeps answering searches until the switch.
        """
        self.put_template()
        self._drop_stale_next()
        new = self._new_index_name()
        self.client.indices.create(
            index=new, aliases={self.next_alias: {}}, settings={"index": {"refresh_interval": "-1"}}
        )
        try:
            bulk_client = self.client.options(request_timeout=BULK_TIMEOUT_SECONDS)
            actions = (
                {"_op_type": "index", "_index": new, "_id": d.key, "_source": source_of(d)} for d in docs
            )
            pending = 0
            for _ok, _item in helpers.streaming_bulk(
                bulk_client, actions, chunk_size=BULK_CHUNK, max_retries=3
            ):
                pending += 1
                if pending == BULK_CHUNK:
                    _update(progress, pending)
                    pending = 0
            _update(progress, pending)
            self.client.indices.put_settings(index=new, settings={"index": {"refresh_interval": None}})
            self.client.indices.refresh(index=new)
            old = self._indices_behind(self.alias)
            actions_ = [{"remove": {"index": name, "alias": self.alias}} for name in old]
            actions_ += [
                {"add": {"index": new, "alias": self.alias}},
                {"remove": {"index": new, "alias": self.next_alias}},
            ]
            self.client.indices.update_aliases(actions=actions_)
        except BaseException:
            try:  # the live index is untouched; drop the half-built one (a later rebuild would anyway)
                self.client.options(ignore_status=404).indices.delete(index=new)
            except Exception:
                logger.warning("could not delete the half-built index %s", new, exc_info=True)
            raise
        if old:
            self.client.options(ignore_status=404).indices.delete(index=",".join(old))
        self._ensured = False
        return int(self.client.count(index=new)["count"])

    def _indices_behind(self, alias: str) -> list[str]:
        response = self.client.options(ignore_status=404).indices.get_alias(name=alias)
        if response.meta.status == 404:
            return []
        return sorted(response.body)

    def _drop_stale_next(self) -> None:
        """An index a crashed rebuild left behind the next alias (never the live one)."""
        live = set(self._indices_behind(self.alias))
        stale = [name for name in self._indices_behind(self.next_alias) if name not in live]
        if stale:
            self.client.options(ignore_status=404).indices.delete(index=",".join(stale))

    def clear(self) -> None:
        """Drop every index of this prefix and its template (tests, `search_reindex --clear`). The next
        write creates them again; a writer in another process whose bulk fails meanwhile (require_alias)
        re-creates them on the outbox's retry."""
        pattern = es_mappings.all_indices_pattern(self.prefix)
        names = sorted(self.client.indices.get_alias(index=pattern).body)
        if names:  # by name: wildcard deletes are refused by default (action.destructive_requires_name)
            self.client.options(ignore_status=404).indices.delete(index=",".join(names))
        self.client.options(ignore_status=404).indices.delete_index_template(
            name=es_mappings.template_name(self.prefix)
        )
        self._ensured = False

    # -- reads (every fault becomes SearchUnavailable) -------------------------------------------------

    def search(self, query: SearchQuery) -> Results:
        _check_page(query)
        if not query.principals or not _text_clauses(query.parsed)[0]:
            return _empty_results(query)  # sees nothing, or nothing to look for: no request at all
        try:
            response = self.client.search(index=self.alias, **build_search_body(query))
        except NotFoundError:
            return _empty_results(query)  # nothing indexed yet
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        return parse_results(response.body, query)

    def suggest(self, prefix: str, principals: Principals, *, limit: int = 8) -> list[Suggestion]:
        prefix = prefix.strip()[:MAX_QUERY_CHARS]
        if not prefix or not principals or limit <= 0:
            return []
        try:
            response = self.client.search(index=self.alias, **build_suggest_body(prefix, principals, limit))
        except NotFoundError:
            return []
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        return [
            Suggestion(title=h["_source"]["title"], url=h["_source"]["url"], kind=h["_source"]["kind"])
            for h in response.body["hits"]["hits"]
        ]

    def visible_keys(self, principals: Principals, *, kind: str | None = None) -> set[str]:
        if not principals:
            return set()
        filters: list[dict[str, Any]] = [permission_filter(principals)]
        if kind:
            filters.append({"term": {"kind": kind}})
        keys: set[str] = set()
        after: list[Any] | None = None
        try:
            while True:
                page = self.client.search(
                    index=self.alias,
                    size=1000,
                    query={"bool": {"filter": filters}},
                    sort=[{"key": {"order": "asc"}}],
                    source=False,
                    track_total_hits=False,
                    **({"search_after": after} if after else {}),
                )
                hits = page.body["hits"]["hits"]
                keys.update(hit["_id"] for hit in hits)
                if len(hits) < 1000:
                    return keys
                after = hits[-1]["sort"]
        except NotFoundError:
            return keys
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc

    def count(self) -> int:
        try:
            return int(self.client.count(index=self.alias)["count"])
        except NotFoundError:
            return 0
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc

    def check(self) -> dict[str, object]:
        try:
            info = self.client.info().body
            version = str(info.get("version", {}).get("number", ""))
            if not version.startswith(f"{SUPPORTED_MAJOR}."):
                logger.warning("Elasticsearch %s is not supported (8.x only)", version)
                raise SearchUnavailable(UNAVAILABLE_MESSAGE)
            indices = self._indices_behind(self.alias)
            # Our index's health only: another application's red index must not turn search off.
            health = (
                self.client.cluster.health(index=self.alias) if indices else self.client.cluster.health()
            ).body
            if health.get("status") == "red":
                logger.warning("Elasticsearch index %s is red", self.alias)
                raise SearchUnavailable(UNAVAILABLE_MESSAGE)
            docs = int(self.client.count(index=self.alias)["count"]) if indices else 0
            versions = []
            if indices:
                mappings = self.client.indices.get_mapping(index=self.alias).body
                versions = [
                    m.get("mappings", {}).get("_meta", {}).get("mapping_version") for m in mappings.values()
                ]
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        return {
            "engine": self.name,
            "server_version": version,
            "cluster_status": health.get("status"),
            "indices": indices,
            "documents": docs,
            "mapping_version": versions[0] if versions else None,
            "mapping_current": bool(versions) and all(v == es_mappings.MAPPING_VERSION for v in versions),
            "analyzer": self.analyzer,
        }


def _update(progress: object, n: int) -> None:
    if progress is not None and n:
        progress.update(n)  # type: ignore[attr-defined]
