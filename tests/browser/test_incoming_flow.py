"""收文 across levels in the browser: 省府办公厅 sends a notice to 广州市人民政府; the city's 收发员 signs
for it in 待签收, the office registers, screens and proposes it, the 副市长 instructs, two 处 handle it
in parallel, the 市长 reads it in 传阅 — and the sender's tracking page shows 签收 and 办结 live,
without a reload. Steps the issue leaves to the office are driven through the services (the pages
for them are tested in tests/workflows/test_incoming_pages.py); every step it names is clicked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TITLE = "关于做好2026年城市防汛应急准备工作的通知"
HELLO_LISTENER = "window.addEventListener('officeapp:hello', () => { window.__socketHello = true; });"


def city_people(receiving: Any) -> dict[str, Any]:
    """广州市人民政府's office, two 处 with their heads, and two leaders: the 副市长 who 分管 both 处
    (批办) and the 市长 (传阅)."""
    from officeapp.org import services
    from officeapp.org.models import Department, Portfolio, Role
    from tests.conftest import CAST_PASSWORD

    city = receiving.city

    def person(username: str, name: str, dept: Any, no: str, role: str, **scope: Any) -> Any:
        user = services.create_user(
            actor=None,
            username=username,
            real_name=name,
            department=dept,
            password=CAST_PASSWORD,
            employee_no=no,
            mobile=f"1370000{no[-4:]}",
        )
        services.grant_role(actor=None, user=user, role=role, **scope)
        return user

    office = Department.objects.get(agency=city, kind=Department.Kind.OFFICE)
    first = services.create_department(actor=None, agency=city, name="综合一处", code="GZ-ZH1")
    second = services.create_department(actor=None, agency=city, name="综合二处", code="GZ-ZH2")
    leadership = services.create_department(
        actor=None, agency=city, name="市领导", code="GZ-LD", kind=Department.Kind.LEADERSHIP
    )
    deputy = person("gz_deputy", "陈副市长", leadership, "GZ0101", Role.LEADER, agency=city)
    mayor = person("gz_mayor", "黄市长", leadership, "GZ0102", Role.LEADER, agency=city)
    Portfolio.objects.create(leader=deputy, department=first)
    Portfolio.objects.create(leader=deputy, department=second)
    return {
        "secretary": person("gz_secretary", "周文秘", office, "GZ0103", Role.OFFICE_SECRETARY, agency=city),
        "deputy": deputy,
        "mayor": mayor,
        "first": first,
        "second": second,
        "first_head": person("gz_head1", "吴一处长", first, "GZ0104", Role.DEPT_HEAD, department=first),
        "second_head": person("gz_head2", "郑二处长", second, "GZ0105", Role.DEPT_HEAD, department=second),
    }


def watch_live(page: Any, url: str) -> None:
    page.context.add_init_script(HELLO_LISTENER)
    page.goto(url)
    page.wait_for_function("() => window.__socketHello === true", timeout=10_000)
    page.evaluate("() => { window.__sameDocument = true; }")


def act_on_task_from_inbox(page: Any, fill: Callable[[Any], None]) -> None:
    """Open the 收文 task from the inbox, fill the step's form and submit it."""
    page.goto("/workflows/inbox/")
    page.get_by_role("link", name=TITLE).first.click()
    expect(page.locator("#step-form")).to_be_visible()
    fill(page)
    with page.expect_navigation():
        page.locator("#step-form button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("已办理")


def test_a_city_signs_for_instructs_handles_and_reads_a_notice_while_the_sender_watches(
    signed_in_page: Callable[..., Any], server: Any, cast: Any, committed: Callable[..., Any]
) -> None:
    from documents.models import DocumentState, ExchangeRecord, OfficialDocument
    from tests.workflows.conftest import build_flow_cast
    from tests.workflows.incoming_cast import build_receiving_cast
    from tests.workflows.test_incoming_pages import open_task
    from workflows.incoming import IncomingStepInput, complete_incoming_step
    from workflows.models import CirculationReader

    receiving = build_receiving_cast(build_flow_cast(cast))
    city = city_people(receiving)
    committed(receiving.sent_to_finance, title=TITLE, also=[receiving.city])
    sent = OfficialDocument.objects.get(title=TITLE, category="outgoing")
    record = ExchangeRecord.objects.get(document=sent, recipient=receiving.city)

    # The sender's office watches the tracking page.
    sender = signed_in_page(cast.office_secretary)
    watch_live(sender, f"/documents/{sent.pk}/distribution/")
    row = sender.locator(f"#exchange-{record.pk}")
    expect(row).to_contain_text("待签收")

    # 签收: the city's 收发员 signs for it in 待签收.
    clerk = signed_in_page(receiving.city_clerk)
    clerk.goto("/documents/pending/")
    with clerk.expect_navigation():
        clerk.locator(f"#exchange-{record.pk}").get_by_role("button", name="签收").click()
    expect(clerk.locator(".flash")).to_contain_text("已签收")
    expect(clerk.locator("body")).to_contain_text("收文办理情况")
    expect(row).to_contain_text("已签收", timeout=10_000)
    expect(row).to_contain_text("广州收发")
    assert sender.evaluate("() => window.__sameDocument === true"), "the tracking page was reloaded"

    # 登记, 初审, 拟办: the city's office, through the services.
    received = OfficialDocument.objects.get(incoming__exchange=record)

    def step(name: str, actor: Any, **values: Any) -> None:
        complete_incoming_step(open_task(received, name), actor=actor, step_input=IncomingStepInput(**values))

    committed(step, "register", receiving.city_clerk)
    committed(step, "screen", city["secretary"])
    committed(
        step,
        "propose",
        city["secretary"],
        handling_kind="action",
        leader=city["deputy"],
        lead_unit=city["first"],
        opinion="拟请陈副市长阅批。",
    )

    # 批办: the 副市长 names the 主办 and 协办 处 and the 时限 — on a 375 px phone.
    deputy = signed_in_page(city["deputy"], viewport={"width": 375, "height": 667})
    deadline = (timezone.localdate() + timedelta(days=7)).isoformat()

    def instruct(page: Any) -> None:
        fits = page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        assert fits, "the 收文 task page scrolls sideways at 375 px"
        page.select_option("#step-form select[name=lead_unit]", str(city["first"].pk))
        page.select_option("#step-form select[name=co_units]", [str(city["second"].pk)])
        page.fill("#step-form input[name=deadline]", deadline)
        page.fill("#step-form textarea[name=opinion]", "请综合一处牵头，综合二处配合，抓紧落实。")

    act_on_task_from_inbox(deputy, instruct)

    # 分办 to both 处, and to the 市长 for 传阅.
    committed(step, "assign", city["secretary"], readers=[city["mayor"]])

    # 承办: each 处's head reports in the browser.
    for head, report in (
        (city["first_head"], "已部署全市防汛应急准备，预案已修订。"),
        (city["second_head"], "已配合完成物资清点。"),
    ):
        page = signed_in_page(head)

        def handle(page: Any, report: str = report) -> None:
            expect(page.locator("body")).to_contain_text("请综合一处牵头，综合二处配合，抓紧落实。")
            page.fill("#step-form textarea[name=result]", report)

        act_on_task_from_inbox(page, handle)

    # 传阅: the 市长 marks it 已阅 with a comment.
    reading = CirculationReader.objects.get(reader=city["mayor"], circulation__document=received)
    mayor = signed_in_page(city["mayor"])
    mayor.goto(f"/workflows/readings/{reading.pk}/")
    mayor.locator("textarea[name=comment], input[name=comment]").first.fill("已阅，同意。")
    with mayor.expect_navigation():
        mayor.get_by_role("button", name="已阅").click()
    reading.refresh_from_db()
    assert reading.state == "read"

    # 答复 and 办结 by the office; the sender sees 已办结 without reloading.
    committed(step, "reply", city["first_head"], result="已按通知要求全部落实。")
    committed(step, "complete", city["secretary"])
    expect(row).to_contain_text("已办结", timeout=10_000)
    assert sender.evaluate("() => window.__sameDocument === true"), "the tracking page was reloaded"

    # The city's 收文处理单 holds every opinion in order, the 传阅 included.
    city_office = signed_in_page(city["secretary"])
    city_office.goto(f"/workflows/incoming/documents/{received.pk}/sheet/")
    body = city_office.locator("body")
    expect(body).to_contain_text("拟请陈副市长阅批。")
    expect(body).to_contain_text("请综合一处牵头，综合二处配合，抓紧落实。")
    expect(body).to_contain_text("已配合完成物资清点。")
    expect(body).to_contain_text("黄市长")
    expect(body).to_contain_text("已按通知要求全部落实。")
    received.refresh_from_db()
    assert received.state == DocumentState.ARCHIVE

    # The 收文登记簿 lists it, and fits a phone too.
    phone = signed_in_page(city["secretary"], viewport={"width": 375, "height": 667})
    phone.goto("/workflows/incoming/")
    expect(phone.locator("table")).to_contain_text(TITLE)
    expect(phone.locator("table")).to_contain_text(received.incoming.number)
    assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), (
        "the 收文登记簿 scrolls sideways at 375 px"
    )
