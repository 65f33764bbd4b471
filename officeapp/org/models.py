"""Organisation: agencies, departments, users, positions, role grants, portfolios, delegations.

Trees (Agency, Department) carry a materialised `path` ("000001.000007.") so that "everything
under this agency" is one indexed prefix query at 20,000 agencies; services keep it in step.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone


class AgencyLevel(models.TextChoices):
    PROVINCE = "province", "省级"
    CITY = "city", "市级"
    COUNTY = "county", "县级"
    TOWNSHIP = "township", "乡镇级"


class Agency(models.Model):
    """机关 / 单位: an issuing authority."""

    name = models.CharField("机关名称", max_length=100)
    short_name = models.CharField("简称", max_length=40, blank=True)
    level = models.CharField("层级", max_length=10, choices=AgencyLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级机关",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.CharField("机构代码", max_length=32, unique=True)
    number_prefix = models.CharField("机关代字", max_length=20, blank=True)
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "机关"
        verbose_name_plural = "机关"
        ordering = ["path"]
        indexes = [models.Index(fields=["parent", "sort_order"])]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """处室 / 部门: a unit inside an agency."""

    class Kind(models.TextChoices):
        GENERAL = "general", "业务处室"
        OFFICE = "office", "办公室"
        SECRETARIAT = "secretariat", "文电处/秘书处"
        SUPERVISION = "supervision", "督查室"
        LEADERSHIP = "leadership", "领导班子"

    agency = models.ForeignKey(
        Agency, verbose_name="所属机关", on_delete=models.PROTECT, related_name="departments"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="上级部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    name = models.CharField("部门名称", max_length=100)
    kind = models.CharField("类型", max_length=12, choices=Kind.choices, default=Kind.GENERAL)
    code = models.CharField("部门代码", max_length=40, unique=True)
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    phone = models.CharField("办公电话", max_length=40, blank=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "部门"
        verbose_name_plural = "部门"
        ordering = ["agency_id", "path"]
        indexes = [
            models.Index(fields=["agency", "sort_order"]),
            # 通讯录: "people of 办公室" is a prefix search on the department name across 20,000 agencies.
            models.Index(fields=["name"], name="department_name_like_idx", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "parent", "name"], name="department_name_unique_in_parent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency.short_name or self.agency.name}·{self.name}"


class Position(models.Model):
    """职务: 科员 … 厅长. `rank` orders them (higher is more senior)."""

    name = models.CharField("职务名称", max_length=40, unique=True)
    rank = models.PositiveSmallIntegerField("职级序", default=0)

    class Meta:
        verbose_name = "职务"
        verbose_name_plural = "职务"
        ordering = ["-rank", "name"]

    def __str__(self) -> str:
        return self.name


class OfficeUserManager(UserManager):
    pass


class User(AbstractUser):
    """用户 / 公职人员. Belongs to one primary department; may hold concurrent posts."""

    real_name = models.CharField("姓名", max_length=40)
    employee_no = models.CharField("工号", max_length=32, unique=True, null=True, blank=True)
    mobile = models.CharField("手机", max_length=20, blank=True, db_index=True)
    office_phone = models.CharField("办公电话", max_length=40, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name="主部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    position = models.ForeignKey(
        Position, verbose_name="职务", null=True, blank=True, on_delete=models.SET_NULL
    )
    sort_order = models.PositiveIntegerField("排序", default=0)
    # Kept for the address book's prefix search by 拼音 and 首字母 (set by org services).
    name_pinyin = models.CharField(max_length=120, blank=True, db_index=True, editable=False)
    name_initials = models.CharField(max_length=40, blank=True, db_index=True, editable=False)
    # Imported and reset accounts must choose their own password at first sign-in.
    must_change_password = models.BooleanField("首次登录须改密码", default=False)
    # Bumped by "sign out everywhere": sessions stamped with an older epoch are ended.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)
    disabled_at = models.DateTimeField("停用时间", null=True, blank=True)

    objects = OfficeUserManager()
    REQUIRED_FIELDS = ["real_name"]

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        indexes = [
            models.Index(fields=["real_name"], name="user_real_name_idx"),
            models.Index(fields=["department", "sort_order"], name="user_department_order_idx"),
            # The address book searches by prefix (LIKE 'x%'). On PostgreSQL a plain btree serves that only
            # under the C collation, so these carry varchar_pattern_ops (ignored by SQLite). name_pinyin,
            # name_initials and mobile get theirs from db_index (Django adds a *_like index on PostgreSQL).
            models.Index(
                fields=["real_name"], name="user_real_name_like_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["office_phone"], name="user_office_phone_like_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.real_name or self.username

    @property
    def agency(self) -> Agency | None:
        return self.department.agency if self.department_id else None

    @property
    def agency_id(self) -> int | None:
        return self.department.agency_id if self.department_id else None


class ConcurrentPost(models.Model):
    """兼职: an additional department and position a user holds."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="concurrent_posts")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="concurrent_members")
    position = models.ForeignKey(Position, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = "兼职"
        verbose_name_plural = "兼职"
        constraints = [models.UniqueConstraint(fields=["user", "department"], name="concurrent_post_unique")]

    def __str__(self) -> str:
        return f"{self.user}·兼{self.department}"


class Role(models.TextChoices):
    """角色, with the identifiers of GLOSSARY.md."""

    DRAFTER = "drafter", "拟稿人"
    REVIEWER = "reviewer", "核稿人"
    DEPT_HEAD = "dept_head", "处室负责人"
    OFFICE_SECRETARY = "office_secretary", "文秘"
    OFFICE_DIRECTOR = "office_director", "办公室主任"
    LEADER = "leader", "机关领导"
    CLERK = "clerk", "收发员"
    HANDLER = "handler", "承办人"
    SUPERVISOR = "supervisor", "督查员"
    SEAL_KEEPER = "seal_keeper", "印章管理员"
    ARCHIVIST = "archivist", "档案员"
    MEETING_ADMIN = "meeting_admin", "会议管理员"
    AGENCY_ADMIN = "agency_admin", "单位管理员"
    SYSTEM_ADMIN = "system_admin", "系统管理员"
    SECURITY_ADMIN = "security_admin", "安全管理员"
    AUDIT_ADMIN = "audit_admin", "审计管理员"


# 三员分立: no user holds two of these (a partial unique index enforces at most one per user).
ADMIN_ROLES: tuple[str, ...] = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)


