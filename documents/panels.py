"""Panels a higher app adds to the document page (documents cannot import workflows).

workflows registers the flow panel (opinions, where the document is, what the viewer may do) from
its AppConfig.ready(): `document_panels.register("flow", panel)` where
`panel(request, document) -> str` returns safe HTML, or "" when it has nothing to show.
"""

from __future__ import annotations

from officeapp.registries import Registry

document_panels: Registry = Registry("document_panels")
