import dataclasses

from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "办文流程"

    def ready(self) -> None:
        from documents.archiving import archive_parts
        from documents.panels import document_panels
        from officeapp.access import admin_role_of, roles_of
        from officeapp.blobs.referrers import register_referrer
        from officeapp.org.models import Role
        from officeapp.registries import demo_builders, inbox_sources, nav_entries, workbench_tiles
        from officeapp.workbench.navigation import NavEntry
        from workflows.demo import build_outgoing_demo
        from workflows.inbox import source
        from workflows.panels import flow_panel
        from workflows.sheet import archive_part
        from workflows.signatures import SignatureReferrer

        # The unified inbox's own source: viewflow tasks (待办 / 已办), read by the workbench's tiles.
        inbox_sources.register(source.key, source)
        # The foundation's 待办 and 已办 tiles lead to the unified inbox page, which lives here.
        for key, url in (("todo", "workflows:inbox"), ("done", "/workflows/inbox/?tab=done")):
            tile = workbench_tiles[key]
            workbench_tiles.unregister(key)
            workbench_tiles.register(key, dataclasses.replace(tile, url=url))
        # The document page shows where the document is in the 发文 flow and its opinions.
        document_panels.register("flow", flow_panel)

        # 待办 and 拟稿 for everyone who works on documents (not the 三员); 效能统计 for the office.
        def works_on_documents(user: object) -> bool:
            return admin_role_of(user) is None  # type: ignore[arg-type]

        def runs_the_office(user: object) -> bool:
            return bool(roles_of(user) & {Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY})  # type: ignore[arg-type]

        nav_entries.register("workflows.inbox", NavEntry("待办", "workflows:inbox", 5, works_on_documents))
        nav_entries.register(
            "workflows.new", NavEntry("拟稿", "workflows:new_outgoing", 20, works_on_documents)
        )
        nav_entries.register(
            "workflows.efficiency", NavEntry("效能统计", "workflows:efficiency", 50, runs_the_office)
        )
        # load_demo: 公文 of 省政府办公厅 in every state of the flow.
        demo_builders.register("20-outgoing", build_outgoing_demo)
        # The 发文处理单 goes into every archive package.
        archive_parts.register("processing_sheet", archive_part)
        # Handwritten signatures under opinions are readable by whoever may see the document.
        register_referrer(SignatureReferrer())
