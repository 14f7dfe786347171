"""The accounts API: who is calling (`/me`) and the organisation's members."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from django.http import HttpRequest
from ninja import Query, Router, Schema

from vinculo.accounts import selectors
from vinculo.accounts.models import ApiToken, Membership, Role, User
from vinculo.accounts.permissions import can_manage_org, can_write
from vinculo.core.api import READ_ERRORS, PageOut, PageQuery, page_out
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


@router.get("/members", response={200: MemberPage, **READ_ERRORS})
def member_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, object]:
    """The organisation's members with their roles and teams, by name."""
    actor = request_actor(request)
    page = paginate(selectors.member_list(organization=actor.organization), page=paging.page, per_page=paging.per_page)
    return page_out(request, page)
