from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "vinculo.sales"
    label = "sales"
    verbose_name = "Sales"

    def ready(self) -> None:
        from vinculo.sales import panels, subscribers

        panels.register()
        subscribers.register()
