"""The accounts API: who is calling (`/me`), the organisation's settings and its members."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from vinculo.accounts import selectors, services
from vinculo.accounts.models import ApiToken, Membership, Organization, Role, User
from vinculo.accounts.permissions import can_manage_org, can_write
from vinculo.core.api import READ_ERRORS, WRITE_ERRORS, InSchema, PageOut, PageQuery, page_out, sent_fields
from vinculo.core.pagination import paginate

router = Router(tags=["accounts"])


def request_actor(request: HttpRequest) -> Membership:
    """The caller's membership, set by OrgAuth (token or session) for every authenticated operation."""
    return cast(Membership, request.auth)  # type: ignore[attr-defined]


# --- schemas --------------------------------------------------------------------------------------


class UserRef(Schema):
    """A member as shown on a record (owner, author, actor)."""

    id: int
    name: str
    email: str

    @staticmethod
    def resolve_name(obj: User) -> str:
        return obj.full_name or obj.email


class MeUser(UserRef):
    language: str
    time_zone: str


class OrganizationOut(Schema):
    id: int
    name: str
    slug: str
    base_currency: str
    language: str
    time_zone: str
    country: str = Field(description="ISO 3166-1 alpha-2; empty when not set.")

    @staticmethod
    def resolve_country(obj: Organization) -> str:
        return str(obj.country or "")  # a django-countries Country; its text is the code


class OrganizationPatch(InSchema):
    """The settings to change; the others stay."""

    name: Annotated[str, Field(max_length=150)] | None = None
    base_currency: Annotated[str, Field(max_length=3, description="ISO 4217, e.g. EUR.")] | None = None
    language: Annotated[str, Field(max_length=8)] | None = None
    time_zone: Annotated[str, Field(max_length=64, description="IANA time zone, e.g. Europe/Madrid.")] | None = None
    country: (
        Annotated[
            str,
            Field(
                max_length=2,
                description="ISO 3166-1 alpha-2, e.g. ES; empty for none. Its phone numbers are shown "
                "in national format, the others in international format.",
            ),
        ]
        | None
    ) = None


class TokenOut(Schema):
    name: str
    prefix: str
    scope: ApiToken.Scope


class MeOut(Schema):
    user: MeUser
    organization: OrganizationOut
    role: Role
    can_write: bool
    can_manage_organization: bool
    token: TokenOut | None = None


class MemberOut(Schema):
    id: int
    user: UserRef
    role: Role
    teams: list[str]
    joined_at: datetime

    @staticmethod
    def resolve_teams(obj: Membership) -> list[str]:
        return [team.name for team in obj.teams.all()]

    @staticmethod
    def resolve_joined_at(obj: Membership) -> datetime:
        return obj.created_at


class MemberPage(PageOut):
    items: list[MemberOut]


# --- operations -----------------------------------------------------------------------------------


@router.get("/me", response={200: MeOut, **READ_ERRORS})
def me(request: HttpRequest) -> dict[str, object]:
    """The calling user, their organisation and role, and the token used (null for a session)."""
    actor = request_actor(request)
    token: ApiToken | None = getattr(request, "api_token", None)
    return {
        "user": actor.user,
        "organization": actor.organization,
        "role": actor.role,
        "can_write": can_write(actor) and (token is None or token.scope == ApiToken.Scope.READ_WRITE),
        "can_manage_organization": can_manage_org(actor),
        "token": token,
    }


@router.get("/organization", response={200: OrganizationOut, **READ_ERRORS})
def organization_get(request: HttpRequest) -> Organization:
    """The caller's organisation and its settings."""
    return request_actor(request).organization


@router.patch("/organization", response={200: OrganizationOut, **WRITE_ERRORS})
def organization_update(request: HttpRequest, payload: OrganizationPatch) -> Organization:
    """Change the organisation's settings (owners and admins): only the fields sent; null or a
    missing field keeps the current value, "" clears the country."""
    actor = request_actor(request)
    org = actor.organization
    current = {
        "name": org.name,
        "base_currency": org.base_currency,
        "language": org.language,
        "time_zone": org.time_zone,
        "country": str(org.country or ""),
    }
    sent = {key: value for key, value in sent_fields(payload).items() if value is not None}
    return services.organization_update(actor=actor, **{**current, **sent})


@router.get("/members", response={200: MemberPage, **READ_ERRORS})
def member_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, object]:
    """The organisation's members with their roles and teams, by name."""
    actor = request_actor(request)
    page = paginate(selectors.member_list(organization=actor.organization), page=paging.page, per_page=paging.per_page)
    return page_out(request, page)
