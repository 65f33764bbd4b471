"""The engine chosen by settings: Elasticsearch when ELASTICSEARCH_URL is set, else the embedded one."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from search.interface import Engine


@lru_cache(maxsize=4)
def _engine_for(url: str, index_path: str, prefix: str, analyzer: str) -> Engine:
    if url:
        from search.engines.elastic import ElasticEngine

        return ElasticEngine(url, index_prefix=prefix, analyzer=analyzer)
    from search.engines.embedded import EmbeddedEngine

    return EmbeddedEngine(index_path)


def get_engine() -> Engine:
    """Keyed by the settings, so a test that overrides SEARCH_INDEX_PATH gets its own engine."""
    return _engine_for(
        settings.ELASTICSEARCH_URL,
        str(settings.SEARCH_INDEX_PATH),
        settings.SEARCH_ES_INDEX_PREFIX,
        settings.SEARCH_ES_ANALYZER,
    )
