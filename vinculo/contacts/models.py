"""The customer database: contacts, companies, their e-mails and phones, notes and tags."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from vinculo.core.models import OrgScopedModel


class LifecycleStage(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    CHURNED = "churned", _("Churned")


class SourceChannel(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    WEB = "web", _("Website")
    FORM = "form", _("Web form")
    EMAIL = "email", _("E-mail")
    SOCIAL = "social", _("Social")
    ECOMMERCE = "ecommerce", _("E-commerce")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class CompanySize(models.TextChoices):
    S1 = "1-10", _("1–10 employees")
    S11 = "11-50", _("11–50 employees")
    S51 = "51-200", _("51–200 employees")
    S201 = "201-1000", _("201–1,000 employees")
    S1001 = "1001+", _("More than 1,000 employees")


class Tag(OrgScopedModel):
    """A label on contacts and companies, unique per organisation regardless of case."""

    name = models.CharField(_("name"), max_length=50)
    color = models.CharField(_("colour"), max_length=7, default="#6c757d")

    class Meta:
        ordering: ClassVar = ["name", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint("organization", Lower("name"), name="tag_unique_name_ci"),
        ]

    def __str__(self) -> str:
        return self.name


class Address(models.Model):
    street = models.CharField(_("street"), max_length=200, blank=True, default="")
    city = models.CharField(_("city"), max_length=100, blank=True, default="")
    region = models.CharField(_("region"), max_length=100, blank=True, default="")
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True, default="")
    country = CountryField(_("country"), blank=True, default="")

    class Meta:
        abstract = True


class Company(OrgScopedModel, Address):
    """An organisation the company sells to; its contacts and their history hang from it."""

    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("web domain"), max_length=253, blank=True, default="")
    industry = models.CharField(_("industry"), max_length=100, blank=True, default="")
    size = models.CharField(_("size"), max_length=16, choices=CompanySize.choices, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=32, blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="companies", verbose_name=_("tags"))
    custom = models.JSONField(_("custom properties"), default=dict, blank=True)
    search_text = models.TextField(default="", editable=False)

    class Meta:
        ordering: ClassVar = ["name", "id"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organization", "domain"], condition=~models.Q(domain=""), name="company_unique_domain"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["organization", "name", "id"], name="company_org_name"),
            models.Index(fields=["organization", "-created_at", "-id"], name="company_org_created"),
            models.Index(fields=["organization", "owner", "name", "id"], name="company_org_owner"),
            # the companies list's industry filter: the distinct industries, one seek each (selectors)
            models.Index(fields=["organization", "industry"], name="company_org_industry"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(OrgScopedModel, Address):
    """A person the company has a relationship with: the centre of the 360° record.

    `email` and `phone` repeat the primary entries of `emails` and `phones` for lists and lookups.
    """

    first_name = models.CharField(_("first name"), max_length=100, blank=True, default="")
    last_name = models.CharField(_("last name"), max_length=100, blank=True, default="")
    # the contact's id in another system (a shop, an ERP): an import finds the contact again by it
    external_id = models.CharField(_("external id"), max_length=128, blank=True, default="")
    email = models.CharField(_("e-mail"), max_length=254, blank=True, default="", editable=False)
    phone = models.CharField(_("phone"), max_length=32, blank=True, default="", editable=False)
    company = models.ForeignKey(
        Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts", verbose_name=_("company")
    )
    job_title = models.CharField(_("job title"), max_length=150, blank=True, default="")
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.LEAD
    )
    source = models.CharField(
        _("source channel"), max_length=16, choices=SourceChannel.choices, default=SourceChannel.MANUAL
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts", verbose_name=_("tags"))
    custom = models.JSONField(_("custom properties"), default=dict, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    search_text = models.TextField(default="", editable=False)

    class Meta:
        ordering: ClassVar = ["last_name", "first_name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~models.Q(external_id=""),
                name="contact_unique_external_id",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["organization", "last_name", "first_name", "id"], name="contact_org_name"),
            models.Index(fields=["organization", "-created_at", "-id"], name="contact_org_created"),
            models.Index(fields=["organization", "-updated_at", "-id"], name="contact_org_updated"),
            # a filter's index ends with the list's sort, id included: "stage=customer&sort=-created"
            # then reads 50 index entries instead of walking contact_org_created and skipping rows
            models.Index(fields=["organization", "lifecycle_stage", "-created_at", "-id"], name="contact_org_stage"),
            models.Index(fields=["organization", "owner", "-created_at", "-id"], name="contact_org_owner"),
            models.Index(fields=["organization", "country", "-created_at", "-id"], name="contact_org_country"),
            models.Index(fields=["organization", "email"], name="contact_org_email"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or f"#{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ContactEmail(OrgScopedModel):
    """One of a contact's e-mail addresses; an address belongs to one contact per organisation."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.CharField(_("e-mail"), max_length=254)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering: ClassVar = ["-is_primary", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "email"], name="contact_email_unique"),
        ]

    def __str__(self) -> str:
        return self.email


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    WORK = "work", _("Work")
    HOME = "home", _("Home")
    OTHER = "other", _("Other")


class ContactPhone(OrgScopedModel):
    """One of a contact's phone numbers, in E.164."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("phone"), max_length=32)
    kind = models.CharField(_("kind"), max_length=8, choices=PhoneKind.choices, default=PhoneKind.MOBILE)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering: ClassVar = ["-is_primary", "id"]
        indexes: ClassVar = [models.Index(fields=["organization", "number"], name="contact_phone_number")]

    def __str__(self) -> str:
        return self.number


class Note(OrgScopedModel):
    """A free-text note on a contact or a company, shown on its timeline."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="notes")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField(_("note"), max_length=10000)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False) | models.Q(company__isnull=False), name="note_has_subject"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["contact", "-created_at", "-id"], name="note_contact_created"),
            models.Index(fields=["company", "-created_at", "-id"], name="note_company_created"),
        ]

    def __str__(self) -> str:
        return self.body[:60]


class ListKind(models.TextChoices):
    """The list pages a saved view can belong to (their columns, filters and sorts: `list_registry`)."""

    CONTACTS = "contacts", _("Contacts")
    COMPANIES = "companies", _("Companies")
    DEALS = "deals", _("Deals")
    ORDERS = "orders", _("Orders")
    ACTIVITIES = "activities", _("Activities")


class ViewSharing(models.TextChoices):
    PRIVATE = "private", _("Only me")
    TEAM = "team", _("My team")
    ORGANIZATION = "organization", _("Everyone in the organisation")


class SavedView(OrgScopedModel):
    """A named way of looking at a list: its filters, sort and columns, kept by a member for
    themselves or shared with a team or the whole organisation.

    It lives here, below sales, so that every list (contacts and companies here; deals, orders and
    activities in sales) stores its views the same way; each list declares what it allows in
    `vinculo.contacts.list_registry`.
    """

    kind = models.CharField(_("list"), max_length=16, choices=ListKind.choices)
    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        "accounts.Membership", on_delete=models.CASCADE, related_name="saved_views", verbose_name=_("owner")
    )
    sharing = models.CharField(_("shared with"), max_length=16, choices=ViewSharing.choices, default="private")
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("team")
    )
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    sort = models.CharField(_("sort"), max_length=32, blank=True, default="")
    columns = models.JSONField(_("columns"), default=list, blank=True)

    class Meta:
        ordering: ClassVar = ["name", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                "organization", "owner", "kind", Lower("name"), name="saved_view_unique_name_per_owner"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["organization", "kind", "name"], name="saved_view_org_kind")]

    def __str__(self) -> str:
        return self.name
