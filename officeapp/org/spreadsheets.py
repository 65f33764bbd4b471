"""Excel import and export of an agency's departments and users (openpyxl).

Layout (the downloadable template has the same sheets and headers; row 1 is the header, data from
row 2, columns found by header text so their order does not matter):

  sheet 部门: 部门代码*, 部门名称*, 上级部门代码, 类型 (业务处室/办公室/文电处/秘书处/督查室/领导班子), 办公电话, 排序
  sheet 用户: 用户名*, 姓名*, 工号, 部门代码*, 职务, 手机, 办公电话, 电子邮箱, 角色 (逗号分隔，如 拟稿人,收发员), 排序

An import is all or nothing: every row is validated first and, if any row is bad, nothing is written
and the report lists every bad row (sheet, row number, column, message). A department code may refer
to a department of the same file or one the agency already has. Imported users get a random initial
password and must change it at first sign-in. The three administrator roles and 单位管理员 are never
granted by a file: the 安全管理员 grants those one by one.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from officeapp.audit.services import record
from officeapp.org import access as org_access
from officeapp.org.forms import MAX_SORT_ORDER, SORT_ORDER_ERROR
from officeapp.org.models import ADMIN_ROLES, Agency, Department, Position, Role, RoleGrant, User
from officeapp.org.pinyin import pinyin_keys
from officeapp.outbox.models import OutboxEvent

DEPARTMENT_SHEET = "部门"
USER_SHEET = "用户"
# (key, header, required)
DEPARTMENT_COLUMNS: list[tuple[str, str, bool]] = [
    ("code", "部门代码", True),
    ("name", "部门名称", True),
    ("parent_code", "上级部门代码", False),
    ("kind", "类型", False),
    ("phone", "办公电话", False),
    ("sort_order", "排序", False),
]
USER_COLUMNS: list[tuple[str, str, bool]] = [
    ("username", "用户名", True),
    ("real_name", "姓名", True),
    ("employee_no", "工号", False),
    ("department_code", "部门代码", True),
    ("position", "职务", False),
    ("mobile", "手机", False),
    ("office_phone", "办公电话", False),
    ("email", "电子邮箱", False),
    ("roles", "角色", False),
    ("sort_order", "排序", False),
]
MAX_ROWS = 10_000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Zip-bomb guard: what the xlsx may expand to before openpyxl reads it.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Roles a file may grant; the 三员 and 单位管理员 are granted by the 安全管理员 one by one.
IMPORTABLE_ROLES = [r for r in Role.values if r not in ADMIN_ROLES and r != Role.AGENCY_ADMIN]
ROLE_BY_TEXT: dict[str, str] = {
    **{r: r for r in Role.values},
    **{str(label): value for value, label in Role.choices},
}
KIND_BY_TEXT: dict[str, str] = {
    **{k: k for k in Department.Kind.values},
    **{str(label): value for value, label in Department.Kind.choices},
    "文电处": Department.Kind.SECRETARIAT,
    "秘书处": Department.Kind.SECRETARIAT,
}
KIND_LABEL = {value: str(label) for value, label in Department.Kind.choices}
ROLE_LABEL = {value: str(label) for value, label in Role.choices}
# Initial passwords are 80-bit random strings that must be changed at first sign-in, so a slow hash
# buys nothing: a light PBKDF2 keeps an import of 2,000 users within seconds. Django re-hashes with
# the full work factor when the user signs in and when they set their own password.
IMPORT_HASH_ITERATIONS = 500


class ImportRefused(Exception):
    """The file itself is unusable (not an xlsx, too large); message in Chinese."""


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int
    column: str
    message: str


@dataclass
class Credential:
    username: str
    real_name: str
    password: str


@dataclass
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    departments: int = 0
    users: int = 0
    credentials: list[Credential] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- Reading ------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def check_file(upload: BinaryIO, *, size: int | None = None) -> None:
    """Refuse what is not a sane xlsx before anything reads it. Uses the blob store's upload checks
    when the blobs app provides them, and always checks size, zip magic and expansion here."""
    try:
        from officeapp.blobs.checks import UploadRefused, check_upload
    except ImportError:
        pass
    else:
        try:
            check_upload(
                upload,
                allowed_kinds={"spreadsheet"},
                max_bytes=MAX_UPLOAD_BYTES,
                name=getattr(upload, "name", None) or "import.xlsx",
            )
        except UploadRefused as exc:
            raise ImportRefused(str(exc)) from exc
        finally:
            upload.seek(0)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ImportRefused("文件过大：导入文件不得超过 10 MB。")
    head = upload.read(4)
    upload.seek(0)
    if head != b"PK\x03\x04":
        raise ImportRefused("文件不是有效的 Excel（.xlsx）文件，请使用模板填写后上传。")
    try:
        with zipfile.ZipFile(upload) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ImportRefused("文件不是有效的 Excel（.xlsx）文件，请使用模板填写后上传。") from exc
    finally:
        upload.seek(0)
    if expanded > MAX_UNCOMPRESSED_BYTES:
        raise ImportRefused("文件解压后过大，已拒绝。")


def _read_sheet(
    workbook: Any, sheet: str, columns: list[tuple[str, str, bool]], errors: list[RowError]
) -> list[tuple[int, dict[str, str]]]:
    if sheet not in workbook.sheetnames:
        return []
    rows = workbook[sheet].iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return []
    positions = {_text(h): i for i, h in enumerate(header) if _text(h)}
    # Headers may carry the template's "*" mark for required columns.
    positions.update({k.rstrip("*"): v for k, v in list(positions.items())})
    missing = [label for _key, label, required in columns if required and label not in positions]
    for label in missing:
        errors.append(RowError(sheet, 1, label, f"缺少必填列“{label}”。"))
    if missing:
        return []
    result: list[tuple[int, dict[str, str]]] = []
    for number, values in enumerate(rows, start=2):
        row = {
            key: _text(values[positions[label]])
            if label in positions and positions[label] < len(values)
            else ""
            for key, label, _required in columns
        }
        if not any(row.values()):
            continue  # blank lines between blocks are harmless
        if len(result) >= MAX_ROWS:
            errors.append(RowError(sheet, number, "", f"行数超过上限 {MAX_ROWS}，请分批导入。"))
            break
        result.append((number, row))
    return result


def read_workbook(
    upload: BinaryIO,
) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, dict[str, str]]], list[RowError]]:
    """Rows of both sheets, keyed by column key, with their spreadsheet row numbers."""
    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ImportRefused("无法读取该 Excel 文件，请使用模板填写后上传。") from exc
    errors: list[RowError] = []
    try:
        if DEPARTMENT_SHEET not in workbook.sheetnames and USER_SHEET not in workbook.sheetnames:
            raise ImportRefused(f"文件中没有“{DEPARTMENT_SHEET}”或“{USER_SHEET}”工作表，请使用模板。")
        departments = _read_sheet(workbook, DEPARTMENT_SHEET, DEPARTMENT_COLUMNS, errors)
        users = _read_sheet(workbook, USER_SHEET, USER_COLUMNS, errors)
    finally:
        workbook.close()
    return departments, users, errors


# --- Validation ---------------------------------------------------------------------------------


@dataclass
class _Plan:
    departments: list[tuple[int, dict[str, str]]]
    users: list[tuple[int, dict[str, str]]]
    existing_departments: dict[str, Department]
    positions: dict[str, Position]
    user_roles: dict[int, list[str]]


def _sort_order(value: str, sheet: str, number: int, errors: list[RowError]) -> None:
    if value and not (value.isdecimal() and int(value) <= MAX_SORT_ORDER):
        errors.append(RowError(sheet, number, "排序", SORT_ORDER_ERROR))


def _validate(
    agency: Agency,
    departments: list[tuple[int, dict[str, str]]],
    users: list[tuple[int, dict[str, str]]],
    errors: list[RowError],
) -> _Plan:
    d_sheet, u_sheet = DEPARTMENT_SHEET, USER_SHEET
    file_codes: dict[str, int] = {}
    for number, row in departments:
        for key, label, required in DEPARTMENT_COLUMNS:
            if required and not row[key]:
                errors.append(RowError(d_sheet, number, label, f"“{label}”不能为空。"))
        code = row["code"]
        if code:
            if code in file_codes:
                errors.append(
                    RowError(
                        d_sheet,
                        number,
                        "部门代码",
                        f"部门代码“{code}”在文件中重复（第 {file_codes[code]} 行）。",
                    )
                )
            else:
                file_codes[code] = number
        if row["kind"] and row["kind"] not in KIND_BY_TEXT:
            errors.append(RowError(d_sheet, number, "类型", f"未知的部门类型“{row['kind']}”。"))
        if len(row["name"]) > 100:
            errors.append(RowError(d_sheet, number, "部门名称", "部门名称不能超过 100 个字。"))
        if len(code) > 40:
            errors.append(RowError(d_sheet, number, "部门代码", "部门代码不能超过 40 个字符。"))
        _sort_order(row["sort_order"], d_sheet, number, errors)
    taken_codes = set(Department.objects.filter(code__in=list(file_codes)).values_list("code", flat=True))
    for code in sorted(taken_codes, key=file_codes.__getitem__):
        errors.append(RowError(d_sheet, file_codes[code], "部门代码", f"部门代码“{code}”已存在。"))

    referenced = {row["parent_code"] for _n, row in departments if row["parent_code"]}
    referenced |= {row["department_code"] for _n, row in users if row["department_code"]}
    existing = {
        d.code: d
        for d in Department.objects.filter(agency=agency, code__in=list(referenced - set(file_codes)))
    }
    known = set(file_codes) | set(existing)
    file_parent = {row["code"]: row["parent_code"] for _n, row in departments if row["code"]}
    for number, row in departments:
        parent = row["parent_code"]
        if not parent:
            continue
        if parent not in known:
            errors.append(
                RowError(
                    d_sheet, number, "上级部门代码", f"未知部门“{parent}”（不在文件中，也不属于本机关）。"
                )
            )
            continue
        seen = {row["code"]}
        while parent in file_parent:  # a cycle inside the file would never reach the agency
            if parent in seen:
                errors.append(RowError(d_sheet, number, "上级部门代码", "上级部门形成了循环。"))
                break
            seen.add(parent)
            parent = file_parent[parent]
    sibling_names: dict[tuple[str, str], int] = {}
    for number, row in departments:
        key = (row["parent_code"], row["name"])
        if row["name"] and key in sibling_names:
            errors.append(RowError(d_sheet, number, "部门名称", f"同一上级下的部门名称“{row['name']}”重复。"))
        sibling_names.setdefault(key, number)
        parent_obj = existing.get(row["parent_code"]) if row["parent_code"] else None
        if (
            row["name"]
            and (parent_obj or not row["parent_code"])
            and Department.objects.filter(agency=agency, parent=parent_obj, name=row["name"]).exists()
        ):
            errors.append(RowError(d_sheet, number, "部门名称", f"本机关同一上级下已有部门“{row['name']}”。"))

    usernames: dict[str, int] = {}
    employee_nos: dict[str, int] = {}
    position_names = {row["position"] for _n, row in users if row["position"]}
    positions = {p.name: p for p in Position.objects.filter(name__in=list(position_names))}
    username_check = UnicodeUsernameValidator()
    user_roles: dict[int, list[str]] = {}
    for number, row in users:
        for key, label, required in USER_COLUMNS:
            if required and not row[key]:
                errors.append(RowError(u_sheet, number, label, f"“{label}”不能为空。"))
        username = row["username"]
        if username:
            try:
                username_check(username)
                if len(username) > 150:
                    raise ValidationError("too long")
            except ValidationError:
                errors.append(
                    RowError(
                        u_sheet,
                        number,
                        "用户名",
                        "用户名只能包含字母、数字和 @ . + - _，且不超过 150 个字符。",
                    )
                )
            if username in usernames:
                errors.append(
                    RowError(
                        u_sheet,
                        number,
                        "用户名",
                        f"用户名“{username}”在文件中重复（第 {usernames[username]} 行）。",
                    )
                )
            else:
                usernames[username] = number
        no = row["employee_no"]
        if no:
            if no in employee_nos:
                errors.append(
                    RowError(u_sheet, number, "工号", f"工号“{no}”在文件中重复（第 {employee_nos[no]} 行）。")
                )
            else:
                employee_nos[no] = number
            if len(no) > 32:
                errors.append(RowError(u_sheet, number, "工号", "工号不能超过 32 个字符。"))
        if len(row["real_name"]) > 40:
            errors.append(RowError(u_sheet, number, "姓名", "姓名不能超过 40 个字。"))
        if row["department_code"] and row["department_code"] not in known:
            errors.append(
                RowError(
                    u_sheet,
                    number,
                    "部门代码",
                    f"未知部门“{row['department_code']}”（不在文件中，也不属于本机关）。",
                )
            )
        if row["position"] and row["position"] not in positions:
            errors.append(RowError(u_sheet, number, "职务", f"未知职务“{row['position']}”。"))
        if row["mobile"] and not MOBILE.match(row["mobile"]):
            errors.append(
                RowError(u_sheet, number, "手机", f"手机号“{row['mobile']}”格式不正确（应为 11 位数字）。")
            )
        if len(row["office_phone"]) > 40:
            errors.append(RowError(u_sheet, number, "办公电话", "办公电话不能超过 40 个字符。"))
        if row["email"]:
            try:
                validate_email(row["email"])
            except ValidationError:
                errors.append(RowError(u_sheet, number, "电子邮箱", f"电子邮箱“{row['email']}”格式不正确。"))
        roles: list[str] = []
        for text in filter(None, (t.strip() for t in re.split(r"[,，、;；\s]+", row["roles"]))):
            role = ROLE_BY_TEXT.get(text)
            if role is None:
                errors.append(RowError(u_sheet, number, "角色", f"未知角色“{text}”。"))
            elif role not in IMPORTABLE_ROLES:
                errors.append(
                    RowError(
                        u_sheet, number, "角色", f"角色“{text}”不能通过导入授予，请由安全管理员单独授权。"
                    )
                )
            elif role not in roles:
                roles.append(role)
        user_roles[number] = roles
        _sort_order(row["sort_order"], u_sheet, number, errors)
    for username in User.objects.filter(username__in=list(usernames)).values_list("username", flat=True):
        errors.append(RowError(u_sheet, usernames[username], "用户名", f"用户名“{username}”已存在。"))
    for no in User.objects.filter(employee_no__in=list(employee_nos)).values_list("employee_no", flat=True):
        errors.append(RowError(u_sheet, employee_nos[no], "工号", f"工号“{no}”已存在。"))
    return _Plan(departments, users, existing, positions, user_roles)


# --- Writing ------------------------------------------------------------------------------------


def _initial_password_hash(password: str, hasher: PBKDF2PasswordHasher) -> str:
    return hasher.encode(password, hasher.salt(), iterations=IMPORT_HASH_ITERATIONS)


def _write(plan: _Plan, agency: Agency, actor: Any) -> ImportResult:
    from officeapp.org.services import generate_initial_password

    result = ImportResult()
    by_code: dict[str, Department] = dict(plan.existing_departments)
    pending = list(plan.departments)
    # Parents before children: repeat passes until every department found its parent.
    while pending:
        waiting = []
        for number, row in pending:
            parent_code = row["parent_code"]
            if parent_code and parent_code not in by_code:
                waiting.append((number, row))
                continue
            parent = by_code.get(parent_code) if parent_code else None
            department = Department.objects.create(
                agency=agency,
                parent=parent,
                name=row["name"],
                code=row["code"],
                kind=KIND_BY_TEXT.get(row["kind"], Department.Kind.GENERAL),
                phone=row["phone"],
                sort_order=int(row["sort_order"] or 0),
            )
            department.path = f"{parent.path if parent else ''}{department.pk:07d}."
            department.save(update_fields=["path"])
            by_code[row["code"]] = department
            result.departments += 1
        if len(waiting) == len(pending):  # validation rules this out; never loop forever
            raise RuntimeError("department parents could not be resolved")
        pending = waiting

    hasher = PBKDF2PasswordHasher()
    new_users: list[User] = []
    for _number, row in plan.users:
        password = generate_initial_password()
        full, initials = pinyin_keys(row["real_name"])
        new_users.append(
            User(
                username=row["username"],
                real_name=row["real_name"],
                employee_no=row["employee_no"] or None,
                department=by_code[row["department_code"]],
                position=plan.positions.get(row["position"]),
                mobile=row["mobile"],
                office_phone=row["office_phone"],
                email=row["email"],
                sort_order=int(row["sort_order"] or 0),
                name_pinyin=full,
                name_initials=initials,
                must_change_password=True,
                password=_initial_password_hash(password, hasher),
            )
        )
        result.credentials.append(Credential(row["username"], row["real_name"], password))
    User.objects.bulk_create(new_users, batch_size=500)
    created = {
        u.username: u
        for u in User.objects.filter(username__in=[u.username for u in new_users]).select_related(
            "department"
        )
    }
    grants = []
    for number, row in plan.users:
        user = created[row["username"]]
        for role in plan.user_roles.get(number, []):
            if role == Role.DEPT_HEAD:
                grants.append(
                    RoleGrant(
                        user=user,
                        role=role,
                        department=user.department,
                        granted_by=actor if getattr(actor, "is_authenticated", False) else None,
                    )
                )
            else:
                grants.append(
                    RoleGrant(
                        user=user,
                        role=role,
                        agency=agency,
                        granted_by=actor if getattr(actor, "is_authenticated", False) else None,
                    )
                )
    RoleGrant.objects.bulk_create(grants, batch_size=1000)
    result.users = len(created)
    # Outbox rows for webhooks and search, written in bulk in the same transaction.
    OutboxEvent.objects.bulk_create(
        [
            OutboxEvent(
                topic="org.department.changed",
                object_type="org.department",
                object_id=str(d.pk),
                payload={"event": "created"},
            )
            for code, d in by_code.items()
            if code not in plan.existing_departments
        ]
        + [
            OutboxEvent(
                topic="org.user.changed",
                object_type="org.user",
                object_id=str(u.pk),
                payload={"event": "created"},
            )
            for u in created.values()
        ],
        batch_size=1000,
    )
    record(
        "org.import",
        actor=actor,
        obj=agency,
        details={"departments": result.departments, "users": result.users, "roles": len(grants)},
    )
    return result


def import_org(upload: BinaryIO, *, actor: Any, agency: Agency, size: int | None = None) -> ImportResult:
    """Validate every row, then import all of it in one transaction, or nothing with the errors."""
    if not org_access.can_manage_agency(actor, agency):
        raise PermissionDenied(org_access.FORBIDDEN_MESSAGE)
    check_file(upload, size=size)
    departments, users, errors = read_workbook(upload)
    if not departments and not users and not errors:
        return ImportResult(errors=[RowError(USER_SHEET, 2, "", "文件中没有可导入的数据行。")])
    plan = _validate(agency, departments, users, errors)
    if errors:
        errors.sort(key=lambda e: (e.sheet != DEPARTMENT_SHEET, e.row))
        record(
            "org.import",
            actor=actor,
            obj=agency,
            outcome="failed",
            details={"bad_rows": len({(e.sheet, e.row) for e in errors})},
        )
        return ImportResult(errors=errors)
    with transaction.atomic():
        return _write(plan, agency, actor)


# --- Export and template --------------------------------------------------------------------------


def _sheet(
    workbook: Workbook, title: str, columns: list[tuple[str, str, bool]], rows: Iterable[list[Any]]
) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append([f"{label}*" if required else label for _key, label, required in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, _column in enumerate(columns):
        sheet.column_dimensions[chr(ord("A") + index)].width = 16
    for row in rows:
        sheet.append(row)


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _new_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def export_org(agency: Agency, *, actor: Any) -> bytes:
    """The agency's departments and active users in the import layout (roles as Chinese labels)."""
    if not org_access.can_manage_agency(actor, agency):
        raise PermissionDenied(org_access.FORBIDDEN_MESSAGE)
    departments = list(Department.objects.filter(agency=agency).select_related("parent").order_by("path"))
    users = (
        User.objects.filter(department__agency=agency, is_active=True)
        .select_related("department", "position")
        .order_by("department__path", "sort_order", "pk")
    )
    grants: dict[int, list[str]] = {}
    for user_id, role in (
        RoleGrant.objects.filter(user__department__agency=agency, role__in=IMPORTABLE_ROLES)
        .order_by("pk")
        .values_list("user_id", "role")
    ):
        grants.setdefault(user_id, [])
        if ROLE_LABEL[role] not in grants[user_id]:
            grants[user_id].append(ROLE_LABEL[role])
    workbook = _new_workbook()
    _sheet(
        workbook,
        DEPARTMENT_SHEET,
        DEPARTMENT_COLUMNS,
        (
            [d.code, d.name, d.parent.code if d.parent else "", KIND_LABEL[d.kind], d.phone, d.sort_order]
            for d in departments
        ),
    )
    _sheet(
        workbook,
        USER_SHEET,
        USER_COLUMNS,
        (
            [
                u.username,
                u.real_name,
                u.employee_no or "",
                u.department.code,
                u.position.name if u.position else "",
                u.mobile,
                u.office_phone,
                u.email,
                ",".join(grants.get(u.pk, [])),
                u.sort_order,
            ]
            for u in users.iterator(chunk_size=2000)
        ),
    )
    record("org.export", actor=actor, obj=agency, details={"departments": len(departments)})
    return _save(workbook)


