"""Search source(s) for meetings: filled in by issue 9's work (see search/sources/__init__.py)."""

from __future__ import annotations

from search.sources import Source

SOURCES: list[Source] = []
