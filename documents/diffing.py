"""痕迹: what changed between two versions of 正文, character by character.

Chinese has no spaces to split words on, so the diff is per character (diff-match-patch) with its
semantic cleanup, which merges the confetti of one-character matches into readable runs. Each block
of the structured body is one line, so a heading that became a paragraph shows as changed text.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Literal

from diff_match_patch import diff_match_patch
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from documents.bodytext import text_from_blocks
from documents.models import DocumentVersion

Op = Literal["equal", "insert", "delete"]
_OPS: dict[int, Op] = {0: "equal", 1: "insert", -1: "delete"}

# A diff of two long versions must not hang a request: diff-match-patch falls back to a coarser
# (still correct) diff after this many seconds.
DIFF_TIMEOUT_SECONDS = 2.0


def _text(side: DocumentVersion | list[dict[str, Any]] | str | None) -> str:
    if side is None:
        return ""
    if isinstance(side, DocumentVersion):
        return text_from_blocks(side.body)
    if isinstance(side, str):
        return side
    return text_from_blocks(side)


def diff_versions(
    old: DocumentVersion | list[dict[str, Any]] | str | None,
    new: DocumentVersion | list[dict[str, Any]] | str | None,
) -> list[tuple[Op, str]]:
    """(op, text) runs turning `old` into `new`; versions, bodies or plain text alike."""
    engine = diff_match_patch()
    engine.Diff_Timeout = DIFF_TIMEOUT_SECONDS
    diffs = engine.diff_main(_text(old), _text(new))
    engine.diff_cleanupSemantic(diffs)
    return [(_OPS[op], text) for op, text in diffs if text]


def diff_html(ops: list[tuple[Op, str]]) -> SafeString:
    """The runs as HTML: insertions in <ins>, deletions in <del>, every piece of text escaped
    (a body may contain "<script>"), line breaks kept as <br>."""
    parts: list[str] = []
    for op, text in ops:
        safe = str(escape(text)).replace("\n", "<br>")
        if op == "insert":
            parts.append(f"<ins>{safe}</ins>")
        elif op == "delete":
            parts.append(f"<del>{safe}</del>")
        else:
            parts.append(safe)
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped


def change_counts(ops: list[tuple[Op, str]]) -> tuple[int, int]:
    """(characters inserted, characters deleted): the summary above a 痕迹 page."""
    inserted = sum(len(t) for op, t in ops if op == "insert")
    deleted = sum(len(t) for op, t in ops if op == "delete")
    return inserted, deleted


def _substance(text: str) -> str:
    # NFKC folds full-width letters and digits into their plain forms ("１" → "1"); then every
    # punctuation mark (Unicode category P*) and every space goes: what remains is the wording.
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if not c.isspace() and not unicodedata.category(c).startswith("P"))


def is_substantive(
    old_body: list[dict[str, Any]] | str | None, new_body: list[dict[str, Any]] | str | None
) -> bool:
    """True when the wording changed. Punctuation and whitespace alone are not substantive (复核 may
    fix them without going back to the signer); any other character changed, added or removed is."""
    return _substance(_text(old_body)) != _substance(_text(new_body))


__all__ = ["change_counts", "diff_html", "diff_versions", "is_substantive"]
