"""The refusals documents' services raise. Each carries the Chinese message a user sees; views
show it above the re-rendered form, so nothing typed is lost."""

from __future__ import annotations

from typing import Any


class DocumentError(Exception):
    """A refused operation on a document; `message` is shown to the user as is."""

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context


class StaleVersion(DocumentError):
    """The save was based on an older version than the latest; `context["latest"]` is the newer one."""


class ClassifiedRefused(DocumentError):
    """秘密 and above are refused unless the deployment allows classified documents."""


class NumberRuleBroken(DocumentError):
    """A 文号 or date does not follow its rule (G14, G29); the message names the rule."""


class DocumentFrozen(DocumentError):
    """正文 is frozen from 排版 on, or the document is archived (read-only)."""


class RenderFailed(DocumentError):
    """Rendering (docx/PDF) failed; the document and the flow are left as they were."""


class SealRefused(DocumentError):
    """用印 refused: not the agency's seal keeper, no active seal, nothing to seal."""
