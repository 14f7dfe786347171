"""Consent moves to `vinculo.messaging` (docs/adr/0004): its table keeps its rows and is renamed
`messaging_consent`; the link to the form submission becomes a plain id (`submission_ref`), as
messaging sits below touchpoints. `messaging.0003_consent` takes the model over."""

from django.db import migrations, models

COPY = "UPDATE touchpoints_consent SET submission_ref = submission_id"
COPY_BACK = (
    "UPDATE touchpoints_consent SET submission_id = submission_ref "
    "WHERE submission_ref IN (SELECT id FROM touchpoints_formsubmission)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("touchpoints", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="consent",
            name="submission_ref",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.RunSQL(COPY, COPY_BACK),
        migrations.RemoveIndex(model_name="consent", name="consent_contact_purpose"),
        migrations.RemoveField(model_name="consent", name="submission"),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Consent")],
            database_operations=[migrations.AlterModelTable(name="consent", table="messaging_consent")],
        ),
    ]
