from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("workbench", "0001_initial"),
        # Its rows were copied into integration.App first.
        ("integration", "0002_fold_applinks"),
    ]

    operations = [migrations.DeleteModel(name="AppLink")]
