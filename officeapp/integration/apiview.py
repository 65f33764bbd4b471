"""The base class of every API view (kept apart from rest.py: rest_framework.views reads the settings
that name rest.py's classes when it is imported)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from officeapp.audit.models import Outcome


class ApiView(APIView):
    """Base of every API view: audits each call with the app as actor (and the user it acts for)."""

    audit_action = "api.call"

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        found = getattr(request, "_officeapp_caller", None)
        if found is not None:
            from officeapp.audit.services import record

            record(
                self.audit_action,
                actor=found.user,
                actor_label=found.label if found.user is None else f"{found.user}（经{found.label}）",
                object_type="integration.app",
                object_id=found.app.pk,
                outcome=Outcome.SUCCESS if response.status_code < 400 else Outcome.DENIED,
                details={
                    "method": request.method,
                    "path": request.path[:200].replace("\x00", ""),
                    "status": response.status_code,
                },
                chain=f"app:{found.app.pk}",
            )
        return response