class RoleGrant(models.Model):
    """A role held by a user, scoped to an agency or a department (or province-wide when both are empty)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.CASCADE, related_name="role_grants"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="role_grants"
    )
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"
        indexes = [
            models.Index(fields=["role", "department"], name="rolegrant_role_dept_idx"),
            models.Index(fields=["role", "agency"], name="rolegrant_role_agency_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(role__in=ADMIN_ROLES), name="one_admin_role_per_user"
            ),
            models.UniqueConstraint(
                fields=["user", "role", "agency", "department"], name="rolegrant_unique", nulls_distinct=False
            ),
        ]

    def __str__(self) -> str:
        scope = self.department or self.agency or "全省"
        return f"{self.user}·{self.get_role_display()}@{scope}"


class Portfolio(models.Model):
    """分管: a leader oversees departments (or whole agencies)."""

    leader = models.ForeignKey(User, on_delete=models.CASCADE, related_name="portfolios")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="overseen_by"
    )
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.CASCADE, related_name="overseen_by"
    )

    class Meta:
        verbose_name = "分管"
        verbose_name_plural = "分管"
        constraints = [
            models.CheckConstraint(
                condition=Q(department__isnull=False) | Q(agency__isnull=False), name="portfolio_has_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.leader}分管{self.department or self.agency}"


class DelegationScope(models.TextChoices):
    ALL = "all", "全部事项"
    OUTGOING = "outgoing", "发文"
    INCOMING = "incoming", "收文"
    SUPERVISION = "supervision", "督办"
    MEETINGS = "meetings", "会议"


class Delegation(models.Model):
    """委托 / 代理: from_user's tasks are handled by to_user for a period."""

    from_user = models.ForeignKey(
        User, verbose_name="委托人", on_delete=models.CASCADE, related_name="delegations_out"
    )
    to_user = models.ForeignKey(
        User, verbose_name="受托人", on_delete=models.CASCADE, related_name="delegations_in"
    )
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    scope = models.CharField(
        "委托范围", max_length=12, choices=DelegationScope.choices, default=DelegationScope.ALL
    )
    reason = models.CharField("事由", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "委托"
        verbose_name_plural = "委托"
        indexes = [models.Index(fields=["from_user", "starts_at", "ends_at"], name="delegation_active_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="delegation_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(from_user=models.F("to_user")), name="delegation_not_to_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_user}委托{self.to_user}"


class DirectoryVisibility(models.TextChoices):
    EVERYONE = "everyone", "全省可见"
    SAME_AGENCY = "same_agency", "本机关可见"
    SAME_DEPARTMENT = "same_department", "本部门可见"
    NOBODY = "nobody", "不公开"


class DirectoryFieldPolicy(models.Model):
    """Who sees which address-book field (e.g. mobile numbers); set by the 安全管理员."""

    field = models.CharField(
        "字段",
        max_length=20,
        unique=True,
        choices=[
            ("mobile", "手机"),
            ("office_phone", "办公电话"),
            ("email", "电子邮箱"),
            ("employee_no", "工号"),
        ],
    )
    visibility = models.CharField(
        "可见范围",
        max_length=16,
        choices=DirectoryVisibility.choices,
        default=DirectoryVisibility.SAME_AGENCY,
    )

    class Meta:
        verbose_name = "通讯录字段策略"
        verbose_name_plural = "通讯录字段策略"

    def __str__(self) -> str:
        return f"{self.get_field_display()}：{self.get_visibility_display()}"
