"""The system actor: automatic writes are done by one inactive user that can never log in and is
nobody's member, and the audit trail and the timeline say what did them ("by the web form …")."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from vinculo.accounts.models import Membership, User
from vinculo.accounts.system_actor import (
    SYSTEM_EMAIL,
    default_owner,
    describe_via,
    is_system_actor,
    make_via,
    system_actor,
    system_user,
)


def test_the_system_user_is_one_inactive_user_without_a_password(db):
    first = system_user()
    second = system_user()

    assert first.pk == second.pk
    assert User.objects.filter(is_system=True).count() == 1
    user = User.objects.get(is_system=True)
    assert (user.email, user.full_name, user.is_active, user.is_staff) == (SYSTEM_EMAIL, "Vínculo", False, False)
    assert not user.has_usable_password()
    assert not Membership.objects.filter(user=user).exists()


def test_the_system_user_can_never_log_in(db):
    system_user()
    assert Client().login(email=SYSTEM_EMAIL, password="") is False
    response = Client().post(reverse("accounts:login"), {"username": SYSTEM_EMAIL, "password": ""})
    assert response.status_code == 422
    assert "_auth_user_id" not in response.client.session


def test_the_system_actor_is_never_listed_as_a_member(actor, org, client_in):
    system_actor(org, via=make_via("web_form", "Newsletter"))
    html = client_in.get(reverse("org:members", args=[org.slug])).content.decode()
    assert actor.user.full_name in html
    assert "Vínculo" not in html.split("<main", 1)[-1]
    assert SYSTEM_EMAIL not in html


def test_the_system_actor_is_an_unsaved_owner_membership_carrying_its_via(org):
    actor = system_actor(org, via=make_via("web_form", "Newsletter"))

    assert actor.pk is None
    assert (actor.organization, actor.role, actor.user.is_system, actor.user.via) == (
        org,
        "owner",
        True,
        "web_form:Newsletter",
    )
    assert is_system_actor(actor)
    assert default_owner(actor) is None
    assert not Membership.objects.filter(organization=org, user__is_system=True).exists()


def test_a_member_is_not_the_system_and_owns_what_they_create(actor):
    assert not is_system_actor(actor)
    assert default_owner(actor) == actor.user


@pytest.mark.parametrize(
    ("via", "text"),
    [
        (make_via("web_form", "Newsletter"), "the web form “Newsletter”"),
        (make_via("assignment_rule", "Spain"), "the assignment rule “Spain”"),
        (make_via("assignment_rules"), "the assignment rules"),
        (make_via("webhook", "Orders: main"), "the webhook “Orders: main”"),
        (make_via("platform_webhook", "My shop", platform="Shopify"), "the Shopify webhook “My shop”"),
        (make_via("website", "Shop"), "the website tracker of “Shop”"),
        (make_via("mailbox", "Sales"), "the mailbox “Sales”"),
        ("import:contacts.csv", "import:contacts.csv"),  # unknown kinds read as stored
    ],
)
def test_how_each_via_reads(via, text):
    with translation.override("en"):
        assert describe_via(via) == text


def test_stored_vias():
    assert make_via("web_form", "Newsletter") == "web_form:Newsletter"
    assert make_via("platform_webhook", "My shop", platform="Shopify") == "platform_webhook:Shopify:My shop"
    assert make_via("assignment_rules") == "assignment_rules"
    with pytest.raises(ValueError, match="unknown via kind 'nobody'"):
        make_via("nobody", "x")
