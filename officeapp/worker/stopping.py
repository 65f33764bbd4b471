"""How a long-running command learns it should stop: SIGTERM (systemd, `serve`) or SIGINT (Ctrl-C)."""

from __future__ import annotations

import signal
import threading
from types import FrameType


def stop_event_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, so a loop finishes its current round and exits cleanly."""
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return stop
