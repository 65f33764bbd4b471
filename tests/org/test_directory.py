import pytest

from officeapp.org import directory, services
from officeapp.org.models import DirectoryFieldPolicy, DirectoryVisibility


def names(entries):
    return [e.real_name for e in entries]


def test_search_by_chinese_name_prefix_finds_the_person(cast):
    assert names(directory.search_people(cast.outsider, "林小")) == ["林小梅"]


def test_search_by_full_pinyin_and_by_initials(cast):
    assert names(directory.search_people(cast.outsider, "linxiaomei")) == ["林小梅"]
    assert names(directory.search_people(cast.outsider, "LXM")) == ["林小梅"]
    assert "林小梅" in names(directory.search_people(cast.outsider, "lin"))


def test_search_by_department_name_lists_its_members(cast):
    found = names(directory.search_people(cast.drafter, "综合处"))
    assert set(found) == {"林小梅", "陈志强"}


def test_search_by_mobile_within_the_viewers_own_agency(cast):
    assert names(directory.search_people(cast.clerk, "13800000001")) == ["林小梅"]


def test_search_by_office_phone_prefix(cast):
    services.update_user(
        cast.outsider,
        actor=None,
        real_name="赵文静",
        employee_no="JYT001",
        mobile="13700000001",
        office_phone="020-37628888",
    )
    assert names(directory.search_people(cast.outsider, "020-3762")) == ["赵文静"]
    assert directory.search_people(cast.drafter, "020-3762") == []  # another agency: hidden by default
    DirectoryFieldPolicy.objects.create(field="office_phone", visibility=DirectoryVisibility.EVERYONE)
    assert names(directory.search_people(cast.drafter, "020-3762")) == ["赵文静"]


def test_exact_name_comes_first_then_the_viewers_agency(cast):
    twin = services.create_user(
        actor=None, username="other_lin", real_name="林小梅", department=cast.higher_ed
    )
    longer = services.create_user(
        actor=None, username="lin2", real_name="林小梅子", department=cast.general_dept
    )
    found = directory.search_people(cast.drafter, "林小梅")
    assert [e.id for e in found] == [cast.drafter.pk, twin.pk, longer.pk]
    from_education = directory.search_people(cast.outsider, "林小梅")
    assert [e.id for e in from_education] == [twin.pk, cast.drafter.pk, longer.pk]


def test_outsider_does_not_see_the_mobile_of_another_agency_by_default(cast):
    [entry] = directory.search_people(cast.outsider, "林小梅")
    assert entry.mobile is None and entry.office_phone is None and entry.email is None
    [colleague_view] = directory.search_people(cast.clerk, "林小梅")
    assert colleague_view.mobile == "13800000001"


def test_outsider_cannot_find_a_hidden_mobile_by_typing_it(cast):
    assert directory.search_people(cast.outsider, "13800000001") == []


def test_one_sees_ones_own_mobile(cast):
    [me] = directory.search_people(cast.outsider, "赵文静")
    assert me.mobile == "13700000001" and me.is_self


def test_security_admin_policy_can_open_mobiles_to_everyone(cast):
    DirectoryFieldPolicy.objects.create(field="mobile", visibility=DirectoryVisibility.EVERYONE)
    [entry] = directory.search_people(cast.outsider, "林小梅")
    assert entry.mobile == "13800000001"
    assert names(directory.search_people(cast.outsider, "13800000001")) == ["林小梅"]


def test_same_department_policy_hides_mobiles_from_the_rest_of_the_agency(cast):
    DirectoryFieldPolicy.objects.create(field="mobile", visibility=DirectoryVisibility.SAME_DEPARTMENT)
    assert directory.search_people(cast.clerk, "林小梅")[0].mobile is None
    assert directory.search_people(cast.dept_head, "林小梅")[0].mobile == "13800000001"


def test_disabled_users_are_not_listed(cast):
    services.disable_user(cast.outsider, actor=cast.system_admin)
    assert directory.search_people(cast.drafter, "赵文静") == []


@pytest.mark.parametrize("query", ["", "   ", "%", "_", "\\"])
def test_empty_or_wildcard_queries_find_nobody(cast, query):
    assert directory.search_people(cast.drafter, query) == []


def test_limit_and_offset_page_through_results(cast):
    for i in range(5):
        services.create_user(
            actor=None, username=f"zhang{i}", real_name=f"张{i}号", department=cast.general_dept, sort_order=i
        )
    first = directory.search_people(cast.drafter, "张", limit=3)
    second = directory.search_people(cast.drafter, "张", limit=3, offset=3)
    assert len(first) == 3 and len(second) == 2
    assert not {e.id for e in first} & {e.id for e in second}


def test_search_can_be_narrowed_to_an_agency(cast):
    assert names(directory.search_people(cast.drafter, "办公室", agency=cast.finance)) == ["李国华"]
