"""The demo province: a realistic 广东 after ../shared/reference/org-guangdong.md.

`load_demo_province()` builds, once, the 省人民政府 and its 办公厅 (粤府办), 34 provincial departments,
the 21 cities with their governments, offices and a few bureaus, a few districts and counties, and
about 2,000 civil servants with realistic names, positions, role grants, portfolios (分管) and two
active delegations (委托). Everything goes through the org services, so the audit log and the outbox
see the demo province like any other data.

Names come from a seeded random generator: the same province every time, on every machine.
The fixed demo accounts (`demo_accounts()`) share DEMO_PASSWORD; the three administrators also
need a TOTP code after the password, from the fixed secrets in DEMO_TOTP_SECRETS (demo only:
README lists them so that a demo user can add them to an authenticator app).
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from pypinyin import Style, lazy_pinyin

from officeapp.org import services
from officeapp.org.models import (
    Agency,
    AgencyLevel,
    DelegationScope,
    Department,
    DirectoryVisibility,
    Position,
    Role,
    User,
)

DEMO_PASSWORD = "Demo-2026-gd"  # noqa: S105  (public by design: the README lists it)
SEED = 20260101

# Demo only: fixed 20-byte TOTP secrets, shown in base32 as an authenticator app expects them.
DEMO_TOTP_SECRETS: dict[str, str] = {
    "sysadmin": base64.b32encode(b"officeapp-sysadmin!!").decode(),
    "secadmin": base64.b32encode(b"officeapp-secadmin!!").decode(),
    "auditor": base64.b32encode(b"officeapp-auditor!!!").decode(),
}

# --- The fixed demo accounts ------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    username: str
    real_name: str
    description: str


DEMO_ACCOUNTS: list[DemoAccount] = [
    DemoAccount("lin.xiaomei", "林小梅", "拟稿人：省政府办公厅 综合一处 科员"),
    DemoAccount("chen.zhiqiang", "陈志强", "处室负责人：省政府办公厅 综合一处 处长"),
    DemoAccount("huang.lihua", "黄丽华", "文秘：省政府办公厅 秘书处"),
    DemoAccount("zhou.jianguo", "周建国", "办公室主任：省政府办公厅"),
    DemoAccount("wang.deming", "王德明", "机关领导：省政府办公厅 副主任，分管综合一处"),
    DemoAccount("li.guohua", "李国华", "收发员：省财政厅 办公室（另一机关）"),
    DemoAccount("zheng.haitao", "郑海涛", "督查员：省政府办公厅 督查室"),
    DemoAccount("he.jun", "何军", "印章管理员：省政府办公厅 办公室"),
    DemoAccount("deng.lan", "邓岚", "档案员：省政府办公厅 办公室"),
    DemoAccount("sysadmin", "何振宇", "系统管理员（三员之一，需动态口令）"),
    DemoAccount("secadmin", "罗静怡", "安全管理员（三员之一，需动态口令）"),
    DemoAccount("auditor", "梁文博", "审计管理员（三员之一，需动态口令）"),
]


# People whom the walkthroughs (README "Try 收文", "Try 会议") sign in as. They are generated
# from the seed like everyone else there (the same names on every machine); load_demo gives them the
# demo password, and tests/demo/test_load_demo.py checks they hold these roles.
WALKTHROUGH_ACCOUNTS: list[DemoAccount] = [
    DemoAccount("ma.xuebin", "马雪斌", "文秘：省财政厅 办公室（收文初审、分办、办结）"),
    DemoAccount("feng.jiajuan", "冯佳娟", "办公室主任：省财政厅（收文拟办）"),
    DemoAccount("deng.tingjuan", "邓婷娟", "机关领导：省财政厅，分管预算处（收文批办）"),
    DemoAccount("liang.hanyao", "梁涵瑶", "处室负责人：省财政厅 预算处（收文承办、答复）"),
    DemoAccount("chen.hui", "陈辉", "会议管理员：省政府办公厅 办公室（审批常务会议室的预订）"),
]


def demo_accounts() -> list[tuple[str, str, str]]:
    """(username, password, 角色说明) of every fixed demo account, for the serve command and README."""
    return [(a.username, DEMO_PASSWORD, a.description) for a in [*DEMO_ACCOUNTS, *WALKTHROUGH_ACCOUNTS]]


def demo_totp_code(username: str) -> str:
    """The current TOTP code of a demo administrator (what an authenticator app would show now)."""
    from django_otp.oath import totp

    key = base64.b32decode(DEMO_TOTP_SECRETS[username])
    return f"{totp(key):06d}"


# --- The province's shape ---------------------------------------------------------------------

# (full name, short name, 机关代字, code, business divisions)
PROVINCIAL_DEPARTMENTS: list[tuple[str, str, str, str, list[str]]] = [
    (
        "广东省发展和改革委员会",
        "省发展改革委",
        "粤发改",
        "FGW",
        ["发展规划处", "国民经济综合处", "投资处", "产业发展处"],
    ),
    ("广东省教育厅", "省教育厅", "粤教", "JYT", ["基础教育处", "高等教育处", "职业教育与继续教育处"]),
    ("广东省科学技术厅", "省科技厅", "粤科", "KJT", ["基础研究处", "高新技术处", "成果转化处"]),
    (
        "广东省工业和信息化厅",
        "省工业和信息化厅",
        "粤工信",
        "GXT",
        ["产业政策处", "原材料工业处", "电子信息处", "中小企业处"],
    ),
    ("广东省公安厅", "省公安厅", "粤公", "GAT", ["治安管理处", "交通管理处", "出入境管理处"]),
    ("广东省民政厅", "省民政厅", "粤民", "MZT", ["社会救助处", "养老服务处", "社会组织管理处"]),
    ("广东省司法厅", "省司法厅", "粤司", "SFT", ["立法一处", "行政复议处", "律师工作处"]),
    ("广东省财政厅", "省财政厅", "粤财", "CZT", ["预算处", "国库处", "税政处", "经济建设处"]),
    (
        "广东省人力资源和社会保障厅",
        "省人力资源社会保障厅",
        "粤人社",
        "RST",
        ["就业促进处", "养老保险处", "劳动关系处"],
    ),
    (
        "广东省自然资源厅",
        "省自然资源厅",
        "粤自然资",
        "ZRZYT",
        ["国土空间规划处", "耕地保护监督处", "测绘管理处"],
    ),
    ("广东省生态环境厅", "省生态环境厅", "粤环", "STHJT", ["大气环境处", "水生态环境处", "环境影响评价处"]),
    (
        "广东省住房和城乡建设厅",
        "省住房城乡建设厅",
        "粤建",
        "ZJT",
        ["住房保障处", "城市建设处", "建筑市场监管处"],
    ),
    ("广东省交通运输厅", "省交通运输厅", "粤交", "JTT", ["综合规划处", "公路处", "水运处"]),
    ("广东省水利厅", "省水利厅", "粤水", "SLT", ["水资源处", "河湖管理处", "水旱灾害防御处"]),
    ("广东省农业农村厅", "省农业农村厅", "粤农农", "NYNCT", ["乡村产业处", "种植业管理处", "农田建设管理处"]),
    ("广东省商务厅", "省商务厅", "粤商务", "SWT", ["外贸发展处", "外资处", "市场体系建设处"]),
    ("广东省文化和旅游厅", "省文化和旅游厅", "粤文旅", "WHLYT", ["艺术处", "公共服务处", "资源开发处"]),
    (
        "广东省卫生健康委员会",
        "省卫生健康委",
        "粤卫",
        "WJW",
        ["医政医管处", "疾病预防控制处", "基层卫生健康处"],
    ),
    (
        "广东省退役军人事务厅",
        "省退役军人事务厅",
        "粤退役军人",
        "TYJRT",
        ["移交安置处", "就业创业处", "优抚褒扬处"],
    ),
    (
        "广东省应急管理厅",
        "省应急管理厅",
        "粤应急",
        "YJGLT",
        ["风险监测和综合减灾处", "安全生产基础处", "救援协调和预案管理处"],
    ),
    ("广东省审计厅", "省审计厅", "粤审", "SJT", ["财政审计处", "经济责任审计处", "企业审计处"]),
    (
        "广东省人民政府国有资产监督管理委员会",
        "省国资委",
        "粤国资",
        "GZW",
        ["产权管理处", "企业改革处", "考核分配处"],
    ),
    (
        "广东省市场监督管理局",
        "省市场监管局",
        "粤市监",
        "SCJGJ",
        ["登记注册处", "食品生产安全监督管理处", "价格监督检查处"],
    ),
    ("广东省广播电视局", "省广电局", "粤广电", "GDJ", ["传媒机构管理处", "网络视听节目管理处"]),
    ("广东省体育局", "省体育局", "粤体", "TYJ", ["群众体育处", "竞技体育处"]),
    ("广东省统计局", "省统计局", "粤统", "TJJ", ["国民经济核算处", "工业统计处", "人口和就业统计处"]),
    ("广东省医疗保障局", "省医保局", "粤医保", "YBJ", ["待遇保障处", "医药服务管理处", "基金监管处"]),
    (
        "广东省政务服务和数据管理局",
        "省政务服务数据管理局",
        "粤政数",
        "ZSJ",
        ["政务服务处", "数据资源处", "数字政府建设处"],
    ),
    ("广东省林业局", "省林业局", "粤林", "LYJ", ["生态保护修复处", "自然保护地管理处"]),
    ("广东省地方金融管理局", "省地方金融管理局", "粤金融", "JRJ", ["金融稳定处", "地方金融监管处"]),
    ("广东省药品监督管理局", "省药监局", "粤药监", "YJJ", ["药品注册管理处", "医疗器械监督管理处"]),
    ("广东省信访局", "省信访局", "粤信访", "XFJ", ["来信处", "来访接待处", "督查督办处"]),
    ("广东省人民政府研究室", "省政府研究室", "粤府研", "YJS", ["综合研究处", "经济研究处"]),
    ("广东省人民政府参事室", "省政府参事室", "粤参事", "CSS", ["参事业务处", "文史研究处"]),
]

# (city, 代字 short, code, area code, sub-provincial)
CITIES: list[tuple[str, str, str, str, bool]] = [
    ("广州", "穗", "GZ", "020", True),
    ("深圳", "深", "SZ", "0755", True),
    ("珠海", "珠", "ZH", "0756", False),
    ("汕头", "汕", "ST", "0754", False),
    ("佛山", "佛", "FS", "0757", False),
    ("韶关", "韶", "SG", "0751", False),
    ("河源", "河", "HY", "0762", False),
    ("梅州", "梅", "MZ", "0753", False),
    ("惠州", "惠", "HZ", "0752", False),
    ("汕尾", "汕尾", "SW", "0660", False),
    ("东莞", "莞", "DG", "0769", False),
    ("中山", "中", "ZS", "0760", False),
    ("江门", "江", "JM", "0750", False),
    ("阳江", "阳", "YJ", "0662", False),
    ("湛江", "湛", "ZJ", "0759", False),
    ("茂名", "茂", "MM", "0668", False),
    ("肇庆", "肇", "ZQ", "0758", False),
    ("清远", "清", "QY", "0763", False),
    ("潮州", "潮", "CZ", "0768", False),
    ("揭阳", "揭", "JY", "0663", False),
    ("云浮", "云", "YF", "0766", False),
]

# Bureaus every city has in the demo; the two sub-provincial cities get two more.
CITY_BUREAUS: list[tuple[str, str, str, list[str]]] = [
    ("发展和改革局", "发改", "FGJ", ["规划科", "投资科"]),
    ("财政局", "财", "CZJ", ["预算科", "国库科"]),
    ("教育局", "教", "JYJ", ["基础教育科", "职业教育科"]),
]
BIG_CITY_BUREAUS: list[tuple[str, str, str, list[str]]] = [
    ("公安局", "公", "GAJ", ["治安管理科", "交通管理科"]),
    ("卫生健康委员会", "卫健", "WJW", ["医政医管科", "疾病预防控制科"]),
]

# (city, district/county, 代字, code, level name)
COUNTIES: list[tuple[str, str, str, str]] = [
    ("广州", "越秀区", "越府", "YX"),
    ("广州", "天河区", "穗天府", "TH"),
    ("深圳", "南山区", "深南府", "NS"),
    ("佛山", "顺德区", "顺府", "SD"),
    ("惠州", "博罗县", "博府", "BL"),
    ("梅州", "大埔县", "埔府", "DP"),
]

# 职务 with their order (higher is more senior).
POSITIONS: dict[str, int] = {
    "科员": 10,
    "副主任科员": 15,
    "一级主任科员": 20,
    "副科长": 25,
    "科长": 30,
    "副处长": 40,
    "处长": 50,
    "办公室主任": 55,
    "副局长": 60,
    "局长": 65,
    "副主任": 70,
    "主任": 75,
    "副厅长": 80,
    "厅长": 85,
    "副市长": 82,
    "市长": 88,
    "副区长": 62,
    "区长": 68,
    "副县长": 62,
    "县长": 68,
    "副省长": 92,
    "省长": 95,
}

# --- Names --------------------------------------------------------------------------------------

# Weighted towards the common surnames of 广东 (陈 李 黄 张 梁 林 …), with a long tail.
SURNAMES: list[tuple[str, int]] = [
    ("陈", 90),
    ("李", 80),
    ("黄", 75),
    ("张", 70),
    ("梁", 45),
    ("林", 45),
    ("刘", 45),
    ("吴", 40),
    ("罗", 35),
    ("何", 33),
    ("郑", 30),
    ("杨", 30),
    ("谢", 28),
    ("邓", 27),
    ("曾", 25),
    ("冯", 22),
    ("周", 22),
    ("叶", 20),
    ("蔡", 20),
    ("许", 18),
    ("王", 40),
    ("赵", 10),
    ("徐", 12),
    ("孙", 8),
    ("马", 8),
    ("朱", 12),
    ("胡", 12),
    ("郭", 12),
    ("高", 8),
    ("彭", 12),
    ("卢", 12),
    ("苏", 12),
    ("钟", 14),
    ("余", 10),
    ("潘", 10),
    ("杜", 6),
    ("方", 8),
    ("温", 9),
    ("欧阳", 5),
    ("邱", 9),
    ("赖", 9),
    ("莫", 7),
    ("严", 5),
    ("汤", 5),
    ("傅", 5),
    ("沈", 5),
    ("袁", 6),
    ("唐", 7),
    ("韩", 5),
    ("曹", 5),
    ("丁", 4),
    ("魏", 4),
    ("蒋", 4),
    ("姚", 5),
    ("龙", 4),
    ("江", 6),
    ("麦", 5),
    ("关", 5),
    ("古", 4),
    ("甘", 3),
    ("区", 3),
    ("司徒", 2),
    ("冼", 3),
]
GIVEN_CHARS_A = "志建国明伟文华海军晓丽秀丽敏静燕红玲婷雪颖佳俊杰浩宇子涵思远嘉欣梓萱永德振家荣伟强春"
GIVEN_CHARS_B = "强军平辉鹏涛斌超波勇刚磊峰霞芳娟英梅琳琴慧莹倩怡萍洁宁杰豪鑫轩博睿彤瑶琪妍诚良新"


class NameGenerator:
    """Deterministic realistic Chinese names and usernames (pinyin, dotted, unique)."""

    def __init__(self, rng: random.Random, taken_usernames: set[str], taken_names: set[str]) -> None:
        self.rng = rng
        self.taken_usernames = taken_usernames
        self.taken_names = taken_names
        self._surnames = [s for s, _ in SURNAMES]
        self._weights = [w for _, w in SURNAMES]

    def name(self) -> str:
        # Unique names keep the demo's address book unambiguous for a reader trying it out.
        for _ in range(50):
            surname = self.rng.choices(self._surnames, self._weights)[0]
            if self.rng.random() < 0.75:
                given = self.rng.choice(GIVEN_CHARS_A) + self.rng.choice(GIVEN_CHARS_B)
            else:
                given = self.rng.choice(GIVEN_CHARS_A + GIVEN_CHARS_B)
            candidate = surname + given
            if candidate not in self.taken_names:
                self.taken_names.add(candidate)
                return candidate
        return candidate

    def username(self, real_name: str) -> str:
        surname = next((s for s in self._surnames if len(s) == 2 and real_name.startswith(s)), real_name[0])
        given = real_name[len(surname) :]
        base = (
            "".join(lazy_pinyin(surname, style=Style.NORMAL))
            + "."
            + "".join(lazy_pinyin(given, style=Style.NORMAL))
        )
        candidate, n = base, 1
        while candidate in self.taken_usernames:
            n += 1
            candidate = f"{base}{n}"
        self.taken_usernames.add(candidate)
        return candidate


# --- The builder --------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    agencies: int = 0
    departments: int = 0
    users: int = 0
    notifications: int = 0


class ProvinceBuilder:
    """Builds the province through the org services; `build()` is the whole of it."""

    def __init__(self, *, stdout: Callable[[str], Any] | None = None) -> None:
        self.rng = random.Random(SEED)
        self.names = NameGenerator(
            self.rng, {a.username for a in DEMO_ACCOUNTS}, {a.real_name for a in DEMO_ACCOUNTS}
        )
        self.positions: dict[str, Position] = {}
        self.emp_seq = 0
        self.mobiles: set[str] = set()
        self.summary = DemoSummary()
        self.say = stdout or (lambda _msg: None)
        # Hashing is deliberately slow (PBKDF2); the demo accounts share one password, so hash it once.
        self.password_hash = make_password(DEMO_PASSWORD)
        self.fixed: dict[str, User] = {}

    # -- small builders
    def position(self, name: str) -> Position:
        if name not in self.positions:
            self.positions[name] = Position.objects.filter(name=name).first() or services.create_position(
                actor=None, name=name, rank=POSITIONS[name]
            )
        return self.positions[name]

    def agency(
        self,
        *,
        name: str,
        short_name: str,
        level: str,
        code: str,
        prefix: str,
        parent: Agency | None,
        order: int,
    ) -> Agency:
        self.summary.agencies += 1
        return services.create_agency(
            actor=None,
            name=name,
            short_name=short_name,
            level=level,
            code=code,
            parent=parent,
            number_prefix=prefix,
            sort_order=order,
        )

    def department(
        self,
        agency: Agency,
        name: str,
        code: str,
        *,
        kind: str = Department.Kind.GENERAL,
        order: int = 0,
        area: str = "020",
    ) -> Department:
        self.summary.departments += 1
        phone = f"{area}-{self.rng.randint(8310, 8399)}{self.rng.randint(0, 9999):04d}"
        return services.create_department(
            actor=None, agency=agency, name=name, code=code, kind=kind, sort_order=order, phone=phone
        )

    def mobile(self) -> str:
        while True:
            number = f"1{self.rng.choice('3589')}{self.rng.randint(0, 999_999_999):09d}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return number

    def person(
        self,
        department: Department,
        position: str,
        *,
        real_name: str | None = None,
        username: str | None = None,
        order: int = 0,
    ) -> User:
        real_name = real_name or self.names.name()
        username = username or self.names.username(real_name)
        self.emp_seq += 1
        self.summary.users += 1
        user = services.create_user(
            actor=None,
            username=username,
            real_name=real_name,
            department=department,
            employee_no=f"GD{self.emp_seq:06d}",
            mobile=self.mobile(),
            email=f"{username}@gd.example",
            position=self.position(position),
            sort_order=order,
        )
        return user

    def grant(
        self, user: User, role: str, *, agency: Agency | None = None, department: Department | None = None
    ) -> None:
        services.grant_role(actor=None, user=user, role=role, agency=agency, department=department)

    def staff(
        self,
        department: Department,
        agency: Agency,
        *,
        head: str,
        deputy: str | None,
        staff: list[str],
        drafters: bool = True,
    ) -> list[User]:
        """A department's people: its head (dept_head), maybe a deputy (reviewer), and staff (drafters)."""
        people = [self.person(department, head, order=1)]
        self.grant(people[0], Role.DEPT_HEAD, department=department)
        if deputy:
            deputy_user = self.person(department, deputy, order=2)
            self.grant(deputy_user, Role.REVIEWER, department=department)
            people.append(deputy_user)
        for i, pos in enumerate(staff, start=3):
            user = self.person(department, pos, order=i)
            if drafters:
                self.grant(user, Role.DRAFTER, agency=agency)
            people.append(user)
        return people

    def staff_list(self, low: int, high: int) -> list[str]:
        count = self.rng.randint(low, high)
        pool = ["科员", "科员", "副主任科员", "一级主任科员"]
        return [self.rng.choice(pool) for _ in range(count)]

    def oversee(
        self, leader: User, *, department: Department | None = None, agency: Agency | None = None
    ) -> None:
        services.add_portfolio(actor=None, leader=leader, department=department, agency=agency)

    # -- the parts of the province
    def build(self) -> DemoSummary:
        with transaction.atomic():
            province = self.agency(
                name="广东省人民政府",
                short_name="省政府",
                level=AgencyLevel.PROVINCE,
                code="GD",
                prefix="粤府",
                parent=None,
                order=0,
            )
            gov_leaders = self.department(province, "省政府领导", "GD-LD", kind=Department.Kind.LEADERSHIP)
            governor = self.person(gov_leaders, "省长", order=1)
            self.grant(governor, Role.LEADER, agency=province)
            self.oversee(governor, agency=province)
            vice_governors = [self.person(gov_leaders, "副省长", order=i) for i in range(2, 6)]
            for vg in vice_governors:
                self.grant(vg, Role.LEADER, agency=province)

            gov_office = self.build_gov_office(province)
            provincial = [gov_office]
            for i, spec in enumerate(PROVINCIAL_DEPARTMENTS, start=2):
                provincial.append(self.build_provincial_department(province, spec, order=i))
            # 副省长 oversee provincial departments in turn (分管), as the real division of work does.
            for i, agency in enumerate(provincial[1:]):
                self.oversee(vice_governors[i % len(vice_governors)], agency=agency)
            self.say(f"省直机关：{len(provincial)} 个")

            city_govs: dict[str, Agency] = {}
            for i, spec in enumerate(CITIES, start=100):
                city_govs[spec[0]] = self.build_city(province, spec, order=i)
            self.say("地级以上市：21 个")
            for i, spec in enumerate(COUNTIES, start=1):
                self.build_county(city_govs[spec[0]], spec, order=i)
            self.say(f"县（市、区）：{len(COUNTIES)} 个")

            self.build_policies()
            self.build_delegations(provincial)
            self.build_totp()
            fixed = [a.username for a in [*DEMO_ACCOUNTS, *WALKTHROUGH_ACCOUNTS]]
            User.objects.filter(username__in=fixed).update(
                password=self.password_hash, must_change_password=False
            )
        # After commit: notifications push to sockets, which must only see committed rows.
        self.build_notifications()
        return self.summary

    def build_gov_office(self, province: Agency) -> Agency:
        office = self.agency(
            name="广东省人民政府办公厅",
            short_name="省府办公厅",
            level=AgencyLevel.PROVINCE,
            code="GD-BGT",
            prefix="粤府办",
            parent=province,
            order=1,
        )
        d = self.department
        leadership = d(office, "厅领导", "GD-BGT-LD", kind=Department.Kind.LEADERSHIP, order=1)
        bgs = d(office, "办公室", "GD-BGT-BGS", kind=Department.Kind.OFFICE, order=2)
        secretariat = d(office, "秘书处", "GD-BGT-MS", kind=Department.Kind.SECRETARIAT, order=3)
        wendian = d(office, "文电处", "GD-BGT-WD", kind=Department.Kind.SECRETARIAT, order=4)
        supervision = d(office, "督查室", "GD-BGT-DC", kind=Department.Kind.SUPERVISION, order=5)
        general = [
            d(office, f"综合{n}处", f"GD-BGT-ZH{i}", order=5 + i) for i, n in enumerate("一二三四五", start=1)
        ]
        personnel = d(office, "人事处", "GD-BGT-RS", order=11)
        finance = d(office, "财务处", "GD-BGT-CW", order=12)
        it_centre = d(office, "信息中心", "GD-BGT-XX", order=13)

        fixed = self.fixed
        # Leadership: a 主任 (main leader) and deputies; wang.deming 分管 综合一处 among others.
        director = self.person(leadership, "主任", order=1)
        self.grant(director, Role.LEADER, agency=office)
        self.oversee(director, agency=office)
        fixed["wang.deming"] = self.person(
            leadership, "副主任", real_name="王德明", username="wang.deming", order=2
        )
        self.grant(fixed["wang.deming"], Role.LEADER, agency=office)
        deputies = [fixed["wang.deming"]] + [self.person(leadership, "副主任", order=i) for i in (3, 4)]
        for dep in deputies[1:]:
            self.grant(dep, Role.LEADER, agency=office)
        overseen = [*general, bgs, secretariat, wendian, supervision, personnel, finance, it_centre]
        for i, dept in enumerate(overseen):
            self.oversee(deputies[i % len(deputies)], department=dept)

        # 综合一处: the drafter and the department head of the demo.
        fixed["chen.zhiqiang"] = self.person(
            general[0], "处长", real_name="陈志强", username="chen.zhiqiang", order=1
        )
        self.grant(fixed["chen.zhiqiang"], Role.DEPT_HEAD, department=general[0])
        deputy = self.person(general[0], "副处长", order=2)
        self.grant(deputy, Role.REVIEWER, department=general[0])
        fixed["lin.xiaomei"] = self.person(
            general[0], "科员", real_name="林小梅", username="lin.xiaomei", order=3
        )
        self.grant(fixed["lin.xiaomei"], Role.DRAFTER, agency=office)
        for i, pos in enumerate(self.staff_list(4, 6), start=4):
            self.grant(self.person(general[0], pos, order=i), Role.DRAFTER, agency=office)
        for dept in general[1:]:
            self.staff(dept, office, head="处长", deputy="副处长", staff=self.staff_list(4, 7))

        # 办公室: the office director; 秘书处: the office secretary and clerks; 文电处: exchange clerks.
        fixed["zhou.jianguo"] = self.person(
            bgs, "办公室主任", real_name="周建国", username="zhou.jianguo", order=1
        )
        self.grant(fixed["zhou.jianguo"], Role.OFFICE_DIRECTOR, agency=office)
        self.grant(fixed["zhou.jianguo"], Role.DEPT_HEAD, department=bgs)
        fixed["he.jun"] = self.person(bgs, "一级主任科员", real_name="何军", username="he.jun", order=2)
        self.grant(fixed["he.jun"], Role.SEAL_KEEPER, agency=office)
        fixed["deng.lan"] = self.person(bgs, "科员", real_name="邓岚", username="deng.lan", order=3)
        self.grant(fixed["deng.lan"], Role.ARCHIVIST, agency=office)
        for i, pos in enumerate(self.staff_list(1, 3), start=4):
            user = self.person(bgs, pos, order=i)
            if i == 4:
                self.grant(user, Role.MEETING_ADMIN, agency=office)
        sec_people = self.staff(
            secretariat, office, head="处长", deputy="副处长", staff=self.staff_list(3, 5), drafters=False
        )
        fixed["huang.lihua"] = self.person(
            secretariat, "一级主任科员", real_name="黄丽华", username="huang.lihua", order=len(sec_people) + 1
        )
        self.grant(fixed["huang.lihua"], Role.OFFICE_SECRETARY, agency=office)
        for user in sec_people[2:4]:
            self.grant(user, Role.OFFICE_SECRETARY, agency=office)
        for user in self.staff(
            wendian, office, head="处长", deputy="副处长", staff=self.staff_list(3, 5), drafters=False
        )[2:]:
            self.grant(user, Role.CLERK, agency=office)
        sup_people = self.staff(
            supervision, office, head="主任", deputy="副主任", staff=self.staff_list(2, 4), drafters=False
        )
        fixed["zheng.haitao"] = self.person(
            supervision,
            "一级主任科员",
            real_name="郑海涛",
            username="zheng.haitao",
            order=len(sup_people) + 1,
        )
        for user in [*sup_people, fixed["zheng.haitao"]]:
            self.grant(user, Role.SUPERVISOR, agency=office)
        self.staff(personnel, office, head="处长", deputy="副处长", staff=self.staff_list(2, 4))
        self.staff(finance, office, head="处长", deputy="副处长", staff=self.staff_list(2, 4))

        # 信息中心: the three administrators, one role each (三员分立), province-wide.
        self.staff(
            it_centre, office, head="主任", deputy="副主任", staff=self.staff_list(2, 3), drafters=False
        )
        for username, role, order in (
            ("sysadmin", Role.SYSTEM_ADMIN, 10),
            ("secadmin", Role.SECURITY_ADMIN, 11),
            ("auditor", Role.AUDIT_ADMIN, 12),
        ):
            account = next(a for a in DEMO_ACCOUNTS if a.username == username)
            fixed[username] = self.person(
                it_centre, "一级主任科员", real_name=account.real_name, username=username, order=order
            )
            self.grant(fixed[username], role)
        return office

    def agency_office_roles(self, agency: Agency, office_dept: Department, people: list[User]) -> None:
        """Every agency's office: a director, a secretary (文秘), a clerk (收发员), a seal keeper, an
        archivist and a meeting administrator, so every flow finds someone to route to."""
        self.grant(people[0], Role.OFFICE_DIRECTOR, agency=agency)
        roles = [Role.OFFICE_SECRETARY, Role.CLERK, Role.SEAL_KEEPER, Role.ARCHIVIST, Role.MEETING_ADMIN]
        rest = people[1:] or people
        for i, role in enumerate(roles):
            self.grant(rest[i % len(rest)], role, agency=agency)

    def build_provincial_department(
        self, province: Agency, spec: tuple[str, str, str, str, list[str]], order: int
    ) -> Agency:
        name, short, prefix, code, divisions = spec
        agency = self.agency(
            name=name,
            short_name=short,
            level=AgencyLevel.PROVINCE,
            code=f"GD-{code}",
            prefix=prefix,
            parent=province,
            order=order,
        )
        d = self.department
        leadership = d(
            agency,
            "厅领导" if name.endswith("厅") else "领导班子",
            f"GD-{code}-LD",
            kind=Department.Kind.LEADERSHIP,
            order=1,
        )
        office = d(agency, "办公室", f"GD-{code}-BGS", kind=Department.Kind.OFFICE, order=2)
        units = [
            d(agency, "政策法规处", f"GD-{code}-ZCFG", order=3),
            d(agency, "综合处", f"GD-{code}-ZH", order=4),
            *[d(agency, div, f"GD-{code}-YW{i}", order=4 + i) for i, div in enumerate(divisions, start=1)],
            d(agency, "人事处", f"GD-{code}-RS", order=20),
            d(agency, "财务处", f"GD-{code}-CW", order=21),
        ]
        head_title = (
            "厅长" if name.endswith("厅") else ("主任" if "委员会" in name or name.endswith("室") else "局长")
        )
        deputy_title = "副" + head_title
        chief = self.person(leadership, head_title, order=1)
        self.grant(chief, Role.LEADER, agency=agency)
        self.oversee(chief, agency=agency)
        deputies = [
            self.person(leadership, deputy_title, order=i) for i in range(2, 2 + self.rng.randint(2, 3))
        ]
        for dep in deputies:
            self.grant(dep, Role.LEADER, agency=agency)
        for i, unit in enumerate([office, *units]):
            self.oversee(deputies[i % len(deputies)], department=unit)

        if code == "CZT":
            # The other agency's clerk of the demo: 省财政厅 办公室 收发员.
            office_people = self.staff(
                office,
                agency,
                head="办公室主任",
                deputy="副处长",
                staff=self.staff_list(2, 3),
                drafters=False,
            )
            self.fixed["li.guohua"] = self.person(
                office, "科员", real_name="李国华", username="li.guohua", order=len(office_people) + 1
            )
            self.grant(self.fixed["li.guohua"], Role.CLERK, agency=agency)
        else:
            office_people = self.staff(
                office,
                agency,
                head="办公室主任",
                deputy="副处长",
                staff=self.staff_list(2, 3),
                drafters=False,
            )
        self.agency_office_roles(agency, office, office_people)
        for unit in units:
            self.staff(
                unit,
                agency,
                head="处长",
                deputy="副处长" if self.rng.random() < 0.4 else None,
                staff=self.staff_list(1, 2),
            )
        return agency

    def build_city(self, province: Agency, spec: tuple[str, str, str, str, bool], order: int) -> Agency:
        city, short, code, area, big = spec
        gov = self.agency(
            name=f"{city}市人民政府",
            short_name=f"{city}市政府",
            level=AgencyLevel.CITY,
            code=f"GD-{code}",
            prefix=f"{short}府",
            parent=province,
            order=order,
        )
        leaders_dept = self.department(
            gov, "市政府领导", f"GD-{code}-LD", kind=Department.Kind.LEADERSHIP, area=area
        )
        mayor = self.person(leaders_dept, "市长", order=1)
        self.grant(mayor, Role.LEADER, agency=gov)
        self.oversee(mayor, agency=gov)
        vice_mayors = [self.person(leaders_dept, "副市长", order=i) for i in range(2, 2 + (4 if big else 2))]
        for vm in vice_mayors:
            self.grant(vm, Role.LEADER, agency=gov)

        office_kind = "办公厅" if big else "办公室"
        office = self.agency(
            name=f"{city}市人民政府{office_kind}",
            short_name=f"{city}市府办",
            level=AgencyLevel.CITY,
            code=f"GD-{code}-BGS",
            prefix=f"{short}府办",
            parent=gov,
            order=1,
        )
        d = self.department
        o_lead = d(
            office, "领导班子", f"GD-{code}-BGS-LD", kind=Department.Kind.LEADERSHIP, order=1, area=area
        )
        o_bgs = d(office, "秘书科", f"GD-{code}-BGS-MS", kind=Department.Kind.SECRETARIAT, order=2, area=area)
        o_sup = d(office, "督查室", f"GD-{code}-BGS-DC", kind=Department.Kind.SUPERVISION, order=3, area=area)
        o_gen = d(office, "综合科", f"GD-{code}-BGS-ZH", order=4, area=area)
        o_office = d(office, "办公室", f"GD-{code}-BGS-BGS", kind=Department.Kind.OFFICE, order=5, area=area)
        o_chief = self.person(o_lead, "主任", order=1)
        self.grant(o_chief, Role.LEADER, agency=office)
        self.oversee(o_chief, agency=office)
        o_deputy = self.person(o_lead, "副主任", order=2)
        self.grant(o_deputy, Role.LEADER, agency=office)
        for dept in (o_bgs, o_sup, o_gen, o_office):
            self.oversee(o_deputy, department=dept)
        sec = self.staff(
            o_bgs,
            office,
            head="科长",
            deputy="副科长" if big else None,
            staff=self.staff_list(2, 3),
            drafters=False,
        )
        self.agency_office_roles(office, o_bgs, sec)
        for user in self.staff(
            o_sup, office, head="主任", deputy=None, staff=self.staff_list(1, 2), drafters=False
        ):
            self.grant(user, Role.SUPERVISOR, agency=office)
        self.staff(o_gen, office, head="科长", deputy="副科长" if big else None, staff=self.staff_list(1, 3))
        self.staff(o_office, office, head="科长", deputy=None, staff=self.staff_list(0, 1))

        bureaus = CITY_BUREAUS + (BIG_CITY_BUREAUS if big else [])
        for i, (b_name, b_prefix, b_code, divisions) in enumerate(bureaus, start=2):
            bureau = self.agency(
                name=f"{city}市{b_name}",
                short_name=f"{city}市{b_name}",
                level=AgencyLevel.CITY,
                code=f"GD-{code}-{b_code}",
                prefix=f"{short}{b_prefix}",
                parent=gov,
                order=i,
            )
            self.oversee(vice_mayors[i % len(vice_mayors)], agency=bureau)
            b_lead = d(bureau, "局领导", f"GD-{code}-{b_code}-LD", kind=Department.Kind.LEADERSHIP, area=area)
            b_office = d(
                bureau, "办公室", f"GD-{code}-{b_code}-BGS", kind=Department.Kind.OFFICE, order=1, area=area
            )
            units = [d(bureau, "综合科", f"GD-{code}-{b_code}-ZH", order=2, area=area)]
            units += [
                d(bureau, div, f"GD-{code}-{b_code}-YW{j}", order=2 + j, area=area)
                for j, div in enumerate(divisions, start=1)
            ]
            head_title = "主任" if "委员会" in b_name else "局长"
            chief = self.person(b_lead, head_title, order=1)
            self.grant(chief, Role.LEADER, agency=bureau)
            self.oversee(chief, agency=bureau)
            deputy = self.person(b_lead, "副" + head_title, order=2)
            self.grant(deputy, Role.LEADER, agency=bureau)
            for unit in [b_office, *units]:
                self.oversee(deputy, department=unit)
            office_people = self.staff(
                b_office, bureau, head="科长", deputy=None, staff=self.staff_list(1, 2), drafters=False
            )
            self.agency_office_roles(bureau, b_office, office_people)
            for unit in units:
                self.staff(
                    unit, bureau, head="科长", deputy=None, staff=self.staff_list(0 if not big else 1, 2)
                )
        return gov

    def build_county(self, city_gov: Agency, spec: tuple[str, str, str, str], order: int) -> None:
        city, name, prefix, code = spec
        city_code = city_gov.code
        head, deputy = ("区长", "副区长") if name.endswith("区") else ("县长", "副县长")
        gov = self.agency(
            name=f"{city}市{name}人民政府",
            short_name=f"{name}政府",
            level=AgencyLevel.COUNTY,
            code=f"{city_code}-{code}",
            prefix=prefix,
            parent=city_gov,
            order=100 + order,
        )
        lead = self.department(
            gov,
            "区政府领导" if name.endswith("区") else "县政府领导",
            f"{city_code}-{code}-LD",
            kind=Department.Kind.LEADERSHIP,
        )
        chief = self.person(lead, head, order=1)
        self.grant(chief, Role.LEADER, agency=gov)
        self.oversee(chief, agency=gov)
        self.grant(self.person(lead, deputy, order=2), Role.LEADER, agency=gov)
        office = self.agency(
            name=f"{city}市{name}人民政府办公室",
            short_name=f"{name}府办",
            level=AgencyLevel.COUNTY,
            code=f"{city_code}-{code}-BGS",
            prefix=f"{prefix}办",
            parent=gov,
            order=1,
        )
        o_lead = self.department(
            office, "领导班子", f"{city_code}-{code}-BGS-LD", kind=Department.Kind.LEADERSHIP
        )
        o_sec = self.department(
            office, "秘书股", f"{city_code}-{code}-BGS-MS", kind=Department.Kind.SECRETARIAT
        )
        o_gen = self.department(office, "综合股", f"{city_code}-{code}-BGS-ZH")
        o_chief = self.person(o_lead, "主任", order=1)
        self.grant(o_chief, Role.LEADER, agency=office)
        self.oversee(o_chief, agency=office)
        sec = self.staff(o_sec, office, head="科长", deputy=None, staff=self.staff_list(2, 3), drafters=False)
        self.agency_office_roles(office, o_sec, sec)
        self.staff(o_gen, office, head="科长", deputy=None, staff=self.staff_list(1, 3))

    def build_policies(self) -> None:
        """Address-book field policy defaults: mobiles inside one's agency, office numbers province-wide,
        set by the demo's 安全管理员 as a real one would."""
        from officeapp.accounts.services import set_directory_policy

        defaults = {
            "mobile": DirectoryVisibility.SAME_AGENCY,
            "office_phone": DirectoryVisibility.EVERYONE,
            "email": DirectoryVisibility.EVERYONE,
            "employee_no": DirectoryVisibility.SAME_DEPARTMENT,
        }
        set_directory_policy(
            actor=self.fixed["secadmin"], visibility={k: str(v) for k, v in defaults.items()}
        )

    def build_delegations(self, provincial: list[Agency]) -> None:
        """Two active delegations (委托): a leader on a business trip, a section chief on leave."""
        now = timezone.now()
        education = next(a for a in provincial if a.code == "GD-JYT")
        leaders = list(
            User.objects.filter(
                department__agency=education, department__kind=Department.Kind.LEADERSHIP
            ).order_by("sort_order")[:2]
        )
        # Each is set up by the leave-taker, as a real one would be.
        services.create_delegation(
            actor=leaders[1],
            from_user=leaders[1],
            to_user=leaders[0],
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=14),
            scope=DelegationScope.ALL,
            reason="出差",
        )
        general_two = Department.objects.get(code="GD-BGT-ZH2")
        members = list(general_two.members.order_by("sort_order")[:2])
        services.create_delegation(
            actor=members[0],
            from_user=members[0],
            to_user=members[1],
            starts_at=now - timedelta(hours=2),
            ends_at=now + timedelta(days=7),
            scope=DelegationScope.OUTGOING,
            reason="休假",
        )

    def build_totp(self) -> None:
        """The three administrators sign in with a TOTP code after the password (demo secrets)."""
        from django_otp.plugins.otp_totp.models import TOTPDevice

        for username, secret in DEMO_TOTP_SECRETS.items():
            TOTPDevice.objects.create(
                user=self.fixed[username],
                name="演示动态口令",
                key=base64.b32decode(secret).hex(),
                confirmed=True,
            )

    def build_notifications(self) -> None:
        from officeapp.notify.services import notify

        samples = [
            (
                "lin.xiaomei",
                "welcome",
                "欢迎使用协同办公平台",
                "您的待办、待阅和通知都在工作台。",
                "/",
                "normal",
            ),
            (
                "lin.xiaomei",
                "reminder",
                "请核对本周拟稿安排",
                "综合一处本周例会材料请于周五前完成。",
                "/",
                "normal",
            ),
            (
                "chen.zhiqiang",
                "reminder",
                "处室周例会提醒",
                "周一上午 9:00 在 3 楼会议室召开处室周例会。",
                "/",
                "normal",
            ),
            (
                "huang.lihua",
                "welcome",
                "欢迎使用协同办公平台",
                "秘书处的收发文工作可在工作台查看。",
                "/",
                "normal",
            ),
            (
                "zhou.jianguo",
                "reminder",
                "办公厅月度工作会议",
                "本月工作会议定于周三下午召开，请准时参加。",
                "/",
                "urgent",
            ),
            (
                "wang.deming",
                "welcome",
                "欢迎使用协同办公平台",
                "您分管处室的待签发事项将在工作台提示。",
                "/",
                "normal",
            ),
            (
                "li.guohua",
                "welcome",
                "欢迎使用协同办公平台",
                "省财政厅的来文将在工作台待办中显示。",
                "/",
                "normal",
            ),
            ("zheng.haitao", "reminder", "督办事项季度通报", "请整理本季度督办事项办理情况。", "/", "normal"),
        ]
        for username, kind, title, body, url, urgency in samples:
            notify(
                [self.fixed[username]],
                kind=kind,
                title=title,
                body=body,
                url=url,
                urgency=urgency,
                actor=None,
            )
            self.summary.notifications += 1


def province_exists() -> bool:
    return Agency.objects.exists() or User.objects.exists()


def load_demo_province(*, stdout: Callable[[str], Any] | None = None) -> DemoSummary:
    """Build the demo province into an empty database (the caller checks it is empty)."""
    return ProvinceBuilder(stdout=stdout).build()
