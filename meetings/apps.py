from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = "办会"

    def ready(self) -> None:
        # Each module registers its own part into the registries below it (meetings → workflows →
        # documents → officeapp; never upwards).
        from meetings import booking, live, materials, minutes, pages, services

        booking.register()  # the demo rooms' part of load_demo is in meetings.demo
        services.register()  # reminder schedule, handover of organised meetings, the demo builder
        materials.register()  # the blob referrer of meeting materials
        minutes.register()  # meetings as a 督办 source (会议决定)
        live.register()  # socket handlers of the live meeting room
        pages.register()  # the 会议 navigation entry and the workbench tile
        # The REST API of meetings (/api/v1/meetings/, issue 10).
        from officeapp.registries import api_routers

        api_routers.register("meetings", "meetings.api")
