"""What the REST API says about the 通讯录 (officeapp/org/api.py). A person is a DirectoryEntry
(officeapp.org.directory): a field the 安全管理员's policy hides from the caller is null."""

from __future__ import annotations

from rest_framework import serializers


class AgencySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="机关名称")
    short_name = serializers.CharField(help_text="简称")
    code = serializers.CharField(help_text="机构代码")
    level = serializers.CharField(help_text="层级")
    parent = serializers.IntegerField(source="parent_id", allow_null=True, help_text="上级机关编号")


class DepartmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="部门名称")
    code = serializers.CharField(help_text="部门代码")
    kind = serializers.CharField(help_text="类型")
    agency = serializers.IntegerField(source="agency_id", help_text="所属机关编号")
    parent = serializers.IntegerField(source="parent_id", allow_null=True, help_text="上级部门编号")
    phone = serializers.CharField(help_text="办公电话")


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="real_name", help_text="姓名")
    position = serializers.CharField(help_text="职务")
    department_id = serializers.IntegerField(allow_null=True)
    department = serializers.CharField(help_text="部门")
    agency_id = serializers.IntegerField(allow_null=True)
    agency = serializers.CharField(help_text="机关（简称）")
    mobile = serializers.CharField(allow_null=True, help_text="手机（通讯录策略不允许时为 null）")
    office_phone = serializers.CharField(allow_null=True, help_text="办公电话（同上）")
    email = serializers.CharField(allow_null=True, help_text="电子邮箱（同上）")
    employee_no = serializers.CharField(allow_null=True, help_text="工号（同上）")
