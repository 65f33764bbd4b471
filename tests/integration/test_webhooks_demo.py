"""load_demo's webhooks part ("62-webhooks"): the demo apps' subscriptions, without a flood of old events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from officeapp.integration.models import App, WebhookDelivery, WebhookSubscription
from officeapp.org import services as org
from officeapp.org.models import Department
from officeapp.outbox.drain import drain


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[list[str]]:
    from officeapp.demo import load_demo_province
    from officeapp.registries import demo_builders

    lines: list[str] = []
    with django_db_blocker.unblock(), transaction.atomic():
        load_demo_province(stdout=None)
        if "60-integration" in demo_builders:
            lines.append(demo_builders["60-integration"](lines.append))
        lines.append(demo_builders["62-webhooks"](lines.append))
        yield lines
        transaction.set_rollback(True)


def test_the_demo_apps_subscribe_and_only_later_changes_are_recorded(demo: list[str], django_db_blocker: Any):
    with django_db_blocker.unblock():
        if not App.objects.filter(name="行政审批系统").exists():
            pytest.fail("the integration demo (60-integration) made no 行政审批系统")
        sub = WebhookSubscription.objects.get(app__name="行政审批系统")
        assert "user.created" in sub.events and "行政审批系统" in demo[-1]
        assert not WebhookDelivery.objects.exists()  # the province's creation is not sent

        department = Department.objects.filter(is_active=True).first()
        org.create_user(actor=None, username="demo_newcomer", real_name="新同事", department=department)
        drain("webhooks")

        [delivery] = WebhookDelivery.objects.filter(subscription=sub)
        assert delivery.event_type == "user.created"
