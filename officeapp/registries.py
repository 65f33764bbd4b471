"""Registries that higher apps fill from their AppConfig.ready().

Arrows point down only: officeapp never imports documents, workflows, chat, meetings or search.
Instead it offers a named registry here, and each app registers its socket handlers, health
checks, workbench tiles, inbox sources, search indexers, API routers and hand-over providers.
Keys are strings; registering the same key twice is a programming error and raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class DuplicateRegistration(RuntimeError):
    pass


class Registry(Generic[T]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._items: dict[str, T] = {}

    def register(self, key: str, item: T) -> T:
        if key in self._items:
            raise DuplicateRegistration(f"{self.name}: '{key}' is already registered")
        self._items[key] = item
        return item

    def get(self, key: str) -> T | None:
        return self._items.get(key)

    def __getitem__(self, key: str) -> T:
        return self._items[key]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(list(self._items.items()))

    def values(self) -> list[T]:
        return list(self._items.values())

    def keys(self) -> list[str]:
        return list(self._items)

    def unregister(self, key: str) -> None:
        """For tests that register a temporary entry."""
        self._items.pop(key, None)


# The registries themselves. Each docstring-comment says what a registered item is; the owning
# module in officeapp documents the exact protocol next to the code that calls it.

# "<event type>" -> async handler(consumer, payload: dict) for messages a client sends on /ws/
# (officeapp.notify.consumers). A handler that subscribes to a group checks the app's access first.
socket_handlers: Registry = Registry("socket_handlers")

# "<component>" -> callable() -> None, raising on failure; reported by /healthz (officeapp.health).
health_checks: Registry = Registry("health_checks")

# "<tile key>" -> officeapp.workbench.tiles.Tile (title, order, count(user), url, template).
workbench_tiles: Registry = Registry("workbench_tiles")

# "<source>" -> inbox source with to_do(user), done(user), completed(user) querysets/lists
# (filled by workflows for its own tasks and, later, external to-dos).
inbox_sources: Registry = Registry("inbox_sources")

# "<kind>" -> search indexer (filled by the search app for each model it indexes).
search_indexers: Registry = Registry("search_indexers")

# "<prefix>" -> URL patterns of an app's api.py, mounted under /api/ by officeapp/urls.py.
api_routers: Registry = Registry("api_routers")

# "<kind of open work>" -> officeapp.org.handover.HandoverProvider: when a user is disabled or
# transferred, every provider moves that user's open work (tasks, supervision items, group
# ownership, seal role ...) to the named successor or the department head.
handover_providers: Registry = Registry("handover_providers")

# "<consumer name>" -> callable(list[OutboxEvent]) -> None, drained with its own cursor
# (officeapp.outbox); search indexing and webhooks register here.
outbox_consumers: Registry = Registry("outbox_consumers")

# "<schedule name>" -> officeapp.worker.schedules.Schedule (func path, minutes); synced into
# django-q2 schedules by `manage.py sync_schedules` (make run calls it).
worker_schedules: Registry = Registry("worker_schedules")

# "<referrer>" -> officeapp.blobs.referrers.BlobReferrer: answers whether a user may read a blob
# through this referrer (an attachment, a chat file, a meeting material) and which blobs it still
# references (the retention job removes only blobs no referrer claims).
blob_referrers: Registry = Registry("blob_referrers")

# "<key>" -> officeapp.workbench.navigation.NavEntry(label, url_name, order, visible(user) -> bool):
# the higher apps' entries in the top navigation (我的公文, 待办 …), after 工作台 and 通讯录.
nav_entries: Registry = Registry("nav_entries")

# "<key>" -> callable(stdout: Callable[[str], Any]) -> str: the higher apps' part of `load_demo`,
# run in key order after the province is built (documents in every state, …); returns a summary line.
demo_builders: Registry = Registry("demo_builders")

# "<key>" -> callable(viewer, entry: officeapp.org.directory.DirectoryEntry) -> PersonAction | None:
# buttons on a person's 通讯录 card (发消息 …), in key order.
person_actions: Registry = Registry("person_actions")

# "<event key>" -> officeapp.integration.events.EventSource(label, matches(row), build(row)): webhook
# events that only a higher app can build (supervision.item.changed from workflows); the platform's
# own (user.*, department.changed, document.distributed) are defined in officeapp.integration.events.
webhook_events: Registry = Registry("webhook_events")
