from officeapp import access
from officeapp.org.models import Role


def test_three_administrators_hold_one_role_each(cast):
    assert access.admin_role_of(cast.system_admin) == Role.SYSTEM_ADMIN
    assert access.admin_role_of(cast.security_admin) == Role.SECURITY_ADMIN
    assert access.admin_role_of(cast.audit_admin) == Role.AUDIT_ADMIN
    assert access.admin_role_of(cast.drafter) is None


def test_leader_oversees_the_drafting_department(cast):
    assert access.oversees(cast.leader, cast.general_dept)
    assert list(access.leaders_over(cast.general_dept)) == [cast.leader]
    assert not access.oversees(cast.leader, cast.finance_office)


def test_address_book_keys_are_pinyin_and_initials(cast):
    assert cast.drafter.name_pinyin == "linxiaomei"
    assert cast.drafter.name_initials == "lxm"
