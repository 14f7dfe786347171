"""Consent with typed purposes (docs/adr/0004).

The ledger takes over touchpoints' consent table (renamed `messaging_consent` by
`touchpoints.0002_consent_moves_to_messaging`; here only the state is created), then:
- each organisation's free-text purposes (of its consent rows and of its web forms' checkboxes)
  become SubscriptionType rows, lawful basis consent, opt-in;
- each row points to its type, `granted` becomes a status, a withdrawal stamp becomes a withdrawn
  row of its own at that time, double opt-in rows are marked as such;
- the current state per (contact, type) is computed from each pair's latest row.

Not atomic as a whole: on PostgreSQL the data step's deferred foreign-key checks must be run
before the table is altered again, so the data step is its own transaction."""

import re

import django.db.models.deletion
import django.db.models.manager
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

KEY_MAX = 64


def type_key(purpose, taken):
    """A valid, unused key for a free-text purpose: lower-case letters, digits, _ and -."""
    base = re.sub(r"[^a-z0-9_-]+", "_", (purpose or "").strip().lower()).strip("_-")[:KEY_MAX] or "consent"
    if not base[0].isalnum():
        base = f"p{base}"[:KEY_MAX]
    key, n = base, 2
    while key in taken:
        suffix = f"_{n}"
        key, n = base[: KEY_MAX - len(suffix)] + suffix, n + 1
    return key


def type_name(purpose):
    name = (purpose or "").replace("_", " ").replace("-", " ").strip()
    return (name[:1].upper() + name[1:])[:100] or "Consent"


