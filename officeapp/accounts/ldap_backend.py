"""LDAP sign-in (django-auth-ldap): search the directory for the typed name, bind as that entry with the
typed password, then map the entry to an existing officeapp user (officeapp.accounts.identity).

It runs inside officeapp.accounts.services.attempt_sign_in like the local backend, so the lockout
rules are the same: a locked name or address is refused before the directory is asked, and every
refusal (wrong LDAP password, unknown name, disabled user, unlinked account, directory down) counts
as one failure of the typed name. Counting the outage too is deliberate: not counting it would let a
guesser try local passwords without limit whenever the directory is down.
"""

from __future__ import annotations

from typing import Any

import ldap
from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from django_auth_ldap.backend import LDAPBackend, ldap_error

from officeapp.accounts import identity
from officeapp.accounts.backends import LockoutAwareBackend
from officeapp.accounts.models import SignInThrottle, ThrottleKind, account_key
from officeapp.audit.models import Outcome

# Errors that mean "the directory cannot answer", as opposed to "it answered no".
_UNAVAILABLE = (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR, ldap.UNAVAILABLE, ldap.BUSY)


class OfficeLdapBackend(LDAPBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        identity.clear_refusal()
        if not username or not password:
            return None
        # The same door rule as LockoutAwareBackend (django-admin's login form calls us directly).
        if SignInThrottle.objects.filter(
            kind=ThrottleKind.ACCOUNT, key=account_key(username), locked_until__gt=timezone.now()
        ).exists():
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[Any, bool]:
        """The existing user the entry maps to. Raises AuthenticationFailed (django-auth-ldap logs it
        and answers None) for an entry with no user or a disabled user: nothing is ever built."""
        attribute, field = getattr(settings, "OFFICEAPP_LDAP_MATCH", ("uid", "username"))
        values = (ldap_user.attrs or {}).get(attribute) or []
        value = values[0] if values else ""
        user = identity.matching_user(field, value)
        if user is None:
            identity.refuse(identity.SOURCE_LDAP, "unlinked", identity.MSG_UNLINKED)
            identity.record_outside(
                identity.SOURCE_LDAP,
                outcome=Outcome.DENIED,
                object_id=account_key(username),
                details={"reason": "unlinked", "dn": ldap_user.dn, "match": f"{attribute}→{field}"},
            )
            raise ldap_user.AuthenticationFailed(f"no officeapp user with {field}={value!r}")
        if not user.is_active:
            # Disabled: the same generic answer as a disabled user's local password.
            identity.record_outside(
                identity.SOURCE_LDAP,
                outcome=Outcome.DENIED,
                object_id=account_key(username),
                details={"reason": "disabled", "user": user.pk, "dn": ldap_user.dn},
            )
            raise ldap_user.AuthenticationFailed(f"officeapp user {user.pk} is disabled")
        identity.record_outside(identity.SOURCE_LDAP, user=user, details={"dn": ldap_user.dn})
        return user, False

    def get_user(self, user_id: Any) -> Any:
        # The same user loading and active check as every other session (django-admin's login form
        # stores this backend in the session; the sign-in page stores the local one).
        return LockoutAwareBackend().get_user(user_id)

    def get_group_permissions(self, user: Any, obj: Any = None) -> set[str]:
        # Roles are officeapp's (RoleGrant), never the directory's groups.
        return set()


@receiver(ldap_error, dispatch_uid="accounts.ldap_unavailable")
def _directory_unavailable(
    sender: Any, context: str, user: Any, request: Any, exception: Exception, **kwargs: Any
) -> None:
    """django-auth-ldap swallows a connection error into "user not found"; keep the difference so the
    sign-in page can say the service is down rather than that the password is wrong."""
    if sender is OfficeLdapBackend and isinstance(exception, _UNAVAILABLE):
        identity.refuse(identity.SOURCE_LDAP, "unavailable", identity.MSG_UNAVAILABLE)
        identity.record_outside(
            identity.SOURCE_LDAP,
            outcome=Outcome.FAILED,
            details={"reason": "unavailable", "error": type(exception).__name__, "context": context},
        )
