"""Which outbox rows become which webhook events, what they carry, and which apps hear them."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from officeapp.integration import webhooks
from officeapp.integration.models import WebhookDelivery, WebhookSubscription
from officeapp.org import services as org
from officeapp.outbox.drain import drain
from officeapp.outbox.services import emit


@pytest.fixture
def caught_up(cast: Any) -> Any:
    drain(webhooks.CONSUMER)
    return cast


def _sub(app: Any, events: list[str]) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        app=app, url=f"https://{app.pk}.test/h", secret="s", events=events
    )


def _payloads(sub: WebhookSubscription) -> list[dict[str, Any]]:
    return [d.payload for d in WebhookDelivery.objects.filter(subscription=sub).order_by("event_id")]


def test_user_events_reach_every_subscribed_app_with_directory_fields_only(caught_up, make_app):
    cast = caught_up
    here = _sub(make_app(cast.gov_office), ["user.created", "user.changed", "user.disabled"])
    elsewhere = _sub(make_app(cast.education, name="教育系统"), ["user.created", "user.disabled"])
    unrelated = _sub(make_app(cast.finance, name="财务系统"), ["document.distributed"])
    user = org.create_user(
        actor=None, username="u1", real_name="新同事", department=cast.general_dept, mobile="13600000000"
    )
    org.update_user(user, actor=cast.system_admin, real_name="新同事甲", mobile="13600000001")
    org.disable_user(user, actor=cast.system_admin)
    drain(webhooks.CONSUMER)

    kinds = [p["event"] for p in _payloads(here)]
    assert kinds == ["user.created", "user.changed", "user.disabled"]
    changed = _payloads(here)[1]["data"]["fields"]
    assert "real_name" in changed and "mobile" not in changed  # a phone number's change is not even named
    assert [p["event"] for p in _payloads(elsewhere)] == ["user.created", "user.disabled"]
    assert _payloads(unrelated) == []
    card = _payloads(here)[0]["data"]["user"]
    assert set(card) == {"id", "username", "name", "agency", "department", "position", "is_active"}
    assert card["agency"] == {"id": cast.gov_office.pk, "name": cast.gov_office.name}
    assert all("1360000000" not in str(p) for p in _payloads(here))


def test_department_changes_are_sent(caught_up, make_app):
    cast = caught_up
    sub = _sub(make_app(cast.finance), ["department.changed"])
    department = org.create_department(actor=None, agency=cast.education, name="职业教育处", code="GD-JYT-ZJ")
    drain(webhooks.CONSUMER)

    [payload] = _payloads(sub)
    assert payload["event"] == "department.changed"
    assert payload["data"]["department"]["id"] == department.pk
    assert payload["data"]["department"]["agency"]["id"] == cast.education.pk
    assert payload["occurred_at"] and isinstance(payload["id"], int)


def test_a_distributed_document_reaches_only_the_recipients_apps_each_told_of_its_own_records(
    caught_up, make_app
):
    cast = caught_up
    finance_app = _sub(make_app(cast.finance, name="财务系统"), ["document.distributed"])
    # Owned elsewhere but reading the 教育厅's records.
    reader = make_app(cast.gov_office, name="数据中台", data_agencies=[cast.education])
    reader_sub = _sub(reader, ["document.distributed"])
    sender_only = _sub(make_app(cast.gov_office, name="省府系统"), ["document.distributed"])
    # The payload documents/exchange.py writes for 分发 (documents.exchange.sent on the document).
    emit(
        "documents.exchange.sent",
        object_type="documents.officialdocument",
        object_id=777,
        payload={
            "records": [31, 32],
            "recipients": [cast.finance.pk, cast.education.pk],
            "sender": cast.gov_office.pk,
        },
    )
    drain(webhooks.CONSUMER)

    [to_finance] = _payloads(finance_app)
    assert to_finance["event"] == "document.distributed"
    assert to_finance["data"]["document"] == {"id": 777}
    assert to_finance["data"]["records"] == [{"id": 31, "recipient": cast.finance.pk}]
    [to_reader] = _payloads(reader_sub)
    assert to_reader["data"]["records"] == [{"id": 32, "recipient": cast.education.pk}]
    assert _payloads(sender_only) == []  # the issuing agency receives nothing


def test_a_supervision_item_change_reaches_its_units_and_supervising_agencys_apps_only(caught_up, make_app):
    from workflows.models import SupervisionItem, SupervisionUnit

    cast = caught_up
    item = SupervisionItem.objects.create(
        agency=cast.gov_office,
        source="instruction",
        title="推进政务服务一网通办",
        received_on=timezone.localdate(),
        supervisor=cast.supervisor,
        created_by=cast.supervisor,
    )
    SupervisionUnit.objects.create(item=item, agency=cast.finance, is_lead=True)
    supervising = _sub(make_app(cast.gov_office, name="督查系统"), ["supervision.item.changed"])
    unit = _sub(make_app(cast.finance, name="财务系统"), ["supervision.item.changed"])
    outsider = _sub(make_app(cast.education, name="教育系统"), ["supervision.item.changed"])
    emit(
        "workflows.supervision.report_submitted",
        object_type="workflows.progressreport",
        object_id=1,
        payload={"item": item.pk},
    )
    drain(webhooks.CONSUMER)

    [payload] = _payloads(unit)
    assert payload["event"] == "supervision.item.changed"
    assert payload["data"]["item"]["id"] == item.pk and payload["data"]["change"] == "report_submitted"
    assert len(_payloads(supervising)) == 1
    assert _payloads(outsider) == []


def test_a_unit_given_as_a_department_counts_for_its_agency(caught_up, make_app):
    from workflows.models import SupervisionItem, SupervisionUnit

    cast = caught_up
    item = SupervisionItem.objects.create(
        agency=cast.gov_office,
        source="instruction",
        title="高校毕业生就业",
        received_on=timezone.localdate(),
        supervisor=cast.supervisor,
        created_by=cast.supervisor,
    )
    SupervisionUnit.objects.create(item=item, department=cast.higher_ed)
    sub = _sub(make_app(cast.education, name="教育系统"), ["supervision.item.changed"])
    emit(
        "workflows.supervision.initiated",
        item,
        payload={"agency": cast.gov_office.pk, "source": "instruction"},
    )
    drain(webhooks.CONSUMER)

    assert [p["data"]["item"]["id"] for p in _payloads(sub)] == [item.pk]


def test_topics_outside_the_catalog_make_no_deliveries(caught_up, make_app):
    cast = caught_up
    sub = _sub(make_app(cast.gov_office), ["user.changed", "user.created"])
    org.grant_role(actor=None, user=cast.drafter, role="agency_admin", agency=cast.gov_office)
    emit("chat.message.sent", object_type="chat.message", object_id=1)
    drain(webhooks.CONSUMER)

    assert _payloads(sub) == []
