from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "vinculo.sales"
    label = "sales"
    verbose_name = "Sales"

    def ready(self) -> None:
        # in ready(): these import models, which Django loads only after every apps.py (app registry)
        from vinculo.sales import list_kinds, panels, subscribers

        list_kinds.register_lists()
        panels.register()
        subscribers.register()
