from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("documents", "0004_incoming")]

    operations = [
        # Who sees a document as its recipient (access.visible_documents' clerk branch and
        # documents_for_app) reads the recipient's not-withdrawn records' document ids: an index-only
        # scan of this index instead of a heap page per record (tests/bench/test_api_read_bench.py).
        migrations.AddIndex(
            model_name="exchangerecord",
            index=models.Index(
                fields=["recipient", "document"],
                name="exchange_open_by_recipient",
                condition=~models.Q(state="withdrawn"),
            ),
        ),
    ]
