from django.apps import AppConfig, apps

from vinculo.core import checks  # noqa: F401  (registers Vínculo's system checks)
from vinculo.core.event_types import load_event_types


class CoreConfig(AppConfig):
    name = "vinculo.core"
    label = "core"
    verbose_name = "Vínculo core"

    def ready(self) -> None:
        """Fill the event-type catalogue from every app's `event_types.py`, then freeze it; the worker
        forgets rate-limit counters whose window has ended."""
        load_event_types(apps.get_app_configs())

        from vinculo.core.event_story import load_record_resolvers

        load_record_resolvers(apps.get_app_configs())

        from vinculo.core.rate_limit import forget_ended_windows
        from vinculo.core.worker import register_sweep

        register_sweep(name="core.rate_counters", every_seconds=60, run=forget_ended_windows)
