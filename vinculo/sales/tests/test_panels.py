"""A customer's page shows their deals, next activities, quotes and orders, as the viewer may see them."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from django_scopes import scope

from vinculo.accounts.testing import login_client
from vinculo.contacts.services import company_create, contact_create
from vinculo.sales.models import Activity, Order, Quote
from vinculo.sales.testing import make_deal, make_pipeline


def _panel(html: str, panel_id: str) -> str:
    match = re.search(rf'<section class="card mt-3" id="{panel_id}".*?</section>', html, re.S)
    assert match, f"no {panel_id} on the page"
    return match[0]


def test_contact_page_shows_sales_panels(actor, client_in):
    org = actor.organization
    make_pipeline(org)
    with scope(organization=org):
        company = company_create(actor=actor, data={"name": "Acme"})
        contact = contact_create(
            actor=actor, data={"first_name": "Ana", "company": company.pk, "lifecycle_stage": "lead"}
        )
    make_deal(actor, title="Renewal 2027", contact=contact.pk, amount="1500")
    Activity.dangerously_unscoped.create(
        organization=org,
        subject="Call Ana",
        due_at=timezone.now() - dt.timedelta(hours=1),
        contact=contact,
        assignee=actor.user,
    )
    Order.dangerously_unscoped.create(
        organization=org, number="O-00007", contact=contact, currency="EUR", total="99.50", placed_at=timezone.now()
    )
    Quote.dangerously_unscoped.create(
        organization=org, number="Q-00003", contact=contact, currency="EUR", total="10.00"
    )

    html = client_in.get(f"/o/{org.slug}/contacts/{contact.pk}/").content.decode()

    deals = _panel(html, "panel-deals")
    assert "Renewal 2027" in deals
    assert "1,500.00 EUR" in deals
    assert f'href="/o/{org.slug}/deals/new/?contact={contact.pk}"' in deals
    assert 'id="lead-convert"' in deals
    agenda = _panel(html, "panel-agenda")
    assert "Call Ana" in agenda
    assert "text-danger" in agenda  # overdue
    documents = _panel(html, "panel-documents")
    assert "O-00007" in documents
    assert "99.50 EUR" in documents
    assert "Q-00003" in documents

    company_html = client_in.get(f"/o/{org.slug}/companies/{company.pk}/").content.decode()
    assert "Renewal 2027" in _panel(company_html, "panel-deals")  # the company's contacts' deals
    assert "O-00007" in _panel(company_html, "panel-documents")


def test_a_sales_rep_sees_only_the_deals_their_role_allows(actor, member):
    org = actor.organization
    make_pipeline(org)
    rep = member(role="sales")
    with scope(organization=org):
        contact = contact_create(actor=actor, data={"first_name": "Luis", "owner": None})
    make_deal(actor, title="Owner's deal", contact=contact.pk)
    make_deal(actor, title="Rep's deal", contact=contact.pk, owner=rep.user_id)

    html = login_client(rep).get(f"/o/{org.slug}/contacts/{contact.pk}/").content.decode()

    deals = _panel(html, "panel-deals")
    assert "Rep&#x27;s deal" in deals
    assert "Owner&#x27;s deal" not in deals
