"""Authentication backend: a locked account is refused on every path, including Django's admin login."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.utils import timezone

from officeapp.accounts.models import SignInThrottle, ThrottleKind, account_key


class LockoutAwareBackend(ModelBackend):
    """The counting and the messages live in officeapp.accounts.services.attempt_sign_in; this only
    makes sure no other door (django-admin's login form) lets a locked account in."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if (
            username
            and SignInThrottle.objects.filter(
                kind=ThrottleKind.ACCOUNT,
                key=account_key(username),
                locked_until__gt=timezone.now(),
            ).exists()
        ):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id: Any) -> Any:
        # The request's user with their department (and its agency): access checks, the audit chain
        # and the watermark read them on nearly every request, one query instead of three.
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("department__agency").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
