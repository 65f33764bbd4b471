from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from officeapp.calendar.models import CalendarDay, CalendarYear
from officeapp.calendar.seeding import seed_years


class Command(BaseCommand):
    help = "Add years that a newer chinese-calendar package knows (years already maintained are kept)."

    def handle(self, *args: Any, **options: Any) -> None:
        seeded = seed_years(CalendarDay, CalendarYear)
        self.stdout.write(f"seeded: {', '.join(map(str, seeded))}" if seeded else "nothing new")
