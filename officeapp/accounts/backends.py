"""Authentication backend. The lockout rules are enforced by the sign-in service (officeapp.accounts.services)."""

from django.contrib.auth.backends import ModelBackend


class LockoutAwareBackend(ModelBackend):
    pass
