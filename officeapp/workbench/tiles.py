"""工作台 tiles. Apps register a Tile in `officeapp.registries.workbench_tiles` from AppConfig.ready().

A tile must cost at most one query for its count and items together (`head_and_count` does that for
a queryset with a window count), so the workbench's query count stays the same at 10 and 10⁶ tasks.

Inbox sources (`officeapp.registries.inbox_sources`, filled by workflows and later external to-dos)
offer `to_do(user)`, `to_read(user)` (optional) and `done(user)`, each a queryset or list of items with
`title`, `url` and optionally `when` (a datetime) and `meta` (a short line such as the sender).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from officeapp.registries import inbox_sources, workbench_tiles


@dataclass(frozen=True)
class TileItem:
    title: str
    url: str
    when: datetime | None = None
    meta: str = ""


Loader = Callable[[Any, int], tuple[int | None, list[Any]]]


@dataclass(frozen=True)
class Tile:
    """`count(user)` is the number on the tile (None: no number); `items(user, limit)` the lines shown.
    A tile that can fetch both in one query passes `load(user, limit) -> (count, items)` instead, and
    the workbench calls only that. `url` is a URL name ("notify:list") or a path."""

    key: str
    title: str
    order: int
    count: Callable[[Any], int | None] | None = None
    items: Callable[[Any, int], list[Any]] | None = None
    url: str = ""
    empty_text: str = "暂无内容"
    # "list" shows items as lines; "apps" as a launcher grid.
    layout: str = "list"
    load: Loader | None = None

    def fetch(self, user: Any, limit: int) -> tuple[int | None, list[Any]]:
        if self.load is not None:
            return self.load(user, limit)
        count = self.count(user) if self.count else None
        return count, (self.items(user, limit) if self.items else [])


def loaded(key: str, title: str, order: int, load: Loader, **options: Any) -> Tile:
    """A Tile whose count and items come from one loader (one query)."""
    return Tile(key, title, order, load=load, **options)


@dataclass
class RenderedTile:
    tile: Tile
    count: int | None
    items: list[Any]


class TileCount(int):
    """A tile's number; `capped` when the real number may be larger (shown as "1000+")."""

    capped: bool = False

    @classmethod
    def of(cls, value: int, cap: int) -> TileCount:
        count = cls(min(value, cap))
        count.capped = value >= cap
        return count


# Counting stops here: counting a user's million old tasks would make the workbench slower the longer
# someone works, and "1000+" says all a person needs.
COUNT_CAP = 1000


def head_and_count(
    rows: QuerySet[Any] | Iterable[Any], limit: int, cap: int = COUNT_CAP
) -> tuple[int, list[Any]]:
    """The first `limit` rows and the total (capped), in one query for a queryset: each row carries
    `SELECT COUNT(*) FROM (<the same filter> LIMIT cap)`, which stops after `cap` index entries;
    when there is no row the total is 0 and no second query is needed."""
    if isinstance(rows, QuerySet):
        capped = rows.order_by().values("pk")[:cap]
        if limit <= 0:
            return TileCount.of(capped.count(), cap), []
        # Django's own compiled SQL with its parameters kept apart: nothing typed by a user is pasted in.
        sql, params = capped.query.sql_with_params()
        total = RawSQL(f"SELECT COUNT(*) FROM ({sql}) tile_capped", params)  # noqa: S608, S611
        head = list(rows.annotate(_tile_total=total)[:limit])
        return TileCount.of(head[0]._tile_total if head else 0, cap), head
    items = list(rows)
    return TileCount.of(len(items), cap), items[:limit]


def as_item(obj: Any) -> TileItem:
    if isinstance(obj, TileItem):
        return obj
    return TileItem(
        title=str(getattr(obj, "title", obj)),
        url=str(getattr(obj, "url", "") or ""),
        when=getattr(obj, "when", None) or getattr(obj, "created_at", None),
        meta=str(getattr(obj, "meta", "") or ""),
    )


def inbox_loader(method: str) -> Loader:
    """Merge one list (to_do / to_read / done) of every registered inbox source."""

    def load(user: Any, limit: int) -> tuple[int | None, list[Any]]:
        total, capped, items = 0, False, []
        for source in inbox_sources.values():
            fetch = getattr(source, method, None)
            if fetch is None:
                continue
            count, head = head_and_count(fetch(user), limit)
            total += count
            capped = capped or getattr(count, "capped", False)
            items.extend(as_item(i) for i in head)
        items.sort(key=lambda i: i.when.timestamp() if i.when else 0, reverse=True)
        result = TileCount(total)
        result.capped = capped
        return result, items[:limit]

    return load


def notifications_loader(user: Any, limit: int) -> tuple[int | None, list[Any]]:
    """The latest unread notifications. Imported lazily: the notify app owns the model."""
    try:
        from officeapp.notify.models import Notification
    except ImportError:
        return 0, []
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True).order_by("-id")
    count, head = head_and_count(rows, limit)
    return count, [TileItem(title=n.title, url=n.url or "", when=n.created_at) for n in head]


def apps_loader(user: Any, limit: int) -> tuple[int | None, list[Any]]:
    from officeapp.workbench.launcher import visible_apps

    return None, visible_apps(user)[: max(limit, 0) or None]


def tiles_for(user: Any, limit: int = 5) -> list[RenderedTile]:
    rendered = []
    for tile in sorted(workbench_tiles.values(), key=lambda t: (t.order, t.key)):
        count, items = tile.fetch(user, limit)
        rendered.append(
            RenderedTile(tile, count, [i if tile.layout == "apps" else as_item(i) for i in items])
        )
    return rendered


def register_foundation_tiles() -> None:
    """The foundation's own tiles; called from WorkbenchConfig.ready()."""
    for tile in [
        loaded(
            "todo",
            "待办",
            10,
            inbox_loader("to_do"),
            empty_text="暂无待办事项。新的公文、督办任务会出现在这里。",
        ),
        loaded("to_read", "待阅", 20, inbox_loader("to_read"), empty_text="暂无待阅文件。"),
        loaded("done", "已办", 30, inbox_loader("done"), empty_text="还没有已办事项。"),
        loaded(
            "notifications", "通知", 40, notifications_loader, url="notify:list", empty_text="没有未读通知。"
        ),
        loaded("apps", "应用", 50, apps_loader, empty_text="暂无可用的应用。", layout="apps"),
    ]:
        workbench_tiles.register(tile.key, tile)
