"""Property-based tests of the whole REST API against its own OpenAPI schema (schemathesis).

The schema is read from the WSGI app at /api/schema/, exactly what an app's developer downloads.
For every operation schemathesis generates valid and invalid requests (a bounded, derandomized
number, so CI is stable and quick) and each is sent twice: with an app's own token carrying every
API scope (the app reads as a 收发员 of 省财政厅, which has a distributed 公文 with an attachment, a
督办 item it leads, a meeting it is invited to, a to-do and a webhook subscription of the app) and
with a user token (黄丽华, 文秘 of the 省府办公厅, office of that document and organiser of the
meeting). Operations with path ids run a third time on those real rows, so the positive paths
(details, attachments, downloads, reports, to-dos, subscriptions) run too, not only 404s.

Two sets of checks:
- sound: no server error, and the content type and body are what the schema promises for the
  status answered;
- documented: every status is one the schema lists for the operation, and every 4xx is our JSON
  error {"error": {"code", "message"}}.
Each operation's first failing case (per mode) is collected and all are reported together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from officeapp.integration.models import App

pytestmark = pytest.mark.django_db

SCHEMA_URL = "/api/schema/"
# Bounded so the whole run stays within a couple of minutes (two calls per example).
MAX_EXAMPLES = 6


@dataclass
class Known:
    """Ids of real rows the app's token may read, drawn into path parameters."""

    ids: dict[str, list[Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


@schemathesis.check
def json_error_body(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx answers with our error shape: {"error": {"code": str, "message": non-empty str}}."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith("application/json"), (
        f"{response.status_code} 的错误应为 JSON，实为 {content_type}"
    )
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], body
    assert isinstance(error.get("message"), str) and error["message"], body
    return True


# What every answer must be, now: no server error, and what it says is what the schema promises for
# that status (content type and body).
SOUND = [not_a_server_error, content_type_conformance, response_schema_conformance]
# That every status is one the schema lists for the operation, and every 4xx is our JSON error.
DOCUMENTED = [status_code_conformance, json_error_body]


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Any:
    """The WSGI handler closes "old" database connections when a request starts and finishes; inside a test's
    transaction that is the test's own connection (PostgreSQL then answers "the connection is closed").
    Django's test client disconnects the same signal for the same reason."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_data(cast: Any, make_app: Any, token_for: Any) -> Known:
    """A small realistic set built through the services, and the two tokens."""
    from django.conf import settings as django_settings

    from officeapp.integration.webhook_services import Acting, subscribe
    from tests.integration.test_api_documents import sent_document
    from tests.integration.test_api_meetings import _meeting
    from tests.meetings.meetings_cast import build_meetings_cast
    from tests.workflows.conftest import build_flow_cast
    from tests.workflows.incoming_cast import build_receiving_cast
    from tests.workflows.supervision_cast import build_supervision_cast
    from tests.workflows.test_supervision_flow import new_item
    from workflows import external_todos

    scopes = list(django_settings.API_SCOPES)
    app: App = make_app(cast.finance, name="财政业务系统", scopes=scopes, rate_limit_per_minute=1_000_000)
    document = sent_document(cast, recipients=[cast.finance], attachment=True)
    attachment = document.attachments.get()
    s = build_supervision_cast(build_receiving_cast(build_flow_cast(cast)))
    item = new_item(s, title="压减一般性支出", lead_unit=cast.finance, co_units=[])
    meeting = _meeting(build_meetings_cast(cast))
    [pushed] = external_todos.push_todos(
        app,
        [
            {
                "external_id": "SP-2026-0001",
                "user": cast.other_clerk.username,
                "title": "审批：差旅费报销",
                "url": "https://app.example.test/todo/1",
            }
        ],
    )
    assert pushed.status == "created", pushed
    subscription, _secret = subscribe(
        app, acting=Acting(user=None, app=app), url="http://127.0.0.1:9/hook", events=["user.created"]
    )
    known = Known()
    known.ids = {
        "document_id": [document.pk],
        "attachment_id": [attachment.pk],
        "item_id": [item.pk],
        "meeting_id": [meeting.pk],
        "external_id": ["SP-2026-0001"],
        "subscription_id": [subscription.pk],
    }
    known.tokens = {
        "app": token_for(app, scopes=scopes),
        "user": token_for(app, user=cast.office_secretary, scopes=["openid", *scopes]),
    }
    return known


def _hypothesis_run(strategy: Any, send: Any) -> None:
    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failing case is reported
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    def run(case: Any) -> None:
        send(case)

    run()


def _findings(api_data: Known, checks: list[Any]) -> list[str]:
    """Run every operation (valid and invalid requests, and valid ones on the real rows) with both
    tokens; each operation's first failing case per mode, as schemathesis reports it."""
    schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, WSGIHandler())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    failures: list[str] = []

    def send(case: Any) -> None:
        for who in ("app", "user"):
            case.call_and_validate(headers={"Authorization": f"Bearer {api_data.tokens[who]}"}, checks=checks)

    for operation in operations:
        names = [p.name for p in operation.path_parameters]
        real = {name: api_data.ids[name][0] for name in names if api_data.ids.get(name)}
        runs = [
            ("positive", operation.as_strategy(GenerationMode.POSITIVE)),
            ("negative", operation.as_strategy(GenerationMode.NEGATIVE)),
        ]
        if names and len(real) == len(names):
            # The real rows: generated ids alone would almost always be 404s.
            runs.append(("real ids", operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real)))
        for mode, strategy in runs:
            try:
                _hypothesis_run(strategy, send)
            except Unsatisfiable:
                # Nothing in the operation can be made invalid (no parameters, no body): no negative case.
                assert mode == "negative", f"{operation.label} [{mode}]: 无法生成请求"
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} [{mode}]: {exc}")
    return failures


def test_no_operation_answers_with_a_server_error_or_off_its_schema(api_data: Known) -> None:
    failures = _findings(api_data, SOUND)

    assert not failures, "\n\n".join(failures)


def test_every_answer_has_a_documented_status_and_errors_are_our_json(api_data: Known) -> None:
    failures = _findings(api_data, DOCUMENTED)

    assert not failures, "\n\n".join(failures)
