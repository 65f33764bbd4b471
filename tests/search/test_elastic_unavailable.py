"""Elasticsearch down: reads say so in Chinese (SearchUnavailable) and the rest of the site works; writes
raise, so the outbox consumer advances nothing and retries with backoff (nothing is lost)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from elastic_transport import ApiResponseMeta, BaseNode, ConnectionError, HttpHeaders
from elastic_transport._node import NodeApiResponse  # not re-exported at the top level
from elasticsearch import ApiError, Elasticsearch

from search.engines.elastic import ElasticEngine
from search.interface import IndexDoc, ParsedQuery, SearchQuery, SearchUnavailable

MESSAGE = "搜索服务暂时不可用，请稍后再试。"
QUERY = SearchQuery(parsed=ParsedQuery(raw="防汛", terms=("防汛",)), principals={"u:7": None})
DOC = IndexDoc(
    key="document:1",
    kind="document",
    title="防汛通知",
    body="",
    principals=frozenset({"u:7"}),
    url="/documents/1/",
    date=datetime(2026, 5, 4, tzinfo=UTC),
)


def failing_client(status: int, *, product_header: bool = True) -> Elasticsearch:
    """Every request gets `status` (with the product header an 8.x server sends, unless told not to)."""

    class FailingNode(BaseNode):
        def perform_request(self, method, target, body=None, headers=None, request_timeout=None):  # type: ignore[no-untyped-def,override]
            response_headers = {"content-type": "application/json"}
            if product_header:
                response_headers["X-Elastic-Product"] = "Elasticsearch"
            payload = {"error": {"type": "some_failure", "reason": "boom"}, "status": status}
            meta = ApiResponseMeta(
                status=status,
                http_version="1.1",
                headers=HttpHeaders(response_headers),
                duration=0.0,
                node=self.config,
            )
            return NodeApiResponse(meta, json.dumps(payload).encode())

    return Elasticsearch("http://es.invalid:9200", node_class=FailingNode, max_retries=0)


@pytest.fixture
def refused() -> ElasticEngine:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    return ElasticEngine("http://127.0.0.1:9", timeout=0.5)


def reads(engine: ElasticEngine) -> dict[str, Any]:
    return {
        "search": lambda: engine.search(QUERY),
        "suggest": lambda: engine.suggest("防汛", {"u:7": None}),
        "visible_keys": lambda: engine.visible_keys({"u:7": None}),
        "count": engine.count,
        "check": engine.check,
    }


@pytest.mark.parametrize("read", ["search", "suggest", "visible_keys", "count", "check"])
def test_every_read_says_search_is_unavailable_when_the_connection_is_refused(refused, read):
    with pytest.raises(SearchUnavailable) as caught:
        reads(refused)[read]()

    assert caught.value.message == MESSAGE


def test_writes_raise_the_connection_error_so_the_outbox_retries(refused):
    with pytest.raises(ConnectionError):
        refused.index([DOC])
    with pytest.raises(ConnectionError):
        refused.delete(["document:1"])


@pytest.mark.parametrize("status", [500, 503])
@pytest.mark.parametrize("read", ["search", "suggest", "visible_keys", "count", "check"])
def test_every_read_says_search_is_unavailable_on_a_server_error(status, read):
    engine = ElasticEngine("http://es.invalid:9200", client=failing_client(status))

    with pytest.raises(SearchUnavailable) as caught:
        reads(engine)[read]()

    assert caught.value.message == MESSAGE


def test_a_server_error_while_indexing_propagates():
    engine = ElasticEngine("http://es.invalid:9200", client=failing_client(500))

    with pytest.raises(ApiError):
        engine.index([DOC])


def test_a_server_that_is_not_elasticsearch_is_unavailable():
    # The 8.x client refuses a response without X-Elastic-Product: Elasticsearch (a proxy's error page,
    # another product on the port).
    engine = ElasticEngine("http://es.invalid:9200", client=failing_client(200, product_header=False))

    with pytest.raises(SearchUnavailable):
        engine.search(QUERY)
