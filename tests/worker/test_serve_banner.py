"""`make run` prints the demo accounts, so a first-time user can sign in without opening the README."""

from officeapp.demo import DEMO_PASSWORD, demo_accounts
from officeapp.management.commands.serve import demo_account_lines


def test_serve_lists_every_demo_account_with_its_password_and_role() -> None:
    lines = demo_account_lines()
    assert len(lines) == len(demo_accounts())
    assert lines[0] == f"lin.xiaomei  {DEMO_PASSWORD}  拟稿人：省政府办公厅 综合一处 科员"
    assert all(DEMO_PASSWORD in line for line in lines)
