from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from officeapp.worker.stopping import stop_event_on_signals
from officeapp.worker.ticker import Ticker


class Command(BaseCommand):
    help = "Run the sub-minute schedules (outbox drain, heartbeats …) until SIGINT/SIGTERM."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every job once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        ticker = Ticker()
        if options["once"]:
            ticker.tick()
            return
        stop = stop_event_on_signals()
        self.stdout.write(f"ticker: {', '.join(s.name for s in ticker.schedules)}")
        self.stdout.flush()
        ticker.run(stop)
