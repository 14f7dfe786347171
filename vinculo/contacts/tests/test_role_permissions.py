"""Role permissions (accounts/permissions.py), enforced where the data is read and written: the
contacts services and selectors, called directly, not through pages that hide buttons.

- read_only reads and writes nothing;
- sales sees and changes its own records, its teams' and unowned ones; deletes own or unowned;
- marketing and support change every record but delete only their own;
- manager (like owner and admin) deletes anything.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.permissions import can_change_record, can_delete_record, team_user_ids
from vinculo.accounts.services import team_create
from vinculo.contacts.models import Contact
from vinculo.contacts.selectors import company_get, contact_get, contact_queryset
from vinculo.contacts.services import company_create, contact_create, contact_delete, contact_update
from vinculo.core.models import AuditEntry


@pytest.fixture
def people(actor, member):
    """Members of one organisation; `sales` and `teammate` share a team, `outsider` does not."""
    people = {
        "owner": actor,
        "sales": member(Role.SALES, full_name="Sam Sales"),
        "teammate": member(Role.SALES, full_name="Tina Team"),
        "outsider": member(Role.SALES, full_name="Otto Outside"),
        "manager": member(Role.MANAGER),
        "marketing": member(Role.MARKETING),
        "support": member(Role.SUPPORT),
        "read_only": member(Role.READ_ONLY),
    }
    team_create(actor=actor, name="Madrid", member_ids=[people["sales"].pk, people["teammate"].pk])
    return people


@pytest.fixture
def contacts(org, people):
    """One contact owned by each member, and one without an owner."""
    made = {}
    with scope(organization=org):
        for key, membership in people.items():
            made[key] = contact_create(
                actor=people["owner"], data={"first_name": key.title(), "owner": membership.user.pk}
            )
        made["unowned"] = contact_create(actor=people["owner"], data={"first_name": "Nobody", "owner": None})
    return made


def state(org) -> list[tuple[int, str, int | None]]:
    with scope(organization=org):
        return list(Contact.objects.order_by("pk").values_list("pk", "first_name", "owner_id"))


def audit_count(org) -> int:
    return AuditEntry.dangerously_unscoped.filter(organization=org).count()


def test_read_only_cannot_create_update_or_delete(org, people, contacts):
    viewer = people["read_only"]
    before, audits = state(org), audit_count(org)
    with scope(organization=org):
        with pytest.raises(PermissionDenied):
            contact_create(actor=viewer, data={"first_name": "New"})
        for contact in (contacts["read_only"], contacts["unowned"], contacts["owner"]):
            with pytest.raises(PermissionDenied):
                contact_update(actor=viewer, contact=contact, data={"first_name": "Changed"})
            with pytest.raises(PermissionDenied):
                contact_delete(actor=viewer, contact=contact)
        with pytest.raises(PermissionDenied):
            company_create(actor=viewer, data={"name": "Acme"})
        # but reads everything
        assert contact_queryset(actor=viewer).count() == len(contacts)
    assert state(org) == before
    assert audit_count(org) == audits


def test_sales_sees_own_team_and_unowned_only(org, people, contacts):
    sales = people["sales"]
    with scope(organization=org):
        visible = set(contact_queryset(actor=sales).values_list("first_name", flat=True))
        assert visible == {"Sales", "Teammate", "Nobody"}
        for key in ("sales", "teammate", "unowned"):
            assert contact_get(actor=sales, pk=contacts[key].pk) == contacts[key]
        for key in ("owner", "outsider", "manager", "marketing", "support", "read_only"):
            with pytest.raises(Http404):
                contact_get(actor=sales, pk=contacts[key].pk)
        # the outsider, in no team, sees only their own and the unowned
        assert set(contact_queryset(actor=people["outsider"]).values_list("first_name", flat=True)) == {
            "Outsider",
            "Nobody",
        }
        # other roles see everything
        for key in ("manager", "marketing", "support", "read_only", "owner"):
            assert contact_queryset(actor=people[key]).count() == len(contacts)
    assert team_user_ids(sales) == {sales.user_id, people["teammate"].user_id}


def test_sales_changes_visible_records_but_deletes_only_own_or_unowned(org, people, contacts):
    sales = people["sales"]
    with scope(organization=org):
        contact_update(actor=sales, contact=contacts["teammate"], data={"job_title": "Buyer"})
        with pytest.raises(PermissionDenied):
            contact_update(actor=sales, contact=contacts["outsider"], data={"job_title": "Buyer"})
        with pytest.raises(PermissionDenied):
            contact_delete(actor=sales, contact=contacts["teammate"])
        contact_delete(actor=sales, contact=contacts["sales"])
        contact_delete(actor=sales, contact=contacts["unowned"])
        assert Contact.objects.get(pk=contacts["teammate"].pk).job_title == "Buyer"
        assert Contact.objects.get(pk=contacts["outsider"].pk).job_title == ""
        assert not Contact.objects.filter(pk__in=[contacts["sales"].pk, contacts["unowned"].pk]).exists()
        assert Contact.objects.filter(pk=contacts["teammate"].pk).exists()


@pytest.mark.parametrize("role", ["marketing", "support"])
def test_marketing_and_support_change_all_but_delete_only_their_own(org, people, contacts, role):
    actor = people[role]
    with scope(organization=org):
        contact_update(actor=actor, contact=contacts["owner"], data={"job_title": "CEO"})
        assert Contact.objects.get(pk=contacts["owner"].pk).job_title == "CEO"
        for other in ("owner", "sales", "unowned"):
            with pytest.raises(PermissionDenied):
                contact_delete(actor=actor, contact=contacts[other])
            assert Contact.objects.filter(pk=contacts[other].pk).exists()
        contact_delete(actor=actor, contact=contacts[role])
        assert not Contact.objects.filter(pk=contacts[role].pk).exists()


@pytest.mark.parametrize("role", ["manager", "owner"])
def test_manager_and_owner_delete_anyone_s_records(org, people, contacts, role):
    with scope(organization=org):
        contact_delete(actor=people[role], contact=contacts["sales"])
        contact_delete(actor=people[role], contact=contacts["unowned"])
        assert not Contact.objects.filter(pk__in=[contacts["sales"].pk, contacts["unowned"].pk]).exists()


def test_sales_company_visibility_follows_the_same_rule(org, people):
    with scope(organization=org):
        theirs = company_create(actor=people["owner"], data={"name": "Theirs", "owner": people["outsider"].user.pk})
        ours = company_create(actor=people["owner"], data={"name": "Ours", "owner": people["teammate"].user.pk})
        assert company_get(actor=people["sales"], pk=ours.pk) == ours
        with pytest.raises(Http404):
            company_get(actor=people["sales"], pk=theirs.pk)


@pytest.mark.parametrize(
    ("role", "change", "delete"),
    [
        (Role.OWNER, True, True),
        (Role.ADMIN, True, True),
        (Role.MANAGER, True, True),
        (Role.MARKETING, True, False),
        (Role.SUPPORT, True, False),
        (Role.SALES, False, False),
        (Role.READ_ONLY, False, False),
    ],
)
def test_rules_for_someone_else_s_record(member, role, change, delete):
    actor = member(role)
    someone_elses = type("Record", (), {"owner_id": -1})()
    assert can_change_record(actor, someone_elses) is change
    assert can_delete_record(actor, someone_elses) is delete


def test_sales_cannot_link_a_contact_to_a_company_they_cannot_see(org, actor, member):
    from django.core.exceptions import ValidationError
    from django_scopes import scope

    from vinculo.contacts.models import Contact
    from vinculo.contacts.services import company_create, contact_create

    rep = member(role="sales")
    stranger = member(role="sales")
    with scope(organization=org):
        hidden = company_create(actor=actor, data={"name": "Hidden S.A.", "owner": stranger.user_id})
        with pytest.raises(ValidationError) as excinfo:
            contact_create(actor=rep, data={"first_name": "Eva", "company": hidden.pk})
        assert excinfo.value.message_dict == {"company": ["No such company."]}
        assert Contact.objects.filter(first_name="Eva").count() == 0
