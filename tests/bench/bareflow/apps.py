"""The bare flow's app, known to Django only while the flow bench runs.

viewflow stores a flow and its nodes in its tables as "<app label>/<path inside the app>"
(viewflow.workflow.fields.get_flow_ref / get_task_ref) and finds the app with
`apps.get_containing_app_config(module)`: a Flow class outside every installed app cannot start.
The bare flow has no models, so it needs an app label and nothing else.

The usual way to add an app at run time, `modify_settings(INSTALLED_APPS=…)`, re-populates the
whole registry and runs every app's `ready()` again; ours register into officeapp.registries,
which refuse a second registration. So `installed()` adds this one AppConfig to the live registry
(no migrations: the flow uses viewflow's own Process and Task tables) and removes it afterwards.
The product never imports this package.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import AppConfig, apps


class BareFlowConfig(AppConfig):
    name = "tests.bench.bareflow"
    label = "bareflow_bench"
    verbose_name = "基准测试：空白流程"


@contextmanager
def installed() -> Iterator[AppConfig]:
    """The bare flow's app in the app registry for the duration of the block."""
    config = AppConfig.create(BareFlowConfig.name)
    config.apps = apps
    config.models = {}
    apps.app_configs[config.label] = config
    apps.clear_cache()
    try:
        yield config
    finally:
        del apps.app_configs[config.label]
        apps.clear_cache()
