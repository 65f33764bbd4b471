"""Fixtures for the search engine tests: an IndexDoc factory and an embedded engine on tmp_path.
Other search tests import make_doc from here; keep it small and stable."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from search.engines.embedded import EmbeddedEngine
from search.interface import IndexDoc

BASE_DATE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def make_doc(**overrides: Any) -> IndexDoc:
    """A visible-to-"u:1" document; any IndexDoc field may be overridden. `principals` may be given
    as any iterable of strings."""
    key = overrides.pop("key", "document:1")
    fields: dict[str, Any] = {
        "key": key,
        "kind": key.split(":", 1)[0]
        if key.split(":", 1)[0] in {"document", "meeting", "message"}
        else "document",
        "title": "关于做好防汛工作的通知",
        "body": "各单位：请做好防汛准备。",
        "principals": frozenset({"u:1"}),
        "url": f"/{key.replace(':', '/')}/",
        "date": BASE_DATE,
    }
    fields.update(overrides)
    fields["principals"] = frozenset(fields["principals"])
    return IndexDoc(**fields)


@pytest.fixture
def embedded_engine(tmp_path: Path) -> EmbeddedEngine:
    return EmbeddedEngine(tmp_path / "index" / "search.sqlite3")
