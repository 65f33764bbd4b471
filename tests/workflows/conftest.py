"""The cast plus the people the 发文 flow needs beyond it: a seal keeper and an archivist of
省府办公厅, heads for two more departments (会签), and the 省财政厅 office director."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import CAST_PASSWORD


@dataclass
class FlowCast:
    cast: Any
    seal_keeper: Any
    archivist: Any
    supervision_head: Any
    secretariat_head: Any
    finance_director: Any


def build_flow_cast(cast: Any) -> FlowCast:
    from officeapp.org import services
    from officeapp.org.models import Role

    def person(username: str, name: str, dept: Any, no: str, role: str, **scope: Any) -> Any:
        user = services.create_user(
            actor=None,
            username=username,
            real_name=name,
            department=dept,
            password=CAST_PASSWORD,
            employee_no=no,
            mobile=f"1360000{no[-4:]}",
        )
        services.grant_role(actor=None, user=user, role=role, **scope)
        return user

    return FlowCast(
        cast=cast,
        seal_keeper=person(
            "seal_keeper", "何印章", cast.secretariat, "BGT0101", Role.SEAL_KEEPER, agency=cast.gov_office
        ),
        archivist=person(
            "archivist", "邓档案", cast.secretariat, "BGT0102", Role.ARCHIVIST, agency=cast.gov_office
        ),
        supervision_head=person(
            "supervision_head",
            "罗督查",
            cast.supervision_dept,
            "BGT0103",
            Role.DEPT_HEAD,
            department=cast.supervision_dept,
        ),
        secretariat_head=person(
            "secretariat_head",
            "梁秘书",
            cast.secretariat,
            "BGT0104",
            Role.DEPT_HEAD,
            department=cast.secretariat,
        ),
        finance_director=person(
            "finance_director",
            "冯财务",
            cast.finance_office,
            "CZT0105",
            Role.OFFICE_DIRECTOR,
            agency=cast.finance,
        ),
    )


@pytest.fixture
def flow_cast(cast: Any) -> FlowCast:
    return build_flow_cast(cast)


@pytest.fixture
def receiving(flow_cast: FlowCast) -> Any:
    """The receiving side of 收文 (tests/workflows/incoming_cast.py)."""
    from tests.workflows.incoming_cast import build_receiving_cast

    return build_receiving_cast(flow_cast)


@pytest.fixture
def supervision(receiving: Any) -> Any:
    """The people of 督查督办 (tests/workflows/supervision_cast.py)."""
    from tests.workflows.supervision_cast import build_supervision_cast

    return build_supervision_cast(receiving)
