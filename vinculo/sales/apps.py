from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "vinculo.sales"
    label = "sales"
    verbose_name = "Sales"

    def ready(self) -> None:
        # in ready(): these import models, which Django loads only after every apps.py (app registry)
        from vinculo.sales import condition_kinds, home_panels, list_kinds, notifications, panels, subscribers

        home_panels.register()
        list_kinds.register_lists()
        panels.register()
        subscribers.register()
        notifications.register()  # the "activity reminders" kind of notification
        condition_kinds.register()  # orders, spend, products and deals in segments and workflows
