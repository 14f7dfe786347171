"""Template context of the accounts app."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from vinculo.accounts.selectors import membership_list_for_user


def memberships(request: HttpRequest) -> dict[str, Any]:
    """`user_memberships`: the organisations of the logged-in user, for the switcher in the
    navigation bar. One query, and only on pages that show it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_memberships": []}
    return {"user_memberships": SimpleLazyObject(lambda: list(membership_list_for_user(user=user)))}
