from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "officeapp.worker"
    label = "worker"
    verbose_name = "后台任务"

    def ready(self) -> None:
        from officeapp.registries import health_checks, worker_schedules
        from officeapp.worker.schedules import Schedule
        from officeapp.worker.tasks import worker_health

        health_checks.register("worker", worker_health)
        for schedule in (
            Schedule("worker.heartbeat", "officeapp.worker.tasks.send_heartbeat", seconds=5),
            # viewflow's timers (timeouts, scheduled starts, conditions); minute resolution suffices.
            Schedule("workflow.timers", "officeapp.worker.tasks.run_workflow_timers", seconds=60),
            Schedule("worker.prune_task_runs", "officeapp.worker.tasks.prune_task_runs", seconds=86400),
        ):
            worker_schedules.register(schedule.name, schedule)