def forward(apps, schema_editor):
    Consent = apps.get_model("messaging", "Consent")
    SubscriptionType = apps.get_model("messaging", "SubscriptionType")
    ContactSubscription = apps.get_model("messaging", "ContactSubscription")
    WebForm = apps.get_model("touchpoints", "WebForm")
    FormSubmission = apps.get_model("touchpoints", "FormSubmission")

    purposes = {}  # org id -> ordered purposes
    for org_id, purpose in Consent.objects.order_by("id").values_list("organization_id", "purpose"):
        purposes.setdefault(org_id, {}).setdefault(purpose, None)
    forms = list(WebForm.objects.order_by("id"))
    for form in forms:
        for spec in form.consents or []:
            if isinstance(spec, dict) and spec.get("key"):
                purposes.setdefault(form.organization_id, {}).setdefault(spec["key"], None)
    types = {}  # (org id, purpose) -> type id
    for org_id, names in purposes.items():
        taken = set(SubscriptionType.objects.filter(organization_id=org_id).values_list("key", flat=True))
        for purpose in names:
            key = type_key(purpose, taken)
            taken.add(key)
            created = SubscriptionType.objects.create(organization_id=org_id, key=key, name=type_name(purpose))
            types[(org_id, purpose)] = created
    for form in forms:
        specs = form.consents or []
        renamed = [
            {**spec, "key": types[(form.organization_id, spec["key"])].key}
            if isinstance(spec, dict) and spec.get("key")
            else spec
            for spec in specs
        ]
        if renamed != specs:
            WebForm.objects.filter(pk=form.pk).update(consents=renamed)

    for (org_id, purpose), subscription_type in types.items():
        Consent.objects.filter(organization_id=org_id, purpose=purpose).update(subscription_type=subscription_type)
    Consent.objects.update(channel="form")
    Consent.objects.filter(granted=False).update(status="withdrawn")
    pending = FormSubmission.objects.filter(status="pending").values("id")
    Consent.objects.filter(models.Q(confirmed_at__isnull=False) | models.Q(submission_ref__in=pending)).update(
        needs_confirmation=True
    )
    withdrawals = [
        Consent(
            organization_id=row.organization_id,
            contact_id=row.contact_id,
            subscription_type_id=row.subscription_type_id,
            purpose=row.purpose,
            granted=False,
            status="withdrawn",
            channel="manual",
            text="",
            source=row.source,
            created_at=row.withdrawn_at,
            updated_at=row.withdrawn_at,
        )
        for row in Consent.objects.filter(granted=True, withdrawn_at__isnull=False).order_by("id").iterator()
    ]
    Consent.objects.bulk_create(withdrawals, batch_size=500)

    latest = {}
    for row in Consent.objects.order_by("created_at", "id").iterator():
        latest[(row.contact_id, row.subscription_type_id)] = row
    states = []
    for (contact_id, type_id), row in latest.items():
        if row.status == "withdrawn":
            status = "unsubscribed"
        elif row.needs_confirmation and row.confirmed_at is None:
            status = "pending"
        else:
            status = "subscribed"
        states.append(
            ContactSubscription(
                organization_id=row.organization_id,
                contact_id=contact_id,
                subscription_type_id=type_id,
                status=status,
                consent_id=row.pk,
                created_at=row.created_at,
            )
        )
    ContactSubscription.objects.bulk_create(states, batch_size=500)
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def backward(apps, schema_editor):
    """The free-text purposes again (the type's key); a withdrawn row that followed a grant becomes
    the grant's withdrawal stamp again."""
    Consent = apps.get_model("messaging", "Consent")
    ContactSubscription = apps.get_model("messaging", "ContactSubscription")
    ContactSubscription.objects.all().delete()
    last_grant = {}
    merged = []
    for row in Consent.objects.select_related("subscription_type").order_by("created_at", "id").iterator():
        pair = (row.contact_id, row.subscription_type_id)
        row.purpose = row.subscription_type.key
        row.granted = row.status == "granted"
        if row.granted:
            row.save(update_fields=["purpose", "granted"])
            last_grant[pair] = row
            continue
        grant = last_grant.pop(pair, None)
        if grant is not None and row.channel != "form":
            Consent.objects.filter(pk=grant.pk).update(withdrawn_at=row.created_at)
            merged.append(row.pk)
        else:
            row.save(update_fields=["purpose", "granted"])
    Consent.objects.filter(pk__in=merged).delete()
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("messaging", "0002_outgoing"),
        ("touchpoints", "0002_consent_moves_to_messaging"),
        ("contacts", "0003_list_indexes_end_with_the_sort"),
        ("accounts", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SubscriptionType",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "created_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                ("key", models.CharField(max_length=64, verbose_name="key")),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                (
                    "description",
                    models.TextField(blank=True, default="", max_length=1000, verbose_name="description"),
                ),
                (
                    "lawful_basis",
                    models.CharField(
                        choices=[
                            ("consent", "Consent"),
                            ("legitimate_interest", "Legitimate interest"),
                            ("contract", "Contract"),
                            ("legal_obligation", "Legal obligation"),
                        ],
                        default="consent",
                        max_length=20,
                        verbose_name="lawful basis",
                    ),
                ),
                (
                    "opt_mode",
                    models.CharField(
                        choices=[
                            ("opt_in", "Opt-in: not subscribed until they agree"),
                            ("opt_out", "Opt-out: subscribed until they refuse"),
                        ],
                        default="opt_in",
                        max_length=8,
                        verbose_name="contacts who said nothing",
                    ),
                ),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organization",
                        verbose_name="organisation",
                    ),
                ),
            ],
            options={
                "ordering": ["name", "id"],
                "constraints": [
                    models.UniqueConstraint(fields=("organization", "key"), name="subscription_type_key_unique")
                ],
            },
            managers=[
                ("objects", django.db.models.manager.Manager()),
                ("dangerously_unscoped", django.db.models.manager.Manager()),
            ],
        ),
        # the table renamed by touchpoints.0002, as it stands there
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Consent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(
                                db_index=True,
                                default=django.utils.timezone.now,
                                editable=False,
                                verbose_name="created",
                            ),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                        ("purpose", models.CharField(max_length=64, verbose_name="purpose")),
                        ("granted", models.BooleanField(default=True, verbose_name="granted")),
                        ("text", models.TextField(max_length=2000, verbose_name="text shown")),
                        (
                            "text_version",
                            models.CharField(blank=True, default="", max_length=32, verbose_name="text version"),
                        ),
                        ("source", models.CharField(blank=True, default="", max_length=64, verbose_name="source")),
                        ("ip", models.GenericIPAddressField(blank=True, null=True)),
                        ("page_url", models.URLField(blank=True, default="", max_length=2000)),
                        ("user_agent", models.CharField(blank=True, default="", max_length=400)),
                        ("confirmed_at", models.DateTimeField(blank=True, null=True)),
                        ("withdrawn_at", models.DateTimeField(blank=True, null=True)),
                        ("submission_ref", models.PositiveBigIntegerField(blank=True, null=True)),
                        (
                            "contact",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="consents",
                                to="contacts.contact",
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="accounts.organization",
                                verbose_name="organisation",
                            ),
                        ),
                    ],
                    options={"ordering": ["-created_at", "-id"]},
                    managers=[
                        ("objects", django.db.models.manager.Manager()),
                        ("dangerously_unscoped", django.db.models.manager.Manager()),
                    ],
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="consent",
            name="subscription_type",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="consents",
                to="messaging.subscriptiontype",
                verbose_name="subscription type",
            ),
        ),
        migrations.AddField(
            model_name="consent",
            name="status",
            field=models.CharField(
                choices=[("granted", "Granted"), ("withdrawn", "Withdrawn")],
                default="granted",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="consent",
            name="channel",
            field=models.CharField(
                choices=[
                    ("form", "Form"),
                    ("import", "Import"),
                    ("api", "API"),
                    ("preference_centre", "Preference centre"),
                    ("unsubscribe_link", "Unsubscribe link"),
                    ("manual", "Recorded by staff"),
                ],
                default="manual",
                max_length=20,
                verbose_name="channel",
            ),
        ),
        migrations.AddField(
            model_name="consent",
            name="form_name",
            field=models.CharField(blank=True, default="", max_length=100, verbose_name="form"),
        ),
        migrations.AddField(
            model_name="consent",
            name="needs_confirmation",
            field=models.BooleanField(default=False, verbose_name="double opt-in"),
        ),
        migrations.AddField(
            model_name="consent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="consent",
            name="reason",
            field=models.CharField(blank=True, default="", max_length=500, verbose_name="reason"),
        ),
        migrations.CreateModel(
            name="ContactSubscription",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "created_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("subscribed", "Subscribed"),
                            ("pending", "Waiting for e-mail confirmation"),
                            ("unsubscribed", "Unsubscribed"),
                        ],
                        max_length=12,
                        verbose_name="status",
                    ),
                ),
                (
                    "consent",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="messaging.consent",
                    ),
                ),
                (
                    "contact",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="subscriptions",
                        to="contacts.contact",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organization",
                        verbose_name="organisation",
                    ),
                ),
                (
                    "subscription_type",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="subscriptions",
                        to="messaging.subscriptiontype",
                    ),
                ),
            ],
            options={
                "ordering": ["subscription_type_id", "contact_id"],
                "indexes": [
                    models.Index(fields=["subscription_type", "status", "contact"], name="contact_subscription_status"),
                    models.Index(fields=["contact", "subscription_type"], name="contact_subscription_contact"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("subscription_type", "contact", "organization"), name="contact_subscription_unique"
                    )
                ],
            },
            managers=[
                ("objects", django.db.models.manager.Manager()),
                ("dangerously_unscoped", django.db.models.manager.Manager()),
            ],
        ),
        migrations.RunPython(forward, backward, atomic=True),
        migrations.AlterField(
            model_name="consent",
            name="subscription_type",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="consents",
                to="messaging.subscriptiontype",
                verbose_name="subscription type",
            ),
        ),
        migrations.AlterField(
            model_name="consent",
            name="text",
            field=models.TextField(blank=True, default="", max_length=2000, verbose_name="text shown"),
        ),
        # a default first, so that going back can add the column again to existing rows
        migrations.AlterField(
            model_name="consent",
            name="purpose",
            field=models.CharField(blank=True, default="", max_length=64, verbose_name="purpose"),
        ),
        migrations.RemoveField(model_name="consent", name="purpose"),
        migrations.RemoveField(model_name="consent", name="granted"),
        migrations.RemoveField(model_name="consent", name="withdrawn_at"),
        migrations.AddIndex(
            model_name="consent",
            index=models.Index(fields=["contact", "subscription_type", "-created_at"], name="consent_contact_type"),
        ),
        migrations.AddIndex(
            model_name="consent",
            index=models.Index(fields=["submission_ref"], name="consent_submission_ref"),
        ),
    ]
