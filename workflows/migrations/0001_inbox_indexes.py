"""Partial indexes on viewflow's task table for the unified inbox (workflows/inbox.py).

viewflow indexes owner, status and created separately; the inbox asks "this user's open tasks, newest
first" and "this user's done tasks, latest finished first". These two partial indexes answer the
first page of each with an index range scan however many tasks the table (or the user) holds.
RunSQL because the table belongs to viewflow's app; the syntax is the same on SQLite and PostgreSQL.
"""

from django.db import migrations

OPEN = "viewflow_task_inbox_open_idx"
DONE = "viewflow_task_inbox_done_idx"


class Migration(migrations.Migration):
    dependencies = [("viewflow", "0015_task_scheduled")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {OPEN} ON viewflow_task (owner_id, created, id) "
            "WHERE status NOT IN ('DONE', 'CANCELED')",
            f"DROP INDEX IF EXISTS {OPEN}",
        ),
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {DONE} ON viewflow_task (owner_id, finished, id) WHERE status = 'DONE'",
            f"DROP INDEX IF EXISTS {DONE}",
        ),
    ]
