from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "vinculo.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # in ready(): these import models, which Django loads only after every apps.py (app registry)
        from vinculo.accounts import home_checklist

        home_checklist.register()  # the getting-started step "invite a colleague"
