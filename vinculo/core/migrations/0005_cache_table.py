"""The table of the database cache (VINCULO_CACHE_URL=db): what `manage.py createcachetable` makes,
as a migration so that `migrate` alone sets an install up, whichever cache is configured today."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", "vinculo_cache", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS vinculo_cache")


class Migration(migrations.Migration):
    dependencies = [("core", "0004_auditentry_via")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
