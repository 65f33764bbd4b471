"""正文 as the plain text a person types in the browser, and back.

One paragraph per line. A line that starts with a heading number becomes that heading level
(G24): 一、 → h1 (黑体), （一） → h2 (楷体), 1. or 1． → h3, （1） → h4; everything else is a paragraph.
"""

from __future__ import annotations

import re
from typing import Any

HEADING_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("h1", re.compile(r"^[一二三四五六七八九十百]+、")),
    ("h2", re.compile(r"^[（(][一二三四五六七八九十百]+[）)]")),
    ("h3", re.compile(r"^\d+[.．]")),
    ("h4", re.compile(r"^[（(]\d+[）)]")),
]


def kind_of(line: str) -> str:
    for kind, pattern in HEADING_PATTERNS:
        if pattern.match(line):
            return kind
    return "p"


def blocks_from_text(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip().replace("\u3000", "")
        if line:
            blocks.append({"kind": kind_of(line), "text": line})
    return blocks


def text_from_blocks(blocks: list[dict[str, Any]] | None) -> str:
    return "\n".join(str(b.get("text", "")) for b in blocks or [])
