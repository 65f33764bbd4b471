from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "办文流程"

    def ready(self) -> None:
        # The unified inbox's own source: viewflow tasks (待办 / 已办), read by the workbench's tiles.
        from officeapp.registries import inbox_sources
        from workflows.inbox import source

        inbox_sources.register(source.key, source)
