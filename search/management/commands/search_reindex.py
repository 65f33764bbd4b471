"""`manage.py search_reindex [--clear]`: rebuild the search index from the database, for either engine.

The engine builds a new generation while the current one keeps answering, then switches at once
(embedded: a file swap; Elasticsearch: an alias swap); changes made meanwhile are replayed from the
outbox after the switch (search.indexing.reindex_all).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from search.indexing import reindex_all


class Command(BaseCommand):
    help = "从数据库重建搜索索引（重建期间现有索引照常应答，完成后一次切换）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--clear", action="store_true", help="先清空现有索引（重建完成前搜索没有结果；索引损坏时使用）。"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        # The raw stream: Django's OutputWrapper ends every write with a newline, tqdm redraws with \r.
        stream = getattr(self.stderr, "_out", sys.stderr)
        bar = tqdm(
            total=None, unit="条", desc="重建搜索索引", file=stream, dynamic_ncols=True, mininterval=0.5
        )

        def set_total(total: int) -> None:
            bar.total = total
            bar.refresh()

        try:
            result = reindex_all(progress=bar, clear=options["clear"], on_total=set_total)
        finally:
            bar.close()
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"搜索索引已重建（{result.engine}）：{result.indexed} 条，"
                f"重建期间的 {result.replayed} 个变更已补上，用时 {elapsed:.1f} 秒。"
            )
        )
