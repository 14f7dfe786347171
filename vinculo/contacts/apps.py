from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "vinculo.contacts"
    label = "contacts"
    verbose_name = "Contacts"
