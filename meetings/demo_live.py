"""(being built)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def build_live_demo(stdout: Callable[[str], Any]) -> str:
    return ""
