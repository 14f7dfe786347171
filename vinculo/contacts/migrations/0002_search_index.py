"""The search index over contacts' and companies' `search_text` (see vinculo/core/search.py)."""

from django.db import migrations

from vinculo.core.search import search_index_operations

contact_forward, contact_backward = search_index_operations("contacts_contact")
company_forward, company_backward = search_index_operations("contacts_company")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [
        migrations.RunPython(contact_forward, contact_backward),
        migrations.RunPython(company_forward, company_backward),
    ]
