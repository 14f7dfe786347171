"""`manage.py demo`: a realistic organisation written fast, with the same columns the services write."""

from __future__ import annotations

import io
from collections import Counter

import phonenumbers
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scope

from vinculo.accounts.models import Membership, Organization, Role, Team, User
from vinculo.contacts import services
from vinculo.contacts.models import Company, Contact, ContactEmail, ContactPhone, Note
from vinculo.contacts.selectors import global_search
from vinculo.contacts.services import contact_search_text
from vinculo.core.management.demo_login import DEMO_EMAIL, DEMO_PASSWORD
from vinculo.core.models import Event
from vinculo.core.search import normalize

pytestmark = pytest.mark.django_db


def demo(**options: object) -> str:
    out = io.StringIO()
    call_command("demo", stdout=out, **options)
    return out.getvalue()


def test_demo_builds_an_organisation_with_members_roles_and_a_team():
    output = demo(contacts=120, seed=7)

    org = Organization.objects.get(slug="demo")
    assert (org.country.code, org.time_zone) == ("ES", "Europe/Madrid")
    roles = Counter(Membership.objects.filter(organization=org).values_list("role", flat=True))
    assert roles == {Role.OWNER: 1, Role.MANAGER: 1, Role.SALES: 2, Role.MARKETING: 1, Role.SUPPORT: 1}
    team = Team.dangerously_unscoped.get(organization=org)
    assert sorted(m.role for m in team.members.all()) == [Role.MANAGER, Role.SALES, Role.SALES]
    assert User.objects.get(email=DEMO_EMAIL).check_password(DEMO_PASSWORD)
    assert f"Demo login: {DEMO_EMAIL} / password: {DEMO_PASSWORD}" in output
    with scope(organization=org):
        assert Contact.objects.count() == 120
        assert Company.objects.count() == 15


def test_demo_contacts_have_what_the_services_would_write():
    demo(contacts=150, seed=3)
    org = Organization.objects.get(slug="demo")
    with scope(organization=org):
        contacts = list(Contact.objects.prefetch_related("emails", "phones", "tags").select_related("company"))
        for contact in contacts:
            emails = [e.email for e in contact.emails.all()]
            phones = [p.number for p in contact.phones.all()]
            assert emails
            assert contact.email == emails[0]
            assert contact.phone == (phones[0] if phones else "")
            assert contact.search_text == contact_search_text(contact, emails, phones)
            assert contact.created_at <= contact.updated_at
            assert contact.last_activity_at is not None
            assert contact.last_activity_at >= contact.created_at
            for number in phones:
                parsed = phonenumbers.parse(number)
                assert phonenumbers.is_valid_number(parsed), number
                assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == number
        assert ContactEmail.objects.count() == len({e.email for c in contacts for e in c.emails.all()})
        assert {c.country.code for c in contacts} <= {"ES", "MX", "GB", "US"}
        assert {c.language for c in contacts} == {"es", "en"}
        assert len({c.lifecycle_stage for c in contacts}) == 4
        assert any(c.tags.all() for c in contacts)
        for company in Company.objects.all():
            assert company.search_text == normalize(company.name, company.domain, company.industry, company.city)
            assert phonenumbers.is_valid_number(phonenumbers.parse(company.phone))
        assert ContactPhone.objects.filter(is_primary=True).count() == Contact.objects.exclude(phone="").count()
        assert Note.objects.exists()


def test_demo_events_cover_18_months_of_touchpoints():
    demo(contacts=200, seed=5, busy_contact_events=300)
    org = Organization.objects.get(slug="demo")
    with scope(organization=org):
        types = Counter(Event.objects.values_list("type", flat=True))
        assert types["contact.created"] == 200
        assert {"page.viewed", "email.opened", "order.placed", "form.submitted"} <= set(types)
        # orders (and their order.placed events) come from the sales demo: see sales' test_demo_sales
        busy = Contact.objects.order_by("id").first()
        assert busy is not None
        assert busy.lifecycle_stage == "customer"
        assert Event.objects.filter(contact=busy, type="page.viewed").count() == 300
        assert Event.objects.exclude(company_id=None).filter(contact__company=None).count() == 0
        # message ids are unique per organisation, as real ingestion requires
        assert Event.objects.values("message_id").distinct().count() == sum(types.values())


def test_demo_contacts_are_searchable_and_the_search_index_keeps_working():
    demo(contacts=100, seed=11)
    org = Organization.objects.get(slug="demo")
    owner = Membership.objects.get(organization=org, role=Role.OWNER)
    with scope(organization=org):
        someone = Contact.objects.order_by("id")[40]
        found = global_search(actor=owner, query=someone.last_name.split(" ")[0].upper())
        assert someone in found.contacts or len(found.contacts) == 10
        assert someone in global_search(actor=owner, query=someone.email).contacts

        # the insert trigger the demo set aside during its batches is back
        created = services.contact_create(actor=owner, data={"first_name": "Zoraida", "last_name": "Quintanilla"})
        assert global_search(actor=owner, query="quintanill").contacts == [created]


def test_demo_is_deterministic_for_a_seed():
    demo(contacts=60, seed=99, org_slug="one")
    demo(contacts=60, seed=99, org_slug="two")

    def people(slug: str) -> list[tuple[str, str, str]]:
        org = Organization.objects.get(slug=slug)
        with scope(organization=org):
            return list(Contact.objects.order_by("id").values_list("first_name", "last_name", "email"))

    assert people("one") == people("two")


def test_if_empty_leaves_an_existing_organisation_alone():
    demo(contacts=30)
    output = demo(contacts=500, if_empty=True)

    assert "already exists; nothing to do" in output
    assert f"Demo login: {DEMO_EMAIL}" in output
    with scope(organization=Organization.objects.get(slug="demo")):
        assert Contact.objects.count() == 30
    with pytest.raises(CommandError, match="already exists"):
        demo(contacts=10)
