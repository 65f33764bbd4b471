"""The receiving side for 收文 tests: 省财政厅's office, leaders and two departments, plus a city
and a county below the province for exchange across levels, and a factory for a document that
省府办公厅 has distributed to 省财政厅 (an exchange record waiting to be signed for).

    def test_…(receiving: ReceivingCast) -> None:
        record = receiving.sent_to_finance()            # ExchangeRecord, 待签收
        receiving.cast.other_clerk                      # 省财政厅 收发员 (李国华)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.conftest import CAST_PASSWORD
from tests.workflows.conftest import FlowCast


@dataclass
class ReceivingCast:
    flow_cast: FlowCast
    # 省财政厅 (cast.finance): 收发员 other_clerk and second_clerk, 文秘 secretary, 办公室主任
    # director (flow_cast.finance_director), leader (分管 预算处 and 国库处), chief (主要负责人:
    # 分管 the whole agency), archivist; 预算处 budget (head, staff) and 国库处 treasury (head, staff).
    second_clerk: Any
    secretary: Any
    director: Any
    leader: Any
    chief: Any
    archivist: Any
    budget: Any
    budget_head: Any
    budget_staff: Any
    treasury: Any
    treasury_head: Any
    treasury_staff: Any
    # Below the province: 广州市人民政府 (city_clerk) and its 越秀区人民政府 (county_clerk).
    city: Any
    city_clerk: Any
    county: Any
    county_clerk: Any

    @property
    def cast(self) -> Any:
        return self.flow_cast.cast

    @property
    def clerk(self) -> Any:
        """省财政厅's first 收发员 (the cast's other_clerk)."""
        return self.flow_cast.cast.other_clerk

    def sent_to_finance(
        self, *, number: str = "粤府办〔2026〕1号", also: list[Any] | None = None, **fields: Any
    ) -> Any:
        """省府办公厅 distributes a sealed document to 省财政厅 (and `also`): the finance record."""
        from documents.exchange import distribute
        from documents.models import ExchangeRecord
        from tests.documents.exchange_factories import make_sealed

        cast = self.cast
        document = make_sealed(cast, number=number, **fields)
        document.main_recipients.set([cast.finance, *(also or [])])
        distribute(document, actor=cast.office_secretary)
        return ExchangeRecord.objects.get(document=document, recipient=cast.finance)


def build_receiving_cast(flow_cast: FlowCast) -> ReceivingCast:
    from officeapp.org import services
    from officeapp.org.models import AgencyLevel, Department, Portfolio, Role

    cast = flow_cast.cast
    finance = cast.finance

    def person(username: str, name: str, dept: Any, no: str, role: str | None, **scope: Any) -> Any:
        user = services.create_user(
            actor=None,
            username=username,
            real_name=name,
            department=dept,
            password=CAST_PASSWORD,
            employee_no=no,
            mobile=f"1350000{no[-4:]}",
        )
        if role:
            services.grant_role(actor=None, user=user, role=role, **scope)
        return user

    budget = services.create_department(actor=None, agency=finance, name="预算处", code="GD-CZT-YS")
    treasury = services.create_department(actor=None, agency=finance, name="国库处", code="GD-CZT-GK")
    leadership = services.create_department(
        actor=None, agency=finance, name="厅领导", code="GD-CZT-LD", kind=Department.Kind.LEADERSHIP
    )
    leader = person("fin_leader", "刘副厅长", leadership, "CZT0201", Role.LEADER, agency=finance)
    chief = person("fin_chief", "张厅长", leadership, "CZT0202", Role.LEADER, agency=finance)
    Portfolio.objects.create(leader=leader, department=budget)
    Portfolio.objects.create(leader=leader, department=treasury)
    Portfolio.objects.create(leader=chief, agency=finance)

    province = cast.gov_office.parent
    city = services.create_agency(
        actor=None,
        name="广州市人民政府",
        short_name="广州市政府",
        level=AgencyLevel.CITY,
        code="GZ",
        parent=province,
    )
    county = services.create_agency(
        actor=None,
        name="广州市越秀区人民政府",
        short_name="越秀区政府",
        level=AgencyLevel.COUNTY,
        code="GZ-YX",
        parent=city,
    )
    city_office = services.create_department(
        actor=None, agency=city, name="办公室", code="GZ-BGS", kind=Department.Kind.OFFICE
    )
    county_office = services.create_department(
        actor=None, agency=county, name="办公室", code="GZ-YX-BGS", kind=Department.Kind.OFFICE
    )

    return ReceivingCast(
        flow_cast=flow_cast,
        second_clerk=person(
            "fin_clerk2", "孙收发", cast.finance_office, "CZT0203", Role.CLERK, agency=finance
        ),
        secretary=person(
            "fin_secretary", "钱文秘", cast.finance_office, "CZT0204", Role.OFFICE_SECRETARY, agency=finance
        ),
        director=flow_cast.finance_director,
        leader=leader,
        chief=chief,
        archivist=person(
            "fin_archivist", "邓财档", cast.finance_office, "CZT0205", Role.ARCHIVIST, agency=finance
        ),
        budget=budget,
        budget_head=person("budget_head", "预算处长", budget, "CZT0206", Role.DEPT_HEAD, department=budget),
        budget_staff=person("budget_staff", "预算科员", budget, "CZT0207", None),
        treasury=treasury,
        treasury_head=person(
            "treasury_head", "国库处长", treasury, "CZT0208", Role.DEPT_HEAD, department=treasury
        ),
        treasury_staff=person("treasury_staff", "国库科员", treasury, "CZT0209", None),
        city=city,
        city_clerk=person("city_clerk", "广州收发", city_office, "GZ0001", Role.CLERK, agency=city),
        county=county,
        county_clerk=person("county_clerk", "越秀收发", county_office, "YX0001", Role.CLERK, agency=county),
    )
