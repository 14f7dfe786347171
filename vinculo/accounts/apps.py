from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "vinculo.accounts"
    label = "accounts"
    verbose_name = "Accounts"
