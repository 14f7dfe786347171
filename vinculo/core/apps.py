from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "vinculo.core"
    label = "core"
    verbose_name = "Vínculo core"
