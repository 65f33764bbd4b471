from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "officeapp.outbox"
    label = "outbox"
    verbose_name = "事务发件箱"

    def ready(self) -> None:
        from officeapp.outbox.drain import outbox_health
        from officeapp.registries import health_checks, worker_schedules
        from officeapp.worker.schedules import Schedule

        health_checks.register("outbox", outbox_health)
        # Sub-minute: run by the ticker process, not by django-q's minute scheduler.
        worker_schedules.register(
            "outbox.drain", Schedule("outbox.drain", "officeapp.outbox.tasks.drain_all_consumers", seconds=1)
        )
        worker_schedules.register(
            "outbox.retention",
            Schedule("outbox.retention", "officeapp.outbox.tasks.purge_delivered_events", seconds=3600),
        )
