"""Stand-in until its owner lands it (see chat/apps.py)."""

from __future__ import annotations


def register() -> None:
    """Registrations into officeapp's registries, called once from ChatConfig.ready()."""
