"""The table of the database cache (settings.CACHES, the default): what `manage.py createcachetable`
makes, as a migration so that `migrate` alone sets an install up. Does nothing when another cache
backend is configured."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS vinculo_cache")


class Migration(migrations.Migration):
    dependencies = [("core", "0004_auditentry_via")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
