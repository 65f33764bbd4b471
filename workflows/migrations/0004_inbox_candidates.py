"""A partial index over unclaimed group tasks (或签 / 抢办) for the inbox's claimable list.

A candidate's 待办 holds the group tasks nobody has claimed (workflows/inbox.py `claimable_tasks`).
Unclaimed tasks are few at any time (claimed within hours), while a department head's candidate
rows grow with every task they were ever offered (the rows stay after a claim, for the record). So
the query starts from this small index, newest first, and checks each task against the candidates'
unique (task, user) index: its cost follows the open group tasks, not anyone's history.
Numbered 0004 as agreed with the lead (0003 is kept free for the flow's own changes).
"""

from django.db import migrations

UNCLAIMED = "viewflow_task_inbox_unclaimed_idx"


class Migration(migrations.Migration):
    dependencies = [("workflows", "0002_outgoing_process")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {UNCLAIMED} ON viewflow_task (created, id) "
            "WHERE owner_id IS NULL AND status = 'NEW'",
            f"DROP INDEX IF EXISTS {UNCLAIMED}",
        ),
    ]
