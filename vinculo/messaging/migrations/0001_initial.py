from django.db import migrations


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "__first__"),
        ("contacts", "__first__"),
    ]

    operations = []
