"""The Elasticsearch engine at the request level: what it sends through the official client's transport
and how it reads the answers. No server exists on this machine, so a fake node (registered with
`node_class=`) records each (method, path, params, body) and replies with canned JSON; the contract
suite runs the same engine against a real server when ELASTICSEARCH_URL is set."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node import NodeApiResponse  # not re-exported at the top level
from elasticsearch import ApiError, Elasticsearch

from search.engines import es_mappings
from search.engines.elastic import MARK_CLOSE, MARK_OPEN, ElasticEngine
from search.interface import (
    COUNT_CAP,
    Filters,
    IndexDoc,
    ParsedQuery,
    QueryError,
    SearchQuery,
    SearchUnavailable,
)

ES_HEADERS = {"X-Elastic-Product": "Elasticsearch", "content-type": "application/json"}


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    body: Any


Reply = tuple[int, Any] | Callable[[Request], tuple[int, Any]]


@dataclass
class FakeCluster:
    """Routes (method, path regex) to replies; the last matching route wins; bulk answers itself."""

    requests: list[Request] = field(default_factory=list)
    routes: list[tuple[str, re.Pattern[str], Reply]] = field(default_factory=list)
    aliases: dict[str, list[str]] = field(default_factory=dict)  # alias -> indices (HEAD/GET _alias)
    deleted_ids: set[str] = field(default_factory=set)  # ids a bulk delete finds

    def on(self, method: str, path: str, reply: Reply) -> None:
        self.routes.append((method, re.compile(path), reply))

    def sent(self, method: str, path: str) -> list[Request]:
        pattern = re.compile(path)
        return [r for r in self.requests if r.method == method and pattern.fullmatch(r.path)]

    def client(self) -> Elasticsearch:
        cluster = self

        class FakeNode(BaseNode):
            def perform_request(self, method, target, body=None, headers=None, request_timeout=None):  # type: ignore[no-untyped-def,override]
                status, payload = cluster.handle(method, target, body)
                raw = b"" if payload is None else json.dumps(payload).encode()
                meta = ApiResponseMeta(
                    status=status,
                    http_version="1.1",
                    headers=HttpHeaders(ES_HEADERS),
                    duration=0.0,
                    node=self.config,
                )
                return NodeApiResponse(meta, raw)

        return Elasticsearch("http://es.invalid:9200", node_class=FakeNode, max_retries=0)

    def handle(self, method: str, target: str, body: bytes | None) -> tuple[int, Any]:
        split = urlsplit(target)
        text = body.decode() if body else ""
        if split.path.endswith("/_bulk"):
            decoded: Any = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            decoded = json.loads(text) if text else None
        request = Request(method, split.path, dict(parse_qsl(split.query)), decoded)
        self.requests.append(request)
        for route_method, pattern, reply in reversed(self.routes):
            if route_method == method and pattern.fullmatch(split.path):
                return reply(request) if callable(reply) else reply
        return self.default(request)

    def default(self, request: Request) -> tuple[int, Any]:
        path = request.path
        if path.endswith("/_bulk"):
            return 200, {"took": 1, "errors": False, "items": list(self._bulk_items(request.body))}
        alias = re.fullmatch(r"/_alias/([^/]+)", path)
        if alias:
            indices = self.aliases.get(alias.group(1), [])
            if request.method == "HEAD":
                return (200 if indices else 404), None
            if not indices:
                return 404, {"error": "alias missing", "status": 404}
            return 200, {index: {"aliases": {alias.group(1): {}}} for index in indices}
        if request.method in ("PUT", "POST", "DELETE"):
            return 200, {"acknowledged": True}
        return 404, {"error": {"type": "index_not_found_exception"}, "status": 404}

    def _bulk_items(self, lines: list[dict[str, Any]]) -> Any:
        i = 0
        while i < len(lines):
            ((op, meta),) = lines[i].items()
            if op == "delete":
                found = meta["_id"] in self.deleted_ids
                result = {
                    "_index": meta["_index"],
                    "_id": meta["_id"],
                    "result": "deleted" if found else "not_found",
                }
                yield {"delete": {**result, "status": 200 if found else 404}}
                i += 1
            else:
                yield {op: {"_index": meta["_index"], "_id": meta["_id"], "result": "created", "status": 201}}
                i += 2


@pytest.fixture
def cluster() -> FakeCluster:
    return FakeCluster()


def engine_on(cluster: FakeCluster, **kwargs: Any) -> ElasticEngine:
    return ElasticEngine("http://es.invalid:9200", client=cluster.client(), **kwargs)


def a_doc(key: str = "document:1", **overrides: Any) -> IndexDoc:
    values: dict[str, Any] = {
        "key": key,
        "kind": "document",
        "title": "关于做好防汛防台风工作的通知",
        "body": "各地要落实防汛责任。",
        "principals": frozenset({"u:7", "doc-office:3"}),
        "url": "/documents/1/",
        "date": datetime(2026, 5, 4, 8, 30, tzinfo=UTC),
        "agency_id": 3,
        "agency_name": "广东省人民政府办公厅",
        "doc_number": "粤府办〔2026〕12号",
        "doc_type": "notice",
        "doc_type_label": "通知",
        "status": "issued",
        "status_label": "已发布",
    }
    values.update(overrides)
    return IndexDoc(**values)


# --- template and mappings ------------------------------------------------------------------------


def test_first_write_puts_the_versioned_template_and_creates_the_index_behind_the_alias(cluster):
    engine = engine_on(cluster, analyzer="smartcn")

    engine.index([a_doc()])

    (template,) = cluster.sent("PUT", f"/_index_template/officeapp-search-v{es_mappings.MAPPING_VERSION}")
    body = template.body
    assert body["index_patterns"] == [f"officeapp-search-v{es_mappings.MAPPING_VERSION}-*"]
    assert body["version"] == es_mappings.MAPPING_VERSION
    assert body["_meta"]["mapping_version"] == es_mappings.MAPPING_VERSION
    settings = body["template"]["settings"]
    assert settings["index"]["number_of_shards"] == 1  # exact terms-aggregation counts
    props = body["template"]["mappings"]["properties"]
    assert body["template"]["mappings"]["dynamic"] == "strict"
    assert props["title"]["analyzer"] == "smartcn" and props["body"]["analyzer"] == "smartcn"
    assert props["title"]["fields"]["uni"]["analyzer"] == es_mappings.UNIGRAM_ANALYZER
    assert settings["analysis"]["analyzer"][es_mappings.UNIGRAM_ANALYZER]["tokenizer"] == "standard"
    assert props["doc_number"] == {
        "type": "keyword",
        "fields": {"uni": {"type": "text", "analyzer": es_mappings.UNIGRAM_ANALYZER}},
    }
    assert props["doc_number_norm"] == {"type": "keyword"}
    assert {
        name: props[name]["type"]
        for name in ("key", "kind", "principals", "agency_name", "doc_type", "status")
    } == {
        "key": "keyword",
        "kind": "keyword",
        "principals": "keyword",
        "agency_name": "keyword",
        "doc_type": "keyword",
        "status": "keyword",
    }
    assert props["acl_seq"]["type"] == "long" and props["date"]["type"] == "date"
    assert props["year"]["type"] == "integer" and props["agency_id"]["type"] == "integer"
    assert props["url"]["index"] is False and props["subtitle"]["index"] is False

    (create,) = cluster.sent("PUT", f"/officeapp-search-v{es_mappings.MAPPING_VERSION}-initial")
    assert create.body == {"aliases": {"officeapp-search": {}}}


def test_ik_max_word_indexes_finely_and_searches_with_ik_smart():
    props = es_mappings.template_body("officeapp", "ik_max_word")["template"]["mappings"]["properties"]

    assert props["title"]["analyzer"] == "ik_max_word"
    assert props["title"]["search_analyzer"] == "ik_smart"
    assert (
        "search_analyzer"
        not in es_mappings.template_body("officeapp", "cjk")["template"]["mappings"]["properties"]["title"]
    )


def test_the_engine_from_settings_uses_the_configured_analyzer_prefix_and_timeout(settings, cluster):
    from search.engines import _engine_for, get_engine

    _engine_for.cache_clear()
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"
    settings.SEARCH_ES_ANALYZER = "ik_max_word"
    settings.SEARCH_ES_INDEX_PREFIX = "gdoa"
    settings.SEARCH_ES_TIMEOUT_SECONDS = 2.5
    try:
        engine = get_engine()
    finally:
        _engine_for.cache_clear()

    assert isinstance(engine, ElasticEngine)
    assert engine.client._retry_on_timeout is True
    assert engine.client._max_retries == 1
    assert engine.client._request_timeout == 2.5
    engine.client = cluster.client()
    engine.index([a_doc()])
    (template,) = cluster.sent("PUT", r"/_index_template/gdoa-search-v\d+")
    assert template.body["template"]["mappings"]["properties"]["title"]["analyzer"] == "ik_max_word"
    assert cluster.sent("PUT", "/_bulk")[0].body[0]["index"]["_index"] == "gdoa-search"


def test_an_analyzer_name_that_is_not_a_name_is_refused():
    with pytest.raises(ValueError):
        ElasticEngine(
            "http://es.invalid:9200", analyzer='cjk", "x', client=Elasticsearch("http://es.invalid:9200")
        )


# --- bulk bodies ------------------------------------------------------------------------------------


def test_index_sends_one_bulk_with_the_key_as_id_and_the_principals(cluster):
    cluster.aliases["officeapp-search"] = ["officeapp-search-v1-initial"]
    engine = engine_on(cluster)

    written = engine.index(
        [
            a_doc("document:1", doc_number="粤府办[２０２６]012号"),
            a_doc(
                "message:9",
                kind="message",
                doc_number="",
                doc_type="",
                acl_seq=120,
                principals=frozenset({"conv:88"}),
            ),
        ]
    )

    assert written == 2
    (bulk,) = cluster.sent("PUT", "/_bulk")
    assert bulk.params == {"require_alias": "true"}
    action, source, action2, source2 = bulk.body
    assert action == {"index": {"_index": "officeapp-search", "_id": "document:1"}}
    assert source == {
        "key": "document:1",
        "kind": "document",
        "title": "关于做好防汛防台风工作的通知",
        "body": "各地要落实防汛责任。",
        "principals": ["doc-office:3", "u:7"],
        "acl_seq": 0,
        "date": "2026-05-04T08:30:00+00:00",
        "year": 2026,
        "agency_id": 3,
        "agency_name": "广东省人民政府办公厅",
        "doc_number": "粤府办[２０２６]012号",
        "doc_number_norm": "粤府办〔2026〕12号",
        "doc_type": "notice",
        "doc_type_label": "通知",
        "status": "issued",
        "status_label": "已发布",
        "subtitle": "",
        "url": "/documents/1/",
    }
    assert action2 == {"index": {"_index": "officeapp-search", "_id": "message:9"}}
    assert source2["principals"] == ["conv:88"] and source2["acl_seq"] == 120
    # empty codes are left out, so they make no empty facet bucket
    assert "doc_type" not in source2 and "doc_number" not in source2


def test_index_with_refresh_makes_the_write_searchable_before_returning(cluster):
    cluster.aliases["officeapp-search"] = ["officeapp-search-v1-initial"]

    engine_on(cluster, refresh=True).index([a_doc()])
    engine_on(cluster, refresh=True).delete(["document:1"])

    bulks = cluster.sent("PUT", "/_bulk")
    assert [b.params.get("refresh") for b in bulks] == ["true", "true"]


def test_writes_during_a_rebuild_also_reach_the_index_being_built(cluster):
    cluster.aliases["officeapp-search"] = ["officeapp-search-v1-old"]
    cluster.aliases["officeapp-search-next"] = ["officeapp-search-v1-new"]
    cluster.deleted_ids = {"document:2"}
    engine = engine_on(cluster)

    assert engine.index([a_doc("document:1")]) == 1
    assert engine.delete(["document:2"]) == 1

    targets = [b.body[0][next(iter(b.body[0]))]["_index"] for b in cluster.sent("PUT", "/_bulk")]
    assert targets == [
        "officeapp-search",
        "officeapp-search-next",
        "officeapp-search",
        "officeapp-search-next",
    ]


def test_delete_is_idempotent_and_counts_only_what_it_removed(cluster):
    cluster.aliases["officeapp-search"] = ["officeapp-search-v1-initial"]
    cluster.deleted_ids = {"document:1"}
    engine = engine_on(cluster)

    removed = engine.delete(["document:1", "document:404", "document:1"])

    assert removed == 1
    (bulk,) = cluster.sent("PUT", "/_bulk")
    assert bulk.body == [
        {"delete": {"_index": "officeapp-search", "_id": "document:1"}},
        {"delete": {"_index": "officeapp-search", "_id": "document:404"}},
    ]


def test_index_and_delete_of_nothing_send_nothing(cluster):
    engine = engine_on(cluster)

    assert engine.index([]) == 0 and engine.delete([]) == 0
    assert cluster.requests == []


# --- search body ------------------------------------------------------------------------------------

PRINCIPALS = {"u:7": None, "doc-office:3": None, "conv:88": 120, "conv:90": 5}


def search_body(cluster: FakeCluster, query: SearchQuery) -> dict[str, Any]:
    cluster.on(
        "POST",
        "/officeapp-search/_search",
        (200, {"hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}}),
    )
    engine_on(cluster).search(query)
    (request,) = cluster.sent("POST", "/officeapp-search/_search")
    return request.body


def anywhere(text: str, title_boost: float | None = None) -> dict[str, Any]:
    title: dict[str, Any] = {"query": text}
    if title_boost:
        title["boost"] = title_boost
    return {
        "bool": {
            "should": [
                {"match_phrase": {"title.uni": title}},
                {"match_phrase": {"body.uni": {"query": text}}},
                {"match_phrase": {"doc_number.uni": {"query": text}}},
            ],
            "minimum_should_match": 1,
        }
    }


def test_search_by_date_ands_terms_excludes_filters_permissions_facets_and_pages(cluster):
    parsed = ParsedQuery(
        raw='乡村振兴 资金 12号 "专项 债券" -通报 -"防汛 工作"',
        terms=("乡村振兴", "资金", "12号"),
        phrases=("专项 债券",),
        excluded=("通报", "防汛 工作"),
    )
    query = SearchQuery(
        parsed=parsed,
        principals=PRINCIPALS,
        filters=Filters(kinds=("document",), agency_ids=(3,), years=(2026,), statuses=("issued",)),
        sort="date",
        page=2,
    )

    body = search_body(cluster, query)

    assert body["from"] == 20 and body["size"] == 20
    assert body["track_total_hits"] == COUNT_CAP + 1
    assert body["sort"] == [{"date": {"order": "desc"}}, {"key": {"order": "asc"}}]
    q = body["query"]["bool"]
    # every run of a term must occur (12号: 12 and 号, as the embedded engine ANDs them); a phrase
    # must occur as a sequence
    assert q["must"] == [
        anywhere("乡村振兴", 2.0),
        anywhere("资金", 2.0),
        anywhere("12", 2.0),
        anywhere("号", 2.0),
        anywhere("专项 债券", 2.0),
    ]
    # a one-run exclusion excludes the run; a several-run one only that sequence
    assert q["must_not"] == [anywhere("通报"), anywhere("防汛 工作")]
    assert q["filter"] == [
        {
            "bool": {
                "should": [
                    {"terms": {"principals": ["doc-office:3", "u:7"]}},
                    {
                        "bool": {
                            "filter": [
                                {"term": {"principals": "conv:88"}},
                                {"range": {"acl_seq": {"gt": 120}}},
                            ]
                        }
                    },
                    {
                        "bool": {
                            "filter": [{"term": {"principals": "conv:90"}}, {"range": {"acl_seq": {"gt": 5}}}]
                        }
                    },
                ],
                "minimum_should_match": 1,
            }
        },
        {"terms": {"status": ["issued"]}},
    ]
    # facet filters narrow the hits after the aggregations (drill-down)
    assert body["post_filter"] == {
        "bool": {
            "filter": [
                {"terms": {"kind": ["document"]}},
                {"terms": {"agency_id": [3]}},
                {"terms": {"year": [2026]}},
            ]
        }
    }
    aggs = body["aggs"]
    assert set(aggs) == {"kind", "agency", "doc_type", "year"}
    assert aggs["kind"]["filter"] == {
        "bool": {"filter": [{"terms": {"agency_id": [3]}}, {"terms": {"year": [2026]}}]}
    }
    assert aggs["agency"]["filter"] == {
        "bool": {"filter": [{"terms": {"kind": ["document"]}}, {"terms": {"year": [2026]}}]}
    }
    assert aggs["year"]["filter"] == {
        "bool": {"filter": [{"terms": {"kind": ["document"]}}, {"terms": {"agency_id": [3]}}]}
    }
    assert aggs["doc_type"]["filter"]["bool"]["filter"] == body["post_filter"]["bool"]["filter"]
    assert aggs["agency"]["aggs"]["values"]["terms"]["field"] == "agency_id"
    assert aggs["agency"]["aggs"]["values"]["aggs"] == {
        "label": {"terms": {"field": "agency_name", "size": 1}}
    }
    assert aggs["year"]["aggs"]["values"]["terms"]["field"] == "year"
    highlight = body["highlight"]
    # Elasticsearch only picks the body's passage, between private-use markers; search.highlight
    # escapes and marks it (see the response test)
    assert highlight["pre_tags"] == [MARK_OPEN] and highlight["post_tags"] == [MARK_CLOSE]
    assert highlight["encoder"] == "default"
    assert highlight["highlight_query"]["bool"]["should"] == q["must"]  # never the excluded words
    assert highlight["fields"] == {
        "body.uni": {"fragment_size": 200, "number_of_fragments": 1, "no_match_size": 200}
    }
    assert set(body["_source"]) >= {"key", "kind", "title", "url", "date"}
    assert "body" not in body["_source"] and "principals" not in body["_source"]


def test_search_by_relevance_blends_recency_and_ranks_the_doc_number_first(cluster):
    parsed = ParsedQuery(
        raw="粤府办[2026]12号", phrases=("粤府办[2026]12号",), doc_number="粤府办〔2026〕12号"
    )
    query = SearchQuery(parsed=parsed, principals={"u:7": None}, facets=False)

    body = search_body(cluster, query)

    fs = body["query"]["function_score"]
    assert fs["score_mode"] == "sum" and fs["boost_mode"] == "multiply"
    assert fs["functions"][0] == {"weight": 1}
    assert set(fs["functions"][1]["exp"]["date"]) == {"origin", "scale", "offset", "decay"}
    inner = fs["query"]["bool"]
    assert {"term": {"doc_number_norm": {"value": "粤府办〔2026〕12号", "boost": 1000.0}}} in inner["should"]
    assert inner["filter"] == [
        {"bool": {"should": [{"terms": {"principals": ["u:7"]}}], "minimum_should_match": 1}}
    ]
    assert body["sort"][0] == {"_score": {"order": "desc"}}
    assert "aggs" not in body and "post_filter" not in body


def test_a_user_with_no_principals_gets_nothing_without_a_request(cluster):
    results = engine_on(cluster).search(
        SearchQuery(parsed=ParsedQuery(raw="防汛", terms=("防汛",)), principals={})
    )

    assert results.hits == [] and results.total == 0
    assert cluster.requests == []


@pytest.mark.parametrize("page", [0, 51])
def test_a_page_outside_one_to_max_page_is_refused_without_a_request(cluster, page):
    query = SearchQuery(parsed=ParsedQuery(raw="防汛", terms=("防汛",)), principals={"u:1": None}, page=page)

    with pytest.raises(QueryError) as caught:
        engine_on(cluster).search(query)

    assert caught.value.message == "页码超出范围。"
    assert cluster.requests == []


def test_the_last_allowed_page_is_asked_for(cluster):
    query = SearchQuery(parsed=ParsedQuery(raw="防汛", terms=("防汛",)), principals={"u:1": None}, page=50)

    assert search_body(cluster, query)["from"] == 49 * 20


# --- reading responses ------------------------------------------------------------------------------


def test_a_response_becomes_results_with_capped_total_facet_labels_and_escaped_marks(cluster):
    response = {
        "hits": {
            "total": {"value": COUNT_CAP + 1, "relation": "gte"},
            "hits": [
                {
                    "_id": "document:1",
                    "_score": 3.5,
                    "_source": {
                        "key": "document:1",
                        "kind": "document",
                        "title": "关于<防汛>工作的通知",
                        "url": "/documents/1/",
                        "date": "2026-05-04T08:30:00+00:00",
                        "agency_name": "广东省人民政府办公厅",
                        "doc_number": "粤府办〔2026〕12号",
                        "doc_type_label": "通知",
                        "status_label": "已发布",
                        "subtitle": "",
                    },
                    "highlight": {
                        "body.uni": [
                            f"各地要落实{MARK_OPEN}防{MARK_CLOSE}{MARK_OPEN}汛{MARK_CLOSE}责任 & <b>"
                        ],
                    },
                },
                {
                    "_id": "message:9",
                    "_score": 1.0,
                    "_source": {
                        "key": "message:9",
                        "kind": "message",
                        "title": "A & B",
                        "url": "/chat/9/",
                        "date": "2026-01-01T00:00:00+00:00",
                    },
                },
            ],
        },
        "aggregations": {
            "kind": {
                "doc_count": 20000,
                "values": {
                    "buckets": [
                        {"key": "document", "doc_count": 12000},
                        {"key": "message", "doc_count": 8000},
                    ]
                },
            },
            "agency": {
                "doc_count": 5,
                "values": {
                    "buckets": [
                        {
                            "key": 3,
                            "doc_count": 5,
                            "label": {"buckets": [{"key": "广东省人民政府办公厅", "doc_count": 5}]},
                        }
                    ]
                },
            },
            "doc_type": {
                "doc_count": 5,
                "values": {
                    "buckets": [
                        {
                            "key": "notice",
                            "doc_count": 5,
                            "label": {"buckets": [{"key": "通知", "doc_count": 5}]},
                        }
                    ]
                },
            },
            "year": {"doc_count": 5, "values": {"buckets": [{"key": 2026, "doc_count": 5}]}},
        },
    }
    cluster.on("POST", "/officeapp-search/_search", (200, response))
    query = SearchQuery(parsed=ParsedQuery(raw="防汛", terms=("防汛",)), principals={"u:7": None})

    results = engine_on(cluster).search(query)

    assert results.total == COUNT_CAP and results.total_capped is True
    first, second = results.hits
    assert first.key == "document:1" and first.score == 3.5
    assert first.title_html == "关于&lt;<mark>防汛</mark>&gt;工作的通知"
    assert first.snippet_html == "各地要落实<mark>防汛</mark>责任 &amp; &lt;b&gt;"
    assert first.date == datetime(2026, 5, 4, 8, 30, tzinfo=UTC)
    assert first.doc_number == "粤府办〔2026〕12号" and first.doc_type_label == "通知"
    assert second.title_html == "A &amp; B" and second.snippet_html == ""
    kinds = results.facets["kind"]
    assert [(v.value, v.label, v.count, v.capped) for v in kinds] == [
        ("document", "公文", COUNT_CAP, True),
        ("message", "消息", 8000, False),
    ]
    assert [(v.value, v.label) for v in results.facets["agency"]] == [("3", "广东省人民政府办公厅")]
    assert [(v.value, v.label) for v in results.facets["doc_type"]] == [("notice", "通知")]
    assert [(v.value, v.label, v.count) for v in results.facets["year"]] == [("2026", "2026", 5)]


def test_an_exact_total_under_the_cap_is_not_capped(cluster):
    cluster.on(
        "POST",
        "/officeapp-search/_search",
        (200, {"hits": {"total": {"value": COUNT_CAP, "relation": "eq"}, "hits": []}}),
    )

    results = engine_on(cluster).search(
        SearchQuery(parsed=ParsedQuery(raw="a", terms=("a",)), principals={"u:1": None})
    )

    assert results.total == COUNT_CAP and results.total_capped is False


def test_search_before_anything_is_indexed_finds_nothing(cluster):
    results = engine_on(cluster).search(
        SearchQuery(parsed=ParsedQuery(raw="a", terms=("a",)), principals={"u:1": None})
    )

    assert results.total == 0 and results.facets["kind"] == []


# --- suggest, visible_keys, count, clear, check ----------------------------------------------------------


def test_suggest_asks_for_visible_titles_containing_the_prefix_newest_first(cluster):
    hits = [
        {"_id": "document:1", "_source": {"title": "防汛通知", "url": "/documents/1/", "kind": "document"}}
    ]
    cluster.on(
        "POST",
        "/officeapp-search/_search",
        (200, {"hits": {"total": {"value": 1, "relation": "eq"}, "hits": hits}}),
    )

    suggestions = engine_on(cluster).suggest(" 防汛 ", {"u:7": None, "conv:88": 120}, limit=5)

    assert [(s.title, s.url, s.kind) for s in suggestions] == [("防汛通知", "/documents/1/", "document")]
    (request,) = cluster.sent("POST", "/officeapp-search/_search")
    assert request.body["size"] == 5
    assert request.body["query"]["bool"]["must"] == [
        {"match_phrase_prefix": {"title.uni": {"query": "防汛", "max_expansions": 50}}}
    ]
    assert request.body["query"]["bool"]["filter"][0]["bool"]["should"][1] == {
        "bool": {"filter": [{"term": {"principals": "conv:88"}}, {"range": {"acl_seq": {"gt": 120}}}]}
    }
    assert request.body["sort"][0] == {"date": {"order": "desc"}}


def test_visible_keys_pages_through_every_visible_key(cluster):
    pages = iter(
        [
            [{"_id": f"document:{i:04d}", "sort": [f"document:{i:04d}"]} for i in range(1000)],
            [{"_id": "message:1", "sort": ["message:1"]}],
        ]
    )
    cluster.on("POST", "/officeapp-search/_search", lambda r: (200, {"hits": {"hits": next(pages)}}))

    keys = engine_on(cluster).visible_keys({"u:7": None}, kind="document")

    assert len(keys) == 1001 and "message:1" in keys
    first, second = cluster.sent("POST", "/officeapp-search/_search")
    assert first.body["query"]["bool"]["filter"][1] == {"term": {"kind": "document"}}
    assert "search_after" not in first.body
    assert second.body["search_after"] == ["document:0999"]


def test_count_goes_through_the_alias(cluster):
    cluster.on("POST", "/officeapp-search/_count", (200, {"count": 42}))

    assert engine_on(cluster).count() == 42


def test_clear_deletes_every_index_of_the_prefix_by_name_and_the_template(cluster):
    cluster.on(
        "GET",
        "/officeapp-search-v\\*/_alias",
        (
            200,
            {
                "officeapp-search-v1-initial": {"aliases": {"officeapp-search": {}}},
                "officeapp-search-v1-2": {"aliases": {}},
            },
        ),
    )
    engine = engine_on(cluster)

    engine.clear()

    assert [r.path for r in cluster.sent("DELETE", ".*")] == [
        "/officeapp-search-v1-2,officeapp-search-v1-initial",
        f"/_index_template/officeapp-search-v{es_mappings.MAPPING_VERSION}",
    ]
    # the next write puts the template and an index behind the alias again
    engine.index([a_doc()])
    assert cluster.sent("PUT", f"/_index_template/officeapp-search-v{es_mappings.MAPPING_VERSION}")
    assert cluster.sent("PUT", f"/officeapp-search-v{es_mappings.MAPPING_VERSION}-initial")


def test_check_reports_the_server_version_and_the_mapping_version(cluster):
    cluster.aliases["officeapp-search"] = ["officeapp-search-v1-initial"]
    cluster.on("GET", "/", (200, {"version": {"number": "8.19.3"}, "tagline": "You Know, for Search"}))
    cluster.on("GET", "/_cluster/health/officeapp-search", (200, {"status": "green"}))
    cluster.on("POST", "/officeapp-search/_count", (200, {"count": 7}))
    cluster.on(
        "GET",
        "/officeapp-search/_mapping",
        (
            200,
            {
                "officeapp-search-v1-initial": {
                    "mappings": {"_meta": {"mapping_version": es_mappings.MAPPING_VERSION}}
                }
            },
        ),
    )

    facts = engine_on(cluster).check()

    assert facts["engine"] == "elasticsearch"
    assert facts["server_version"] == "8.19.3" and facts["documents"] == 7
    assert facts["mapping_current"] is True and facts["indices"] == ["officeapp-search-v1-initial"]


def test_check_refuses_a_server_that_is_not_elasticsearch_8(cluster):
    cluster.on("GET", "/", (200, {"version": {"number": "9.1.0"}}))

    with pytest.raises(SearchUnavailable) as caught:
        engine_on(cluster).check()

    assert caught.value.message == "搜索服务暂时不可用，请稍后再试。"


# --- rebuild: a new index, then one atomic alias swap ----------------------------------------------


class Progress:
    def __init__(self) -> None:
        self.n = 0

    def update(self, n: int) -> None:
        self.n += n


def test_rebuild_fills_a_new_index_then_swaps_the_alias_in_one_call_and_drops_the_old(cluster):
    cluster.aliases["officeapp-search"] = ["officeapp-search-v1-initial"]
    cluster.on("POST", r"/officeapp-search-v1-\d+/_count", (200, {"count": 1203}))
    progress = Progress()

    held = engine_on(cluster).rebuild(
        iter([a_doc(f"document:{i}") for i in range(1203)]), total=1203, progress=progress
    )

    assert held == 1203 and progress.n == 1203
    (create,) = [r for r in cluster.sent("PUT", r"/officeapp-search-v1-\d{20}")]
    new = create.path.lstrip("/")
    assert create.body == {
        "aliases": {"officeapp-search-next": {}},
        "settings": {"index": {"refresh_interval": "-1"}},
    }
    bulks = cluster.sent("PUT", "/_bulk")
    assert [len(b.body) // 2 for b in bulks] == [500, 500, 203]
    assert {line["index"]["_index"] for b in bulks for line in b.body[::2]} == {new}
    (settings,) = cluster.sent("PUT", f"/{new}/_settings")
    assert settings.body == {"index": {"refresh_interval": None}}
    assert cluster.sent("POST", f"/{new}/_refresh")
    (swap,) = cluster.sent("POST", "/_aliases")
    assert swap.body == {
        "actions": [
            {"remove": {"index": "officeapp-search-v1-initial", "alias": "officeapp-search"}},
            {"add": {"index": new, "alias": "officeapp-search"}},
            {"remove": {"index": new, "alias": "officeapp-search-next"}},
        ]
    }
    (drop,) = cluster.sent("DELETE", r"/officeapp-search-v1-.*")
    assert drop.path == "/officeapp-search-v1-initial"
    order = [(r.method, r.path) for r in cluster.requests]
    assert order.index(("POST", "/_aliases")) < order.index(("DELETE", "/officeapp-search-v1-initial"))


def test_a_rebuild_that_fails_drops_its_index_and_leaves_the_alias_alone(cluster):
    cluster.aliases["officeapp-search"] = ["officeapp-search-v1-initial"]
    cluster.on("PUT", "/_bulk", (500, {"error": {"type": "internal_server_error"}, "status": 500}))

    with pytest.raises(ApiError):
        engine_on(cluster).rebuild(iter([a_doc()]))

    assert cluster.sent("POST", "/_aliases") == []
    (drop,) = cluster.sent("DELETE", r"/officeapp-search-v1-.*")
    assert drop.path != "/officeapp-search-v1-initial"


def test_facet_values_with_equal_counts_are_ordered_by_label_as_the_embedded_engine_orders_them(cluster):
    buckets = [
        {"key": 9, "doc_count": 4, "label": {"buckets": [{"key": "省财政厅", "doc_count": 4}]}},
        {"key": 3, "doc_count": 4, "label": {"buckets": [{"key": "省教育厅", "doc_count": 4}]}},
        {"key": 5, "doc_count": 7, "label": {"buckets": [{"key": "省政府", "doc_count": 7}]}},
    ]
    response = {
        "hits": {"total": {"value": 15, "relation": "eq"}, "hits": []},
        "aggregations": {"agency": {"doc_count": 15, "values": {"buckets": buckets}}},
    }
    cluster.on("POST", "/officeapp-search/_search", (200, response))

    results = engine_on(cluster).search(
        SearchQuery(parsed=ParsedQuery(raw="a", terms=("a",)), principals={"u:1": None})
    )

    assert [v.label for v in results.facets["agency"]] == ["省政府", *sorted(["省财政厅", "省教育厅"])]


def test_two_processes_creating_the_first_index_at_once_end_with_one_index_behind_the_alias(cluster):
    initial = f"/officeapp-search-v{es_mappings.MAPPING_VERSION}-initial"
    exists = {"error": {"type": "resource_already_exists_exception"}, "status": 400}
    cluster.on("PUT", initial, (400, exists))

    engine_on(cluster).index([a_doc()])

    (put_alias,) = cluster.sent("PUT", f"{initial}/_alias/officeapp-search")
    assert cluster.sent("PUT", "/_bulk")
    assert put_alias.body is None
