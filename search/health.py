"""Health check "search" on /healthz: the engine answers, and the index is at most a minute behind."""

from __future__ import annotations

from officeapp.outbox.drain import lag_seconds
from search.engines import get_engine
from search.indexing import CONSUMER

# Past this the index is called stale: a search may miss a document issued a minute ago.
MAX_LAG_SECONDS = 60.0


class SearchLagging(RuntimeError):
    pass


def search_health() -> dict[str, object]:
    """Raises SearchUnavailable when the engine cannot answer, SearchLagging past MAX_LAG_SECONDS;
    otherwise returns the facts /healthz may show (no hosts, no messages from the outside)."""
    engine = get_engine()
    engine.check()
    lag = round(lag_seconds(CONSUMER), 1)
    if lag > MAX_LAG_SECONDS:
        raise SearchLagging(f"搜索索引落后 {lag:.0f} 秒（上限 {MAX_LAG_SECONDS:.0f} 秒）。")
    return {"engine": engine.name, "lag_seconds": lag}
