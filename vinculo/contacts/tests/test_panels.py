"""Panels registered by other apps show on a contact's and a company's page."""

from __future__ import annotations

import pytest
from django_scopes import scope

from vinculo.contacts import panels
from vinculo.contacts.services import company_create, contact_create


@pytest.fixture
def sample_panel():
    seen = []

    def loader(request, record):
        seen.append(record.pk)
        return None if record.pk < 0 else {"title": f"Panel of {record}"}

    panel = panels.Panel(name="sample", template="contacts/tests/sample_panel.html", loader=loader, order=1)
    saved = {subject: dict(registered) for subject, registered in panels._panels.items()}
    for registered in panels._panels.values():
        registered.clear()  # only the sample panel: other apps' panels are tested by those apps
    panels.register_panel("contact", panel)
    panels.register_panel("company", panel)
    yield seen
    panels._panels.update(saved)


def test_a_registered_panel_renders_on_contact_and_company_pages(actor, client_in, sample_panel):
    with scope(organization=actor.organization):
        company = company_create(actor=actor, data={"name": "Acme"})
        contact = contact_create(actor=actor, data={"first_name": "Ana", "company": company.pk})
    slug = actor.organization.slug

    contact_page = client_in.get(f"/o/{slug}/contacts/{contact.pk}/").content.decode()
    company_page = client_in.get(f"/o/{slug}/companies/{company.pk}/").content.decode()

    assert '<div class="sample-panel">Panel of Ana</div>' in contact_page
    assert '<div class="sample-panel">Panel of Acme</div>' in company_page
    assert sample_panel == [contact.pk, company.pk]


def test_a_loader_returning_none_hides_the_panel(rf, sample_panel):
    class Hidden:
        pk = -1

    class Shown:
        pk = 7

        def __str__(self):
            return "Shown"

    assert panels.panels_for(rf.get("/"), "contact", Hidden()) == []
    assert panels.panels_for(rf.get("/"), "contact", Shown()) == [
        panels.RenderedPanel(
            name="sample", template="contacts/tests/sample_panel.html", context={"title": "Panel of Shown"}
        )
    ]
