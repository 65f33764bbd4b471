"""The kinds of record a 督办事项 may come from (its `source_type`/`source_id` generic reference).

A 收文/发文 is registered here by workflows itself (`register_default_sources`, called from
WorkflowsConfig.ready()); meetings register their 会议决定 when they land, from their own ready().
The item keeps only a content type and an id, never a foreign key to a higher app, so the item page
asks this registry for the record's label, its page and whether the reader may open it.

    supervision_sources.register("meeting", SourceKind(
        key="meeting", model="meetings.Meeting", label="会议",
        describe=lambda m: m.title, url=lambda m: f"/meetings/{m.pk}/",
        visible=lambda user, m: can_view_meeting(user, m)))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from officeapp.registries import Registry


@dataclass(frozen=True)
class SourceKind:
    """One kind of source record: `model` is "app_label.ModelName"; `describe(obj)` its short
    label (e.g. the 文号 and title); `url(obj)` its page; `visible(user, obj)` whether the user may
    open it (the link is shown only then; the label always, it was typed at 立项 anyway)."""

    key: str
    model: str
    label: str
    describe: Callable[[Any], str]
    url: Callable[[Any], str]
    visible: Callable[[Any, Any], bool]

    def model_class(self) -> Any:
        return apps.get_model(self.model)


@dataclass(frozen=True)
class SourceLink:
    """What an item page shows for its source: the kind, a label and (when visible) a link."""

    kind: str
    label: str
    url: str


supervision_sources: Registry[SourceKind] = Registry("supervision_sources")


def _document_label(document: Any) -> str:
    number = getattr(document, "doc_number", "") or ""
    incoming = getattr(document, "incoming", None) if getattr(document, "is_incoming", False) else None
    if incoming is not None:
        number = incoming.number or incoming.source_number or number
    return f"{number} {document.title}".strip()


def _document_visible(user: Any, document: Any) -> bool:
    from documents.access import can_view

    return bool(can_view(user, document))


DOCUMENT_SOURCE = SourceKind(
    key="document",
    model="documents.OfficialDocument",
    label="公文",
    describe=_document_label,
    url=lambda document: reverse("documents:detail", args=[document.pk]),
    visible=_document_visible,
)


def register_default_sources() -> None:
    """The 收文/发文 source (workflows' own). Safe to call twice (tests call it from a fixture)."""
    if DOCUMENT_SOURCE.key not in supervision_sources:
        supervision_sources.register(DOCUMENT_SOURCE.key, DOCUMENT_SOURCE)


def kind_for(obj: Any) -> SourceKind | None:
    """The registered kind of a source record, by its model; None for an unregistered one."""
    label = obj._meta.label
    for kind in supervision_sources.values():
        if kind.model.lower() == label.lower():
            return kind
    return None


def source_of(item: Any) -> Any | None:
    """The item's source record, or None (none given, or since deleted, or its app not installed)."""
    if not item.source_type_id or not item.source_id:
        return None
    content_type = ContentType.objects.get_for_id(item.source_type_id)
    model = content_type.model_class()
    if model is None:
        return None
    return model._default_manager.filter(pk=item.source_id).first()


def source_link(item: Any, user: Any) -> SourceLink | None:
    """The item's source as the page shows it to `user`: the link only when the user may open it."""
    obj = source_of(item)
    if obj is None:
        if item.source_label:
            return SourceLink(kind="", label=item.source_label, url="")
        return None
    kind = kind_for(obj)
    if kind is None:
        return SourceLink(kind="", label=item.source_label or str(obj), url="")
    label = item.source_label or kind.describe(obj)
    url = kind.url(obj) if kind.visible(user, obj) else ""
    return SourceLink(kind=kind.label, label=label, url=url)
