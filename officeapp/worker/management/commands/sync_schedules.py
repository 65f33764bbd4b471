from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from officeapp.worker.schedules import sync_schedules


class Command(BaseCommand):
    help = "Write the registered worker schedules into django-q2 (sub-minute ones run on the ticker)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = sync_schedules()
        for label, names in (
            ("created", report.created),
            ("updated", report.updated),
            ("removed", report.removed),
            ("on ticker", report.ticker),
        ):
            if names:
                self.stdout.write(f"{label}: {', '.join(sorted(names))}")
