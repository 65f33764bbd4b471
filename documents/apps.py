from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "公文"

    def ready(self) -> None:
        from officeapp.access import admin_role_of
        from officeapp.registries import nav_entries
        from officeapp.workbench.navigation import NavEntry

        # 我的公文 in the top navigation for everyone who works on documents (not the 三员).
        nav_entries.register(
            "documents.mine",
            NavEntry("我的公文", "documents:mine", 10, lambda user: admin_role_of(user) is None),
        )
