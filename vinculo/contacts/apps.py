from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "vinculo.contacts"
    label = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        # in ready(): these import models, which Django loads only after every apps.py (app registry)
        from vinculo.contacts import home_panels

        home_panels.register()  # leads newly assigned to me, recent contacts and companies
