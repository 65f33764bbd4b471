"""The fixed cast every test uses, and the network guard.

Cast (all passwords CAST_PASSWORD):
  省人民政府办公厅 (粤府办): 综合处 — drafter, dept_head; 秘书处 — office_secretary, clerk;
    办公室 — office_director; 督查室 — supervisor; 领导 — leader (分管 综合处);
    信息中心 — system_admin, security_admin, audit_admin (the three administrators, one role each)
  省财政厅 (粤财): 办公室 — other_clerk
  省教育厅 (粤教): 高教处 — outsider (no roles)
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any

import pytest

pytest_plugins = ["tests.seaweedfs", "tests.slapd"]

CAST_PASSWORD = "Cast-Passw0rd-2026"


@dataclass
class Cast:
    gov_office: Any
    finance: Any
    education: Any
    general_dept: Any
    secretariat: Any
    office: Any
    supervision_dept: Any
    leadership: Any
    it_centre: Any
    finance_office: Any
    higher_ed: Any
    drafter: Any
    dept_head: Any
    office_secretary: Any
    office_director: Any
    leader: Any
    clerk: Any
    supervisor: Any
    system_admin: Any
    security_admin: Any
    audit_admin: Any
    other_clerk: Any
    outsider: Any

    def users(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CAST_USERS}


CAST_USERS = [
    "drafter",
    "dept_head",
    "office_secretary",
    "office_director",
    "leader",
    "clerk",
    "supervisor",
    "system_admin",
    "security_admin",
    "audit_admin",
    "other_clerk",
    "outsider",
]


def build_cast() -> Cast:
    from officeapp.org import services
    from officeapp.org.models import AgencyLevel, Department, Portfolio, Position, Role

    s = services
    province = s.create_agency(
        actor=None,
        name="广东省人民政府",
        short_name="省政府",
        level=AgencyLevel.PROVINCE,
        code="GD",
        number_prefix="粤府",
    )
    gov_office = s.create_agency(
        actor=None,
        name="广东省人民政府办公厅",
        short_name="省府办公厅",
        level=AgencyLevel.PROVINCE,
        code="GD-BGT",
        number_prefix="粤府办",
        parent=province,
    )
    finance = s.create_agency(
        actor=None,
        name="广东省财政厅",
        short_name="省财政厅",
        level=AgencyLevel.PROVINCE,
        code="GD-CZT",
        number_prefix="粤财",
        parent=province,
    )
    education = s.create_agency(
        actor=None,
        name="广东省教育厅",
        short_name="省教育厅",
        level=AgencyLevel.PROVINCE,
        code="GD-JYT",
        number_prefix="粤教",
        parent=province,
    )
    d = s.create_department
    general_dept = d(actor=None, agency=gov_office, name="综合处", code="GD-BGT-ZH")
    secretariat = d(
        actor=None, agency=gov_office, name="秘书处", code="GD-BGT-MS", kind=Department.Kind.SECRETARIAT
    )
    office = d(actor=None, agency=gov_office, name="办公室", code="GD-BGT-BGS", kind=Department.Kind.OFFICE)
    supervision_dept = d(
        actor=None, agency=gov_office, name="督查室", code="GD-BGT-DC", kind=Department.Kind.SUPERVISION
    )
    leadership = d(
        actor=None, agency=gov_office, name="厅领导", code="GD-BGT-LD", kind=Department.Kind.LEADERSHIP
    )
    it_centre = d(actor=None, agency=gov_office, name="信息中心", code="GD-BGT-XX")
    finance_office = d(
        actor=None, agency=finance, name="办公室", code="GD-CZT-BGS", kind=Department.Kind.OFFICE
    )
    higher_ed = d(actor=None, agency=education, name="高等教育处", code="GD-JYT-GJ")

    clerk_pos, _ = Position.objects.get_or_create(name="科员", defaults={"rank": 10})
    head_pos, _ = Position.objects.get_or_create(name="处长", defaults={"rank": 50})
    leader_pos, _ = Position.objects.get_or_create(name="副厅长", defaults={"rank": 80})

    def person(
        username: str,
        real_name: str,
        dept: Any,
        no: str,
        mobile: str,
        role: str | None,
        position: Any = clerk_pos,
        **scope: Any,
    ) -> Any:
        user = s.create_user(
            actor=None,
            username=username,
            real_name=real_name,
            department=dept,
            password=CAST_PASSWORD,
            employee_no=no,
            mobile=mobile,
            position=position,
            email=f"{username}@gd.example",
        )
        if role:
            s.grant_role(actor=None, user=user, role=role, **scope)
        return user

    drafter = person(
        "drafter", "林小梅", general_dept, "BGT001", "13800000001", Role.DRAFTER, agency=gov_office
    )
    dept_head = person(
        "dept_head",
        "陈志强",
        general_dept,
        "BGT002",
        "13800000002",
        Role.DEPT_HEAD,
        position=head_pos,
        department=general_dept,
    )
    office_secretary = person(
        "office_secretary",
        "黄丽华",
        secretariat,
        "BGT003",
        "13800000003",
        Role.OFFICE_SECRETARY,
        agency=gov_office,
    )
    office_director = person(
        "office_director",
        "周建国",
        office,
        "BGT004",
        "13800000004",
        Role.OFFICE_DIRECTOR,
        position=head_pos,
        agency=gov_office,
    )
    leader = person(
        "leader",
        "王德明",
        leadership,
        "BGT005",
        "13800000005",
        Role.LEADER,
        position=leader_pos,
        agency=gov_office,
    )
    Portfolio.objects.create(leader=leader, department=general_dept)
    clerk = person("clerk", "吴晓燕", secretariat, "BGT006", "13800000006", Role.CLERK, agency=gov_office)
    supervisor = person(
        "supervisor", "郑海涛", supervision_dept, "BGT007", "13800000007", Role.SUPERVISOR, agency=gov_office
    )
    system_admin = person("system_admin", "系统管理员", it_centre, "BGT901", "13800000901", Role.SYSTEM_ADMIN)
    security_admin = person(
        "security_admin", "安全管理员", it_centre, "BGT902", "13800000902", Role.SECURITY_ADMIN
    )
    audit_admin = person("audit_admin", "审计管理员", it_centre, "BGT903", "13800000903", Role.AUDIT_ADMIN)
    other_clerk = person(
        "other_clerk", "李国华", finance_office, "CZT001", "13900000001", Role.CLERK, agency=finance
    )
    outsider = person("outsider", "赵文静", higher_ed, "JYT001", "13700000001", None)
    return Cast(
        gov_office,
        finance,
        education,
        general_dept,
        secretariat,
        office,
        supervision_dept,
        leadership,
        it_centre,
        finance_office,
        higher_ed,
        drafter,
        dept_head,
        office_secretary,
        office_director,
        leader,
        clerk,
        supervisor,
        system_admin,
        security_admin,
        audit_admin,
        other_clerk,
        outsider,
    )


@pytest.fixture
def cast(db: Any) -> Cast:
    return build_cast()


@pytest.fixture
def cast_password() -> str:
    return CAST_PASSWORD


@pytest.fixture
def sign_in(client: Any) -> Any:
    """Sign a cast member in on the Django test client (through the real sign-in form's backend)."""

    def _sign_in(user: Any) -> Any:
        client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
        return client

    return _sign_in


@pytest.fixture
def sign_in_verified(sign_in: Any) -> Any:
    """Sign in and pass the second factor, as the three administrators must before any page
    (for tests about a page, not about sign-in)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def _sign_in(user: Any) -> Any:
        client = sign_in(user)
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return _sign_in


# --- Network guard: only loopback and the services CI provides -----------------------------------
_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            if host not in ("localhost",):
                raise RuntimeError(f"测试中禁止访问外部网络：{host}") from None
        else:
            if not ip.is_loopback:
                raise RuntimeError(f"测试中禁止访问外部网络：{host}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _block_internet() -> Any:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _blobs_in_a_temporary_folder(settings: Any, tmp_path: Any) -> None:
    """Files a test stores go to its own folder, never into var/blobs of a developer's `make run`."""
    if not settings.S3_ENDPOINT:
        settings.BLOB_DIR = tmp_path / "blobs"


@pytest.fixture(autouse=True)
def _search_index_in_a_temporary_folder(settings: Any, tmp_path: Any) -> None:
    """The embedded search index a test writes (through the outbox drain) is its own, never the
    var/search of a developer's `make run` nor another test's."""
    settings.SEARCH_INDEX_PATH = tmp_path / "search" / "index.sqlite3"
