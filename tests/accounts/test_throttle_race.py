"""Concurrent failed sign-ins count one by one: parallel guesses cannot slip past the limit."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection

from officeapp.accounts import services
from officeapp.accounts.models import SignInThrottle, ThrottleKind
from officeapp.audit.models import AuditEvent

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="row locks race only on PostgreSQL (DATABASE_URL)"),
]

ATTEMPTS = 12


@pytest.mark.django_db(transaction=True)
def test_parallel_failures_are_all_counted_and_lock_once():
    start = threading.Barrier(ATTEMPTS)
    messages: list[str] = []

    def guess(n: int) -> None:
        try:
            start.wait()
            outcome = services.attempt_sign_in(
                username="victim", password=f"guess-{n}", client_address="203.0.113.5"
            )
            messages.append(outcome.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    account = SignInThrottle.objects.get(kind=ThrottleKind.ACCOUNT, key="victim")
    address = SignInThrottle.objects.get(kind=ThrottleKind.ADDRESS, key="203.0.113.5")
    # Attempts on one name queue on its row: exactly the limit reached the password check, the
    # fifth started the lock, and every later one was refused before its password was tried.
    assert account.failures == settings.SIGN_IN_MAX_FAILURES == address.failures
    assert sum("账号已锁定" in m for m in messages) == ATTEMPTS - settings.SIGN_IN_MAX_FAILURES + 1
    assert AuditEvent.objects.filter(action="accounts.lockout", details__scope="account").count() == 1
    refused = AuditEvent.objects.filter(action="accounts.sign_in", details__reason="account_locked").count()
    assert refused == ATTEMPTS - settings.SIGN_IN_MAX_FAILURES
