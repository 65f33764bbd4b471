"""督办 in search is seen by exactly whom `visible_items` lets see it: for every person in the
database and every item and report of a varied set (units that are departments and agencies, a
协办 department of a whole-agency 分管, an item of another agency, participants gained step by
step), "a principal in common" (search) equals "visible_items has the item" (access.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from officeapp.org.models import User
from search.sources.supervision import ProgressReportSource, SupervisionItemSource
from tests.workflows.supervision_cast import build_supervision_cast
from tests.workflows.test_supervision_flow import new_item, to_handle, today
from workflows.access import item_principals, search_principals_of, visible_items
from workflows.models import ProgressReport, SupervisionItem
from workflows.supervision import sign_off_report, write_report

pytestmark = pytest.mark.django_db


def visible_with_floors(
    user_principals: Mapping[str, int | None], doc_principals: Any, acl_seq: int = 0
) -> bool:
    """The engines' rule: one principal in common whose floor (if any) is below the item's acl_seq."""
    return any(
        p in user_principals and (user_principals[p] is None or acl_seq > user_principals[p])
        for p in doc_principals
    )


@pytest.fixture
def supervision(cast: Any) -> Any:
    from tests.workflows.conftest import build_flow_cast
    from tests.workflows.incoming_cast import build_receiving_cast

    return build_supervision_cast(build_receiving_cast(build_flow_cast(cast)))


def varied_items(s: Any) -> list[SupervisionItem]:
    r = s.receiving
    led_by_department = new_item(s, title="推进政务服务一网通办")  # 综合处 leads, 秘书处 helps, leader 王德明
    to_handle(s, led_by_department)
    draft = write_report(led_by_department, actor=s.general_staff, text="已完成方案起草", percentage=30)
    signed = write_report(led_by_department, actor=s.general_staff, text="已召开推进会", percentage=50)
    sign_off_report(signed, actor=s.dept_head)
    assert draft.state == "draft"
    led_by_agency = new_item(s, title="压减一般性支出", lead_unit=s.cast.finance, co_units=[], leader=None)
    of_finance = new_item(
        s,
        actor=r.director,
        agency=s.cast.finance,
        title="预算绩效管理改革",
        lead_unit=r.budget,
        co_units=[r.treasury],
        leader=None,
    )
    agency_helps = new_item(
        s,
        title="高校毕业生就业促进",
        lead_unit=s.cast.secretariat,
        co_units=[s.cast.education, s.cast.general_dept],
        leader=None,
        due_on=today() + timedelta(days=20),
    )
    department_helps_an_agency = new_item(
        s, title="教育经费保障", lead_unit=s.cast.education, co_units=[s.cast.general_dept], leader=None
    )
    return [led_by_department, led_by_agency, of_finance, agency_helps, department_helps_an_agency]


def test_search_sees_exactly_the_items_and_reports_visible_items_shows(supervision: Any) -> None:
    items = varied_items(supervision)
    reports = list(ProgressReport.objects.filter(item__in=items))
    assert len(reports) == 2
    item_docs, _ = SupervisionItemSource().build([f"supervision:{i.pk}" for i in items])
    report_docs, _ = ProgressReportSource().build([f"report:{r.pk}" for r in reports])
    assert len(item_docs) == len(items) and len(report_docs) == len(reports)
    report_item = {f"report:{r.pk}": r.item_id for r in reports}

    users = list(User.objects.order_by("pk"))
    seen_by_some, hidden_from_some = set(), set()
    for user in users:
        mine = search_principals_of(user)
        visible = set(visible_items(user).values_list("pk", flat=True))
        for doc in item_docs:
            pk = int(doc.key.split(":")[1])
            assert visible_with_floors(mine, doc.principals) == (pk in visible), (user.username, doc.key)
            (seen_by_some if pk in visible else hidden_from_some).add(doc.key)
        for doc in report_docs:
            expected = report_item[doc.key] in visible
            assert visible_with_floors(mine, doc.principals) == expected, (user.username, doc.key)
    # The set is varied enough to mean something: every item is seen by someone and hidden from someone.
    assert seen_by_some >= {d.key for d in item_docs}
    assert hidden_from_some >= {d.key for d in item_docs}


def test_each_reason_of_visible_items_has_its_own_principal(supervision: Any) -> None:
    s = supervision
    items = varied_items(s)
    led_by_department, led_by_agency, of_finance, agency_helps, department_helps_an_agency = items
    gov, finance, education = s.cast.gov_office.pk, s.cast.finance.pk, s.cast.education.pk

    assert {
        f"u:{s.leader.pk}",
        f"u:{s.dept_head.pk}",
        f"sup-office:{gov}",
        f"sup-dept:{s.cast.general_dept.pk}",
        f"sup-dept:{s.cast.secretariat.pk}",
        f"sup-whole:{gov}",
    } <= item_principals(led_by_department)
    assert f"sup-agency:{finance}" in item_principals(led_by_agency)
    assert f"sup-whole:{finance}" in item_principals(of_finance)
    # An agency leading with a 办公厅 department helping: the whole-agency 分管 of 办公厅 sees it
    # through the 协办 row; the agency unit is there for the agency's office and leaders.
    assert {f"sup-agency:{education}", f"sup-whole:{gov}"} <= item_principals(department_helps_an_agency)
    assert f"sup-whole:{education}" not in item_principals(agency_helps)

    chief = search_principals_of(s.chief)
    assert chief[f"sup-whole:{gov}"] is None and f"sup-agency:{gov}" in chief
    assert f"sup-whole:{finance}" in search_principals_of(s.receiving.chief)
    assert f"sup-office:{gov}" in search_principals_of(s.supervisor)
    assert f"sup-dept:{s.cast.general_dept.pk}" in search_principals_of(s.dept_head)


def test_an_inactive_person_holds_no_principal_and_sees_nothing(supervision: Any) -> None:
    s = supervision
    varied_items(s)
    s.supervisor.is_active = False
    s.supervisor.save(update_fields=["is_active"])
    user = User.objects.get(pk=s.supervisor.pk)

    assert search_principals_of(user) == {}
    assert not visible_items(user).exists()


def test_a_new_participant_is_on_the_item_once_it_is_rebuilt(supervision: Any) -> None:
    """Participants are on the item side: the next build (after the step's outbox row) carries them."""
    s = supervision
    item = new_item(s)
    before = item_principals(item)
    assert f"u:{s.dept_head.pk}" not in before
    to_handle(s, item)  # 签收 goes to 综合处's head, who becomes a participant

    after = item_principals(SupervisionItem.objects.get(pk=item.pk))
    assert f"u:{s.dept_head.pk}" in after
    assert f"u:{s.office_director.pk}" in after  # 审定
