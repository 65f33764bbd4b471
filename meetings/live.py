"""(being built: issue 8)"""

from __future__ import annotations


def register() -> None:
    """Registrations into the lower apps' registries (called from MeetingsConfig.ready())."""
