from django.apps import AppConfig

RETENTION_FUNC = "officeapp.blobs.services.remove_unreferenced"
RETENTION_SECONDS = 3600


class BlobsConfig(AppConfig):
    name = "officeapp.blobs"
    label = "blobs"
    verbose_name = "文件存储"

    def ready(self) -> None:
        from officeapp.blobs.backends import ping_blob_store
        from officeapp.registries import health_checks, worker_schedules

        health_checks.register("blob_store", ping_blob_store)
        worker_schedules.register("blobs.remove_unreferenced", _retention_schedule())


def _retention_schedule() -> object:
    # The worker app defines Schedule; until it exists the registry holds the agreed plain dict.
    try:
        from officeapp.worker.schedules import Schedule  # type: ignore[import-not-found]
    except ImportError:
        return {"func": RETENTION_FUNC, "seconds": RETENTION_SECONDS}
    return Schedule(name="blobs.remove_unreferenced", func=RETENTION_FUNC, seconds=RETENTION_SECONDS)
