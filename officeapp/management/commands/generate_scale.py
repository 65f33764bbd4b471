"""`manage.py generate_scale --users 650000 --agencies 20000 [--tasks N --task-owner NAME]`.

Benchmark data at the scale DESIGN.md plans for, in bulk: an agency tree (province → cities →
counties → townships, with provincial departments and bureaus), about five departments per agency,
users spread over them with realistic names, a department head per department and a clerk per
agency; with --tasks, N viewflow tasks (one process each) owned by one user, for the workbench.

Fast because: ids are assigned here, so tree paths are computed in memory and rows are written
once; one password is hashed once and shared; pinyin is computed once per distinct name; rows go in
with COPY on PostgreSQL (bulk_create in batches elsewhere); nothing writes audit or outbox rows
(benchmark data is not an act of anyone). Re-running keeps what exists: the org is generated only
when no generated agency exists, tasks only when the owner has fewer than N.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from officeapp.demo import GIVEN_CHARS_A, GIVEN_CHARS_B, POSITIONS, SURNAMES
from officeapp.org.models import Agency, AgencyLevel, Department, Position, Role, RoleGrant, User
from officeapp.org.pinyin import pinyin_keys

CODE_PREFIX = "S-"  # every generated agency's code starts with this; tells a re-run what exists
BATCH = 5000
# Loads at least this large drop and rebuild the table's secondary indexes (PostgreSQL).
REBUILD_INDEXES_FROM = 50_000

CITY_NAMES = [
    "广州",
    "深圳",
    "珠海",
    "汕头",
    "佛山",
    "韶关",
    "河源",
    "梅州",
    "惠州",
    "汕尾",
    "东莞",
    "中山",
    "江门",
    "阳江",
    "湛江",
    "茂名",
    "肇庆",
    "清远",
    "潮州",
    "揭阳",
    "云浮",
]
BUREAUS = [
    "发展和改革局",
    "教育局",
    "科学技术局",
    "工业和信息化局",
    "公安局",
    "民政局",
    "司法局",
    "财政局",
    "人力资源和社会保障局",
    "自然资源局",
    "生态环境局",
    "住房和城乡建设局",
    "交通运输局",
    "水务局",
    "农业农村局",
    "商务局",
    "文化广电旅游体育局",
    "卫生健康局",
    "退役军人事务局",
    "应急管理局",
    "审计局",
    "市场监督管理局",
    "统计局",
    "医疗保障局",
    "政务服务数据管理局",
    "信访局",
    "城市管理和综合执法局",
]
PLACE_CHARS = "东南西北中新安平和兴宁华丰宝龙凤山河海江湖石桥塘岭田沙溪云梅桂莲荔林"
DEPARTMENTS = [
    "办公室",
    "政策法规科",
    "综合科",
    "人事科",
    "财务科",
    "规划科",
    "业务一科",
    "业务二科",
    "业务三科",
    "督查室",
    "信息科",
    "法制科",
    "审批科",
    "监督科",
    "宣传科",
]
TOPICS = [
    "做好2026年防汛防风工作",
    "进一步优化营商环境",
    "加强安全生产监管",
    "推进数字政府建设",
    "开展耕地保护专项检查",
    "做好高校毕业生就业工作",
    "加强城乡生活垃圾分类",
    "推进基层减负",
    "做好重要民生商品保供稳价",
    "开展政务服务满意度评价",
    "加强防范电信网络诈骗宣传",
    "推进乡村振兴重点任务",
    "做好年度预算执行",
    "规范行政执法行为",
]
DOC_TYPES = ["通知", "请示", "报告", "函", "意见", "通报"]


def copy_or_bulk(
    model: type[models.Model], rows: Iterable[models.Model], *, total: int | None = None, desc: str = ""
) -> int:
    """Write unsaved instances (pk already set) in batches: COPY on PostgreSQL, bulk_create elsewhere."""
    fields = [f for f in model._meta.concrete_fields]
    written = 0
    bar = tqdm(total=total, desc=desc, unit="行", mininterval=1.0, leave=False)
    if connection.vendor == "postgresql":
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        large = (total or 0) >= REBUILD_INDEXES_FROM
        with (
            _secondary_indexes_rebuilt(model, large=large),
            connection.cursor() as cursor,
            cursor.cursor.copy(sql) as copy,
        ):
            for obj in rows:
                copy.write_row([_copy_value(f, obj) for f in fields])
                written += 1
                if written % BATCH == 0:
                    bar.update(BATCH)
    else:
        for batch in _batches(rows, BATCH):
            model.objects.bulk_create(batch, batch_size=BATCH)
            written += len(batch)
            bar.update(len(batch))
    bar.close()
    return written


@contextmanager
def _secondary_indexes_rebuilt(model: type[models.Model], *, large: bool) -> Iterator[None]:
    """For a large load on PostgreSQL: drop the table's indexes that back no constraint, load, and
    build them again. One sorted build per index is far cheaper than hundreds of thousands of random
    inserts into a dozen indexes. DDL is transactional here: the caller's transaction undoes it all
    if the load fails."""
    if not large:
        yield
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            [table, table],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        # CREATE INDEX refuses to run while deferred foreign-key checks are pending: run them now
        # (they would run at commit anyway), then defer again.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in tqdm(indexes, desc=f"重建索引 {table}", leave=False):
            cursor.execute(definition)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _copy_value(field: models.Field, obj: models.Model) -> Any:
    value = getattr(obj, field.attname)
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(value, ensure_ascii=False)
    return field.get_db_prep_save(value, connection)


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def _reset_sequences(*model_classes: type[models.Model]) -> None:
    # Ids were assigned here; move the database's sequences past them.
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(model_classes)):
            cursor.execute(sql)


class Command(BaseCommand):
    help = "批量生成基准测试数据：机关树、处室、用户（默认 650,000）以及可选的流程待办任务。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=650_000, help="用户数（默认 650000）")
        parser.add_argument("--agencies", type=int, default=20_000, help="机关数（默认 20000）")
        parser.add_argument("--tasks", type=int, default=0, help="为 --task-owner 生成的流程任务数")
        parser.add_argument("--task-owner", default="scale.tasks", help="任务所属用户名（不存在则创建）")
        parser.add_argument("--seed", type=int, default=650)

    def handle(self, *args: Any, **options: Any) -> None:
        users, agencies, tasks = options["users"], options["agencies"], options["tasks"]
        if users < 0 or agencies < 0 or tasks < 0:
            raise CommandError("数量不能为负数。")
        if agencies and agencies < 30:
            raise CommandError("--agencies 至少为 30（省、21 个市及其下属机关）。")
        self.rng = random.Random(options["seed"])
        started = time.monotonic()
        wrote = False
        if agencies and Agency.objects.filter(code__startswith=CODE_PREFIX).exists():
            self.stdout.write("已存在生成的机关与用户，跳过组织数据生成。")
        elif agencies:
            self.generate_org(users=users, agencies=agencies)
            wrote = True
        if tasks:
            wrote = self.generate_tasks(tasks, options["task_owner"]) or wrote
        if wrote and connection.vendor == "postgresql":
            # Fresh statistics for the planner; VACUUM also sets the visibility map so index-only scans
            # skip the heap (it cannot run inside a transaction, e.g. in tests).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        self.stdout.write(self.style.SUCCESS(f"完成，用时 {time.monotonic() - started:.1f} 秒。"))

    # --- organisation -------------------------------------------------------------------------
    # One transaction: agencies without their users would make a re-run skip the org for good.
    @transaction.atomic
    def generate_org(self, *, users: int, agencies: int) -> None:
        rng = self.rng
        now = timezone.now()
        next_agency = _next_id(Agency)
        tree: list[Agency] = []

        def add(name: str, level: str, parent: Agency | None, prefix: str = "") -> Agency:
            nonlocal next_agency
            pk = next_agency
            next_agency += 1
            agency = Agency(
                pk=pk,
                name=name,
                short_name=name[:40],
                level=level,
                parent=parent,
                code=f"{CODE_PREFIX}{pk}",
                number_prefix=prefix,
                sort_order=len(tree),
                path=f"{parent.path if parent else ''}{pk:07d}.",
                is_active=True,
            )
            tree.append(agency)
            return agency

        # The shape follows a province: ~0.3 % provincial departments, 21 cities, ~0.6 % counties,
        # ~25 % bureaus, the rest townships.
        root = add("广东省人民政府（基准）", AgencyLevel.PROVINCE, None, "粤府")
        for i in range(max(1, agencies * 3 // 1000)):
            add(f"广东省基准厅局{i + 1:03d}", AgencyLevel.PROVINCE, root, f"粤基{i + 1}")
        cities = [
            add(
                f"{CITY_NAMES[i % 21]}市人民政府" + ("" if i < 21 else f"{i}"),
                AgencyLevel.CITY,
                root,
                f"{CITY_NAMES[i % 21][0]}府",
            )
            for i in range(min(21, max(1, agencies // 100)))
        ]
        counties = []
        for i in range(max(len(cities), agencies * 6 // 1000)):
            city = cities[i % len(cities)]
            name = f"{city.name[:-5]}{rng.choice(PLACE_CHARS)}{rng.choice(PLACE_CHARS)}区{i}人民政府"
            counties.append(add(name, AgencyLevel.COUNTY, city, f"{city.number_prefix[0]}{i}府"))
        while len(tree) < agencies:
            i = len(tree)
            if rng.random() < 0.25:
                parent = rng.choice(cities + counties)
                level = parent.level
                add(f"{parent.name[:-4]}{BUREAUS[i % len(BUREAUS)]}", level, parent)
            else:
                parent = rng.choice(counties)
                add(
                    f"{rng.choice(PLACE_CHARS)}{rng.choice(PLACE_CHARS)}镇{i}人民政府",
                    AgencyLevel.TOWNSHIP,
                    parent,
                )

        next_department = _next_id(Department)
        departments: list[Department] = []
        for agency in tree:
            count = rng.randint(3, 7)
            names = ["办公室", *rng.sample(DEPARTMENTS[1:], count - 1)]
            for order, name in enumerate(names):
                pk = next_department
                next_department += 1
                kind = (
                    Department.Kind.OFFICE
                    if name == "办公室"
                    else (Department.Kind.SUPERVISION if name == "督查室" else Department.Kind.GENERAL)
                )
                departments.append(
                    Department(
                        pk=pk,
                        agency_id=agency.pk,
                        name=name,
                        kind=kind,
                        code=f"{CODE_PREFIX}{agency.pk}-{order}",
                        path=f"{pk:07d}.",
                        phone=f"020-8{pk % 10_000_000:07d}",
                        sort_order=order,
                        is_active=True,
                    )
                )

        copy_or_bulk(Agency, tree, total=len(tree), desc="机关")
        copy_or_bulk(Department, departments, total=len(departments), desc="处室")
        _reset_sequences(Agency, Department)
        self.stdout.write(f"机关 {len(tree)} 个，处室 {len(departments)} 个。")

        positions = {
            name: Position.objects.get_or_create(name=name, defaults={"rank": rank})[0].pk
            for name, rank in POSITIONS.items()
        }
        staff_positions = [
            positions["科员"],
            positions["科员"],
            positions["副主任科员"],
            positions["一级主任科员"],
        ]
        password = make_password("Scale-Passw0rd-2026")  # hashed once, shared by every generated user
        surnames = [s for s, _ in SURNAMES]
        weights = [w for _, w in SURNAMES]
        cum_weights: list[float] = []
        acc = 0.0
        for w in weights:
            acc += w
            cum_weights.append(acc)
        pinyin_cache: dict[str, tuple[str, str]] = {}
        next_user = _next_id(User)
        first_user = next_user
        department_ids = [d.pk for d in departments]
        department_agency = {d.pk: d.agency_id for d in departments}
        members_seen: set[int] = set()
        grants: list[RoleGrant] = []
        next_grant = _next_id(RoleGrant)
        clerk_done: set[int] = set()

        def user_rows() -> Iterator[User]:
            nonlocal next_user
            for n in range(users):
                pk = next_user
                next_user += 1
                # Every department gets its head first; then users fall at random.
                department_id = department_ids[n] if n < len(department_ids) else rng.choice(department_ids)
                surname = rng.choices(surnames, cum_weights=cum_weights)[0]
                given = rng.choice(GIVEN_CHARS_A) + (rng.choice(GIVEN_CHARS_B) if rng.random() < 0.75 else "")
                real_name = surname + given
                keys = pinyin_cache.get(real_name)
                if keys is None:
                    keys = pinyin_cache[real_name] = pinyin_keys(real_name)
                head = department_id not in members_seen
                members_seen.add(department_id)
                agency_id = department_agency[department_id]
                if head:
                    grants.append(
                        RoleGrant(
                            pk=next_grant + len(grants),
                            user_id=pk,
                            role=Role.DEPT_HEAD,
                            department_id=department_id,
                            granted_at=now,
                        )
                    )
                elif agency_id not in clerk_done:
                    clerk_done.add(agency_id)
                    grants.append(
                        RoleGrant(
                            pk=next_grant + len(grants),
                            user_id=pk,
                            role=Role.CLERK,
                            agency_id=agency_id,
                            granted_at=now,
                        )
                    )
                yield User(
                    pk=pk,
                    username=f"u{pk:07d}",
                    password=password,
                    real_name=real_name,
                    employee_no=f"S{pk:08d}",
                    mobile=f"1{3 + pk % 7}{pk:09d}",
                    office_phone=f"020-{83_000_000 + pk % 1_000_000}",
                    email=f"u{pk:07d}@scale.example",
                    department_id=department_id,
                    position_id=positions["处长"] if head else rng.choice(staff_positions),
                    sort_order=0 if head else 10,
                    name_pinyin=keys[0],
                    name_initials=keys[1],
                    is_active=True,
                    is_staff=False,
                    is_superuser=False,
                    date_joined=now,
                    first_name="",
                    last_name="",
                    must_change_password=False,
                    session_epoch=0,
                )

        copy_or_bulk(User, user_rows(), total=users, desc="用户")
        copy_or_bulk(RoleGrant, grants, total=len(grants), desc="角色")
        _reset_sequences(User, RoleGrant)
        self.stdout.write(
            f"用户 {users} 名（首个 u{first_user:07d}），角色授权 {len(grants)} 条，"
            f"不同姓名 {len(pinyin_cache)} 个。"
        )

    # --- viewflow tasks -----------------------------------------------------------------------
    def generate_tasks(self, count: int, owner_name: str) -> bool:
        """Tasks for one owner up to `count`; False when the owner already had them."""
        from viewflow.workflow.models import Process, Task
        from viewflow.workflow.status import PROCESS, STATUS
        from viewflow.workflow.token import Token

        owner = User.objects.filter(username=owner_name).first()
        if owner is None:
            department = Department.objects.order_by("pk").first()
            if department is None:
                raise CommandError("没有处室可放置任务所属用户：请先生成组织数据。")
            from officeapp.org.services import create_user

            owner = create_user(actor=None, username=owner_name, real_name="任务基准", department=department)
        existing = Task.objects.filter(owner=owner).count()
        if existing >= count:
            self.stdout.write(f"{owner_name} 已有 {existing} 个任务，跳过。")
            return False
        missing = count - existing
        rng = self.rng
        now = timezone.now()
        flow_ref = "workflows/flows.OutgoingFlow"
        node_ref = f"{flow_ref}.dept_review"
        first_process = _next_id(Process)
        first_task = _next_id(Task)
        # About one task in five is still open (待办); the rest are done (已办).
        statuses = [(STATUS.ASSIGNED, PROCESS.NEW)] + [(STATUS.DONE, PROCESS.DONE)] * 4
        plan = []
        for i in range(missing):
            created = now - timedelta(minutes=rng.randint(1, 3 * 365 * 24 * 60))
            status, process_status = statuses[i % 5]
            finished = (
                min(created + timedelta(hours=rng.randint(1, 72)), now) if status == STATUS.DONE else None
            )
            plan.append((created, status, process_status, finished))

        def processes() -> Iterator[Process]:
            for i, (created, _status, process_status, finished) in enumerate(plan):
                yield Process(
                    pk=first_process + i,
                    flow_class=flow_ref,
                    status=process_status,
                    created=created,
                    finished=finished,
                    data={},
                )

        def tasks() -> Iterator[Task]:
            for i, (created, status, _process_status, finished) in enumerate(plan):
                title = f"关于{rng.choice(TOPICS)}的{rng.choice(DOC_TYPES)}"
                yield Task(
                    pk=first_task + i,
                    process_id=first_process + i,
                    flow_task=node_ref,
                    flow_task_type="HUMAN",
                    status=status,
                    created=created,
                    assigned=created,
                    started=None,
                    finished=finished,
                    token=Token("start"),
                    owner_id=owner.pk,
                    data={"title": title, "urgency": "urgent" if i % 17 == 0 else "normal"},
                )

        with transaction.atomic():
            copy_or_bulk(Process, processes(), total=missing, desc="流程")
            copy_or_bulk(Task, tasks(), total=missing, desc="任务")
            _reset_sequences(Process, Task)
        self.stdout.write(f"为 {owner_name} 生成任务 {missing} 个（共 {count} 个）。")
        return True