def template_workbook() -> bytes:
    """The empty import template, with a 说明 sheet explaining each column."""
    workbook = _new_workbook()
    _sheet(workbook, DEPARTMENT_SHEET, DEPARTMENT_COLUMNS, [])
    _sheet(workbook, USER_SHEET, USER_COLUMNS, [])
    notes = workbook.create_sheet("说明")
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 80
    for row in [
        ["列", "说明（带 * 的列必填；任何一行有误时整个文件都不会导入）"],
        ["部门代码", "全省唯一，例如 GD-BGT-ZH；用户表的“部门代码”可引用本文件或本机关已有的部门"],
        ["上级部门代码", "留空表示本机关的一级部门"],
        ["类型", "、".join(KIND_LABEL.values()) + "；留空为业务处室"],
        ["用户名", "登录名，全省唯一，只能包含字母、数字和 @ . + - _"],
        ["工号", "可留空；填写时全省唯一"],
        ["职务", "须为系统中已有的职务名称，例如 科员、处长"],
        ["手机", "11 位手机号码"],
        ["角色", "逗号分隔，可用：" + "、".join(ROLE_LABEL[r] for r in IMPORTABLE_ROLES)],
        ["排序", "非负整数，越小越靠前"],
        ["示例（部门）", "GD-BGT-ZH | 综合处 | | 业务处室 | 020-83133000 | 1"],
        [
            "示例（用户）",
            "linxm | 林小梅 | BGT001 | GD-BGT-ZH | 科员 | 13800000001 | | linxm@gd.gov.cn | 拟稿人 | 1",
        ],
        ["初始密码", "导入成功后系统为每人生成随机初始密码，仅显示一次并可下载；首次登录须修改"],
    ]:
        notes.append(row)
    return _save(workbook)


def credentials_workbook(credentials: list[Credential]) -> bytes:
    """初始密码表: handed to the new users; not stored anywhere by the server."""
    workbook = _new_workbook()
    sheet = workbook.create_sheet("初始密码")
    sheet.append(["用户名", "姓名", "初始密码（首次登录须修改）"])
    for c in credentials:
        sheet.append([c.username, c.real_name, c.password])
    return _save(workbook)
