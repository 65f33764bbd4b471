import dataclasses

from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "办文流程"

    def ready(self) -> None:
        from documents.archiving import archive_parts
        from documents.models import ExchangeRecord
        from documents.panels import document_panels
        from documents.signals import exchange_received
        from officeapp.access import admin_role_of, roles_of
        from officeapp.blobs.referrers import register_referrer
        from officeapp.integration.events import register_event
        from officeapp.org.models import Role
        from officeapp.registries import (
            api_routers,
            demo_builders,
            inbox_sources,
            nav_entries,
            workbench_tiles,
            worker_schedules,
        )
        from officeapp.workbench.navigation import NavEntry
        from workflows.circulation_demo import build_circulation_demo
        from workflows.demo import build_outgoing_demo
        from workflows.demo_external import build_external_todos_demo
        from workflows.inbox import source
        from workflows.inbox_external import source as external_source
        from workflows.incoming import on_exchange_received
        from workflows.incoming_demo import build_incoming_demo
        from workflows.incoming_panels import incoming_panel
        from workflows.incoming_sheet import archive_part as incoming_archive_part
        from workflows.panels import flow_panel
        from workflows.sheet import archive_part
        from workflows.signatures import SignatureReferrer
        from workflows.supervision_demo import build_supervision_demo
        from workflows.supervision_sources import register_default_sources
        from workflows.supervision_tasks import SUPERVISION_SCHEDULE
        from workflows.tasks import REMINDER_SCHEDULE
        from workflows.urging import build_urging_demo
        from workflows.views.circulation import circulation_panel
        from workflows.views.supervision import SupervisionFilesReferrer
        from workflows.webhook_events import KEY as SUPERVISION_EVENT
        from workflows.webhook_events import SOURCE as supervision_event_source

        # The unified inbox's own source: viewflow tasks (待办 / 已办), read by the workbench's tiles.
        inbox_sources.register(source.key, source)
        # The foundation's 待办 and 已办 tiles lead to the unified inbox page, which lives here.
        for key, url in (
            ("todo", "workflows:inbox"),
            ("done", "/workflows/inbox/?tab=done"),
            ("to_read", "/workflows/inbox/?tab=unread"),
        ):
            tile = workbench_tiles[key]
            workbench_tiles.unregister(key)
            workbench_tiles.register(key, dataclasses.replace(tile, url=url))
        # The document page shows where the document is in the 发文 flow and its opinions.
        document_panels.register("flow", flow_panel)
        # A 收文's facts, files and place in its flow; who read it in 传阅.
        document_panels.register("incoming", incoming_panel)
        document_panels.register("circulation", circulation_panel)
        # 签收 (documents.exchange.receive) creates the 收文 and starts its process in the same transaction.
        exchange_received.connect(
            on_exchange_received,
            sender=ExchangeRecord,
            dispatch_uid="workflows.incoming.on_exchange_received",
        )
        # 催办: the reminder scan every 10 minutes (idempotent: each reminder is sent once).
        worker_schedules.register(REMINDER_SCHEDULE.name, REMINDER_SCHEDULE)
        # 督办: lights, then 进展反馈 reminders, every hour (idempotent: each reminder once).
        worker_schedules.register(SUPERVISION_SCHEDULE.name, SUPERVISION_SCHEDULE)

        # 待办 and 拟稿 for everyone who works on documents (not the 三员); 效能统计 for the office.
        def works_on_documents(user: object) -> bool:
            return admin_role_of(user) is None  # type: ignore[arg-type]

        def runs_the_office(user: object) -> bool:
            return bool(roles_of(user) & {Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY})  # type: ignore[arg-type]

        nav_entries.register("workflows.inbox", NavEntry("待办", "workflows:inbox", 5, works_on_documents))
        nav_entries.register(
            "workflows.new", NavEntry("拟稿", "workflows:new_outgoing", 20, works_on_documents)
        )

        def runs_incoming(user: object) -> bool:
            return bool(roles_of(user) & {Role.CLERK, Role.OFFICE_SECRETARY, Role.OFFICE_DIRECTOR})  # type: ignore[arg-type]

        def urges(user: object) -> bool:
            return bool(  # type: ignore[arg-type]
                roles_of(user) & {Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY, Role.CLERK, Role.SUPERVISOR}  # type: ignore[arg-type]
            )

        nav_entries.register(
            "workflows.incoming", NavEntry("收文", "workflows:incoming_list", 25, runs_incoming)
        )
        nav_entries.register("workflows.urging", NavEntry("催办", "workflows:urging", 45, urges))
        nav_entries.register(
            "workflows.supervision", NavEntry("督办", "workflows:supervision_list", 40, works_on_documents)
        )

        def sees_supervision_dashboard(user: object) -> bool:
            roles = {
                Role.SUPERVISOR,
                Role.OFFICE_DIRECTOR,
                Role.OFFICE_SECRETARY,
                Role.DEPT_HEAD,
                Role.LEADER,
            }
            return bool(roles_of(user) & roles)  # type: ignore[arg-type]

        nav_entries.register(
            "workflows.supervision_dashboard",
            NavEntry("督办看板", "workflows:supervision_dashboard", 42, sees_supervision_dashboard),
        )
        nav_entries.register(
            "workflows.efficiency", NavEntry("效能统计", "workflows:efficiency", 50, runs_the_office)
        )
        # load_demo: 公文 of 省政府办公厅 in every state of the flow.
        demo_builders.register("20-outgoing", build_outgoing_demo)
        # Then 省财政厅's 收文 in every state (after 交换 "25-exchange"), 传阅, and the reminders.
        demo_builders.register("30-incoming", build_incoming_demo)
        demo_builders.register("35-circulation", build_circulation_demo)
        demo_builders.register("40-urging", build_urging_demo)
        # 省府办公厅's 督查室 supervising items in every state, with reports, 延期 and all three lights.
        demo_builders.register("50-supervision", build_supervision_demo)
        # 督办: 收文/发文 are a source kind of a 督办事项 (meetings register theirs from their own ready()).
        register_default_sources()
        # The 发文处理单 goes into every archive package.
        archive_parts.register("processing_sheet", archive_part)
        archive_parts.register("incoming_sheet", incoming_archive_part)
        # Handwritten signatures under opinions are readable by whoever may see the document.
        register_referrer(SignatureReferrer())
        # 督办 report attachments and signatures under 督办 opinions, for whoever may see the item.
        register_referrer(SupervisionFilesReferrer())
        # Issue 10: agency systems push their own to-dos (/api/v1/todos/) into the unified inbox; the
        # 督办 REST API (/api/v1/supervision/); the webhook event supervision.item.changed.
        inbox_sources.register(external_source.key, external_source)
        api_routers.register("todos", "workflows.api_todos")
        api_routers.register("supervision", "workflows.api")
        demo_builders.register("65-external-todos", build_external_todos_demo)
        register_event(SUPERVISION_EVENT, supervision_event_source)
