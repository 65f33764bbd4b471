from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "officeapp.worker"
    label = "worker"
    verbose_name = "后台任务"
