# Seeds the holidays and 调休 working days the chinese-calendar package knows (the announced years),
# so every database — the embedded default, CI's PostgreSQL, production — starts with them.

from django.db import migrations


def seed(apps, schema_editor):
    from officeapp.calendar.seeding import seed_years

    seed_years(apps.get_model("calendar", "CalendarDay"), apps.get_model("calendar", "CalendarYear"))


def unseed(apps, schema_editor):
    apps.get_model("calendar", "CalendarYear").objects.filter(source="package").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("calendar", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
    ]
