"""Users, organisations (the tenants), memberships with roles, teams, invitations, API tokens."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from vinculo.core.models import BaseModel, OrgScopedModel


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in, by e-mail. Belongs to organisations through memberships."""

    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # the one inactive user that automatic writes are done by (accounts/system_actor.py)
    is_system = models.BooleanField(default=False, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]

    # what an automatic write was done through ("web_form:Newsletter"); set only on the system
    # user that `system_actor()` returns, read by the audit trail and the event log
    via: str = ""

    class Meta:
        ordering: ClassVar = ["full_name", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["is_system"], condition=models.Q(is_system=True), name="user_one_system"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email


class Organization(BaseModel):
    """The tenant: one company using Vínculo. Every customer record belongs to exactly one."""

    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    base_currency = models.CharField(_("base currency"), max_length=3, default="EUR")
    language = models.CharField(_("default language"), max_length=8, choices=settings.LANGUAGES, default="en")
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # where the organisation is: its phone numbers read in national format, others international
    country = CountryField(_("country"), blank=True, default="")

    class Meta:
        ordering: ClassVar = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    SALES = "sales", _("Sales")
    MARKETING = "marketing", _("Marketing")
    SUPPORT = "support", _("Support")
    READ_ONLY = "read_only", _("Read-only")


class Membership(BaseModel):
    """A user's place in an organisation, with the role that decides what they may do.

    Not scoped by django-scopes: memberships are how the organisation of a request is found.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.SALES)
    # when the member put away the getting-started checklist of their home page (it never comes back)
    checklist_dismissed_at = models.DateTimeField(_("checklist dismissed"), null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["organization__name", "user__full_name", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class Team(OrgScopedModel):
    """A group of members (e.g. a sales team); managers see their teams' records."""

    name = models.CharField(_("name"), max_length=100)
    members = models.ManyToManyField(Membership, related_name="teams", blank=True, verbose_name=_("members"))

    class Meta:
        ordering: ClassVar = ["name", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "name"], name="team_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Invitation(OrgScopedModel):
    """An e-mailed link that lets someone join an organisation with a given role."""

    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.SALES)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.email

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class ApiToken(OrgScopedModel):
    """A per-organisation API key. Only its SHA-256 is stored; the secret is shown once."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        READ_WRITE = "read_write", _("Read and write")

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices, default=Scope.READ)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LoginAttempt(models.Model):
    """One login attempt, kept for a while to throttle guessing (see accounts/throttle.py)."""

    email = models.CharField(max_length=254, db_index=True)
    ip = models.GenericIPAddressField()
    succeeded = models.BooleanField(default=False)
    attempted_at = models.DateTimeField(default=timezone.now, db_index=True)
    # the known device the attempt came from (its signed cookie named this account), else ""
    device = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering: ClassVar = ["-attempted_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["email", "ip", "-attempted_at"], name="login_attempt_email_ip"),
            models.Index(fields=["device", "email", "-attempted_at"], name="login_attempt_device"),
            models.Index(fields=["ip", "-attempted_at"], name="login_attempt_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.email} from {self.ip}: {'ok' if self.succeeded else 'failed'}"
