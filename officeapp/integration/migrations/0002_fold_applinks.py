"""Fold the launcher's AppLinks into registered apps: one registry for the 工作台 launcher.

An AppLink had no owner and, without agencies, showed to everyone; as an App it is owned by the
province's top agency and made visible to the top agencies (everyone under them sees it). It gets no
OAuth2 clients: a plain link, until its agency registers it properly. workbench 0002 then drops AppLink.
"""

from django.db import migrations


def fold(apps, schema_editor):
    AppLink = apps.get_model("workbench", "AppLink")
    App = apps.get_model("integration", "App")
    Agency = apps.get_model("org", "Agency")
    links = list(AppLink.objects.order_by("sort_order", "id"))
    if not links:
        return
    tops = list(Agency.objects.filter(parent__isnull=True).order_by("path", "id"))
    if not tops:
        return  # links without any agency to own them: nobody could have seen them either
    for link in links:
        chosen = list(link.agencies.all())
        app = App.objects.create(
            name=link.name[:60],
            icon=link.icon,
            url=link.url,
            owner_agency=chosen[0] if chosen else tops[0],
            status="active" if link.is_active else "suspended",
            visible_roles=list(link.roles or []),
            sort_order=link.sort_order,
        )
        app.visible_agencies.set(chosen or tops)


class Migration(migrations.Migration):
    dependencies = [
        ("integration", "0001_core"),
        ("workbench", "0001_initial"),
        ("org", "0002_directory_prefix_indexes"),
    ]

    operations = [migrations.RunPython(fold, migrations.RunPython.noop)]
