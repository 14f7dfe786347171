from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "vinculo.contacts"
    label = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        # in ready(): these import models, which Django loads only after every apps.py (app registry)
        from vinculo.contacts import condition_kinds, home_panels

        home_panels.register()
        condition_kinds.register()  # contact and company fields, tags, the event log (segments, workflows)  # leads newly assigned to me, recent contacts and companies
