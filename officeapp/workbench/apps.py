from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "officeapp.workbench"
    label = "workbench"
    verbose_name = "工作台"

    def ready(self) -> None:
        from officeapp.workbench.tiles import register_foundation_tiles

        register_foundation_tiles()
