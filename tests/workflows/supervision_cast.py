"""The people of 督查督办 tests, built on the flow and receiving casts.

省府办公厅 (cast.gov_office) supervises: its 督查员 `supervisor` (郑海涛, 督查室), 办公室主任
`office_director`, the 分管 leader `leader` (王德明, 分管 综合处) and a 主要负责人 `chief` (分管 the
whole 办公厅). Units: 综合处 (`dept_head`, staff `drafter`), 秘书处 (`secretariat_head`), and another
agency, 省财政厅 (its 办公室主任 `finance_director`, leaders and 预算处 from the receiving cast).
`archivist` keeps 省府办公厅's archive.

    def test_…(supervision: SupervisionCast) -> None:
        supervision.supervisor, supervision.cast.general_dept, supervision.receiving.budget_head
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.conftest import CAST_PASSWORD


@dataclass
class SupervisionCast:
    receiving: Any  # tests/workflows/incoming_cast.py ReceivingCast
    chief: Any  # 省府办公厅 主要负责人 (分管 the whole agency)
    general_staff: Any  # a 综合处 staff member who writes reports

    @property
    def flow_cast(self) -> Any:
        return self.receiving.flow_cast

    @property
    def cast(self) -> Any:
        return self.receiving.flow_cast.cast

    @property
    def supervisor(self) -> Any:
        return self.cast.supervisor

    @property
    def office_director(self) -> Any:
        return self.cast.office_director

    @property
    def leader(self) -> Any:
        return self.cast.leader

    @property
    def dept_head(self) -> Any:
        return self.cast.dept_head

    @property
    def secretariat_head(self) -> Any:
        return self.flow_cast.secretariat_head

    @property
    def archivist(self) -> Any:
        return self.flow_cast.archivist


def build_supervision_cast(receiving: Any) -> SupervisionCast:
    from officeapp.org import services
    from officeapp.org.models import Portfolio, Role

    cast = receiving.flow_cast.cast
    chief = services.create_user(
        actor=None,
        username="gov_chief",
        real_name="李秘书长",
        department=cast.leadership,
        password=CAST_PASSWORD,
        employee_no="BGT0301",
        mobile="13400000301",
    )
    services.grant_role(actor=None, user=chief, role=Role.LEADER, agency=cast.gov_office)
    Portfolio.objects.create(leader=chief, agency=cast.gov_office)
    staff = services.create_user(
        actor=None,
        username="general_staff",
        real_name="综合科员",
        department=cast.general_dept,
        password=CAST_PASSWORD,
        employee_no="BGT0302",
        mobile="13400000302",
    )
    return SupervisionCast(receiving=receiving, chief=chief, general_staff=staff)
