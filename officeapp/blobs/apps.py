from django.apps import AppConfig

# Hourly: the grace period (BLOB_RETENTION_GRACE_HOURS, default 24 h) dwarfs the delay this adds.
RETENTION_SECONDS = 3600


class BlobsConfig(AppConfig):
    name = "officeapp.blobs"
    label = "blobs"
    verbose_name = "文件存储"

    def ready(self) -> None:
        from officeapp.blobs.backends import ping_blob_store
        from officeapp.registries import health_checks, worker_schedules
        from officeapp.worker.schedules import Schedule

        health_checks.register("blob_store", ping_blob_store)
        worker_schedules.register(
            "blobs.remove_unreferenced",
            Schedule(
                name="blobs.remove_unreferenced",
                func="officeapp.blobs.services.remove_unreferenced",
                seconds=RETENTION_SECONDS,
            ),
        )
