from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from officeapp.outbox.drain import DrainResult, drain
from officeapp.registries import outbox_consumers
from officeapp.worker.stopping import stop_event_on_signals


class Command(BaseCommand):
    help = "Deliver outbox events to the registered consumers (normally the ticker does this)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--consumer", help="only this consumer")
        parser.add_argument("--once", action="store_true", help="drain until caught up, then exit")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between rounds")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        names = outbox_consumers.keys()
        if options["consumer"]:
            if options["consumer"] not in outbox_consumers:
                raise CommandError(
                    f"未注册的发件箱消费者：{options['consumer']}（已注册：{', '.join(names) or '无'}）"
                )
            names = [options["consumer"]]
        if options["batch_size"] < 1:
            raise CommandError("--batch-size 必须大于 0")
        if options["interval"] <= 0:
            raise CommandError("--interval 必须大于 0（秒）")

        def round_() -> list[DrainResult]:
            return [drain(name, options["batch_size"]) for name in names]

        if options["once"]:
            results = round_()
            for r in results:
                state = "失败：" + r.error if r.failed else (r.skipped or "ok")
                self.stdout.write(f"{r.consumer}: {r.delivered} delivered ({state})")
            if any(r.failed for r in results):
                raise CommandError("有消费者投递失败，将按退避时间重试。")
            return
        stop = stop_event_on_signals()
        while not stop.is_set():
            round_()
            stop.wait(options["interval"])
