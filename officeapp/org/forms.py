"""Forms of the org pages: they parse and validate input; the services do the writing."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import Q, QuerySet

from officeapp.org.models import Agency, AgencyLevel, DelegationScope, Department, Position, User

MOBILE = re.compile(r"^1[3-9]\d{9}$")
# The 排序 columns' limit (a PostgreSQL integer): a larger number would be a server error on save.
MAX_SORT_ORDER = 2_147_483_647
SORT_ORDER_ERROR = f"排序必须是 0 到 {MAX_SORT_ORDER} 之间的整数。"


def sort_order_field() -> forms.IntegerField:
    return forms.IntegerField(
        label="排序",
        min_value=0,
        max_value=MAX_SORT_ORDER,
        initial=0,
        error_messages={
            "invalid": SORT_ORDER_ERROR,
            "min_value": SORT_ORDER_ERROR,
            "max_value": SORT_ORDER_ERROR,
        },
    )


def find_user(text: str, queryset: QuerySet[User] | None = None) -> User | None:
    """A user by 用户名 or 工号 (how administrators name a successor or delegate)."""
    text = (text or "").strip()
    if not text:
        return None
    qs = queryset if queryset is not None else User.objects.all()
    return (
        qs.filter(Q(username=text) | Q(employee_no=text), is_active=True).select_related("department").first()
    )


class AgencyForm(forms.Form):
    name = forms.CharField(label="机关名称", max_length=100)
    short_name = forms.CharField(label="简称", max_length=40, required=False)
    level = forms.ChoiceField(label="层级", choices=AgencyLevel.choices)
    number_prefix = forms.CharField(label="机关代字", max_length=20, required=False)
    sort_order = sort_order_field()


class PositionForm(forms.Form):
    name = forms.CharField(label="职务名称", max_length=40)
    rank = forms.IntegerField(label="职级序（越大越高）", min_value=0, max_value=1000, initial=10)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Position.objects.filter(name=name).exists():
            raise forms.ValidationError("已有同名职务。")
        return name


class NewAgencyForm(AgencyForm):
    """A subordinate agency (下级机关): a new city bureau, a county office …"""

    code = forms.CharField(label="机构代码", max_length=32, help_text="全省唯一，例如 GD-GZ-JYJ")

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if Agency.objects.filter(code=code).exists():
            raise forms.ValidationError("该机构代码已被使用，请换一个。")
        return code


class DepartmentForm(forms.Form):
    name = forms.CharField(label="部门名称", max_length=100)
    code = forms.CharField(label="部门代码", max_length=40, help_text="全省唯一，例如 GD-BGT-ZH")
    parent = forms.ModelChoiceField(
        label="上级部门", queryset=Department.objects.none(), required=False, empty_label="（本机关一级部门）"
    )
    kind = forms.ChoiceField(label="类型", choices=Department.Kind.choices, initial=Department.Kind.GENERAL)
    phone = forms.CharField(label="办公电话", max_length=40, required=False)
    sort_order = sort_order_field()

    def __init__(self, *args: Any, agency: Agency, instance: Department | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agency = agency
        self.instance = instance
        parents = Department.objects.filter(agency=agency, is_active=True).order_by("path")
        if instance is not None:
            parents = parents.exclude(path__startswith=instance.path)
        self.fields["parent"].queryset = parents

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        taken = Department.objects.filter(code=code)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("该部门代码已被使用。")
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        name, parent = data.get("name"), data.get("parent")
        if name:
            same = Department.objects.filter(agency=self.agency, parent=parent, name=name)
            if self.instance is not None:
                same = same.exclude(pk=self.instance.pk)
            if same.exists():
                self.add_error("name", "同一上级下已有同名部门。")
        return data


class UserForm(forms.Form):
    real_name = forms.CharField(label="姓名", max_length=40)
    employee_no = forms.CharField(label="工号", max_length=32, required=False)
    department = forms.ModelChoiceField(label="主部门", queryset=Department.objects.none())
    position = forms.ModelChoiceField(
        label="职务", queryset=Position.objects.all(), required=False, empty_label="（无）"
    )
    mobile = forms.CharField(label="手机", max_length=20, required=False)
    office_phone = forms.CharField(label="办公电话", max_length=40, required=False)
    email = forms.EmailField(
        label="电子邮箱", required=False, error_messages={"invalid": "电子邮箱格式不正确。"}
    )
    sort_order = sort_order_field()

    def __init__(self, *args: Any, agency: Agency, instance: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["department"].queryset = Department.objects.filter(
            agency=agency, is_active=True
        ).order_by("path")
        if instance is not None:
            # Moving to another department is a 调动 (with hand-over), not an edit.
            del self.fields["department"]

    def clean_mobile(self) -> str:
        mobile = self.cleaned_data["mobile"].strip()
        if mobile and not MOBILE.match(mobile):
            raise forms.ValidationError("手机号格式不正确（应为 11 位数字）。")
        return mobile

    def clean_employee_no(self) -> str | None:
        no = self.cleaned_data["employee_no"].strip() or None
        if no:
            taken = User.objects.filter(employee_no=no)
            if self.instance is not None:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                raise forms.ValidationError("该工号已被使用。")
        return no


class NewUserForm(UserForm):
    username = forms.RegexField(
        label="用户名",
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        error_messages={"invalid": "用户名只能包含字母、数字和 @ . + - _。"},
    )
    field_order = ["username", "real_name"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError("该用户名已存在。")
        return username


class SuccessorForm(forms.Form):
    successor = forms.CharField(
        label="接替人（用户名或工号）", max_length=150, required=False, help_text="留空则交给所在部门负责人"
    )

    def __init__(self, *args: Any, candidates: QuerySet[User], subject: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = candidates
        self.subject = subject

    def clean_successor(self) -> User | None:
        text = self.cleaned_data["successor"]
        if not text.strip():
            return None
        user = find_user(text, self.candidates)
        if user is None:
            raise forms.ValidationError("未找到该用户（须为您管理范围内的在职人员）。")
        if user.pk == self.subject.pk:
            raise forms.ValidationError("接替人不能是本人。")
        return user


class TransferForm(SuccessorForm):
    department = forms.ModelChoiceField(label="调入部门", queryset=Department.objects.none())
    position = forms.ModelChoiceField(
        label="新职务", queryset=Position.objects.all(), required=False, empty_label="（不变）"
    )
    field_order = ["department", "position", "successor"]

    def __init__(self, *args: Any, departments: QuerySet[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments


class DelegationForm(forms.Form):
    to_user = forms.CharField(label="受托人（用户名或工号）", max_length=150)
    scope = forms.ChoiceField(label="委托范围", choices=DelegationScope.choices, initial=DelegationScope.ALL)
    starts_at = forms.DateTimeField(
        label="开始时间",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    ends_at = forms.DateTimeField(
        label="结束时间",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    reason = forms.CharField(label="事由", max_length=200, required=False)

    def clean_to_user(self) -> User:
        user = find_user(self.cleaned_data["to_user"])
        if user is None:
            raise forms.ValidationError("未找到该用户，请输入在职人员的用户名或工号。")
        return user


class PortfolioForm(forms.Form):
    leader = forms.CharField(label="分管领导（用户名或工号）", max_length=150)
    department = forms.ModelChoiceField(
        label="分管部门", queryset=Department.objects.none(), required=False, empty_label="（分管整个机关）"
    )

    def __init__(self, *args: Any, agency: Agency, leaders: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.leaders = leaders
        self.fields["department"].queryset = Department.objects.filter(
            agency=agency, is_active=True
        ).order_by("path")

    def clean_leader(self) -> User:
        user = find_user(self.cleaned_data["leader"], self.leaders)
        if user is None:
            raise forms.ValidationError("未找到该用户（须为您管理范围内的在职人员）。")
        return user


class ImportForm(forms.Form):
    file = forms.FileField(label="Excel 文件（.xlsx）", error_messages={"required": "请选择要导入的文件。"})


class ConcurrentPostForm(forms.Form):
    department = forms.ModelChoiceField(label="兼职部门", queryset=Department.objects.none())
    position = forms.ModelChoiceField(
        label="兼任职务", queryset=Position.objects.all(), required=False, empty_label="（无）"
    )

    def __init__(self, *args: Any, departments: QuerySet[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
