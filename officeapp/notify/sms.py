"""The SMS gateway door: one small protocol, chosen by the SMS_BACKEND setting (a dotted path).

A deployment plugs its operator's gateway in by writing a class with `send(mobile, text)` and
pointing SMS_BACKEND at it; tests use LocmemSmsBackend, development the console.
"""

from __future__ import annotations

import sys
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class SmsBackend(Protocol):
    def send(self, mobile: str, text: str) -> None:
        """Deliver one text message or raise (the worker retries the task)."""


class ConsoleSmsBackend:
    """Prints the message: the embedded default has no gateway."""

    def send(self, mobile: str, text: str) -> None:
        sys.stdout.write(f"[短信] {mobile}: {text}\n")
        sys.stdout.flush()


# Messages "sent" by LocmemSmsBackend, for tests (like django.core.mail.outbox).
outbox: list[tuple[str, str]] = []


class LocmemSmsBackend:
    def send(self, mobile: str, text: str) -> None:
        outbox.append((mobile, text))


def get_sms_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend
