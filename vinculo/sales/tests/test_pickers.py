"""Record pickers: the JSON search behind the contact, company, deal and product pickers searches
the whole organisation (not a first page of choices), at most 20 records, only what the member may
see and never another organisation's; the forms render their selects as pickers."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope

from vinculo.accounts.testing import login_client
from vinculo.contacts.factories import ContactFactory
from vinculo.contacts.services import contact_create
from vinculo.contacts.testing import make_company, make_contact
from vinculo.sales.testing import make_deal, make_pipeline, make_product


def picker_url(org, kind, q=""):
    return reverse(f"sales:picker_{kind}", args=[org.slug]) + (f"?q={q}" if q else "")


def found(client, org, kind, q=""):
    response = client.get(picker_url(org, kind, q))
    assert response.status_code == 200
    return response.json()["results"]


def test_a_contact_beyond_the_first_200_is_found_by_name(client_in, actor, org):
    with scope(organization=org):
        ContactFactory.create_batch(260, organization=org, first_name="Ana", search_text="ana")
    target = make_contact(actor, first_name="Zacarías", last_name="Quintanilla")

    assert found(client_in, org, "contact", "quintanilla") == [
        {"id": target.pk, "label": "Zacarías Quintanilla", "detail": ""}
    ]
    assert len(found(client_in, org, "contact", "ana")) == 20


def test_contacts_are_found_by_email_and_by_company_name(client_in, actor, org):
    company = make_company(actor, name="Tiendas Montaña")
    by_mail = make_contact(actor, first_name="Lola", last_name="Vidal", emails=["lola@example.net"])
    at_company = make_contact(actor, first_name="Pepe", last_name="Ruiz", company=company.pk)

    assert [r["id"] for r in found(client_in, org, "contact", "lola@example.net")] == [by_mail.pk]
    assert found(client_in, org, "contact", "montaña") == [
        {"id": at_company.pk, "label": "Pepe Ruiz", "detail": "Tiendas Montaña"}
    ]
    assert found(client_in, org, "contact", "lola")[0]["detail"] == "lola@example.net"


def test_companies_deals_and_products_are_found_by_their_names(client_in, actor, org):
    make_pipeline(org)
    company = make_company(actor, name="Kayaks del Sella", domain="kayaks.example")
    make_company(actor, name="Tents Ltd")
    deal = make_deal(actor, title="Kayak fleet renewal")
    make_deal(actor, title="Tents")
    product = make_product(org, name="Sea kayak", sku="KAY-001")
    make_product(org, name="Paddle", sku="PAD-9")
    make_product(org, name="Old kayak", sku="KAY-OLD", is_active=False)

    assert found(client_in, org, "company", "kayaks") == [
        {"id": company.pk, "label": "Kayaks del Sella", "detail": "kayaks.example"}
    ]
    assert found(client_in, org, "deal", "kayak fleet") == [
        {"id": deal.pk, "label": "Kayak fleet renewal", "detail": ""}
    ]
    assert found(client_in, org, "product", "kay-0") == [{"id": product.pk, "label": "Sea kayak", "detail": "KAY-001"}]
    assert [r["label"] for r in found(client_in, org, "product", "kayak")] == ["Sea kayak"]  # not the inactive one


def test_at_most_twenty_products_in_name_order(client_in, org):
    for n in range(25):
        make_product(org, name=f"Tent {n:02d}", sku=f"T{n:02d}")

    assert [r["label"] for r in found(client_in, org, "product", "tent")] == [f"Tent {n:02d}" for n in range(20)]


def test_a_sales_rep_finds_only_the_contacts_and_deals_they_may_see(actor, member, org):
    make_pipeline(org)
    rep = member(role="sales")
    with scope(organization=org):
        contact_create(actor=actor, data={"first_name": "Ana", "last_name": "Suya", "owner": rep.user_id})
        contact_create(actor=actor, data={"first_name": "Ana", "last_name": "Ajena", "owner": actor.user_id})
    make_deal(actor, title="Rep's tents", owner=rep.user_id)
    make_deal(actor, title="Owner's tents", owner=actor.user_id)
    client = login_client(rep)

    assert [r["label"] for r in found(client, org, "contact", "ana")] == ["Ana Suya"]
    assert [r["label"] for r in found(client, org, "deal", "tents")] == ["Rep's tents"]


def test_another_organisations_records_are_never_found(client_in, actor, org, other_actor, other_org):
    make_pipeline(other_org)
    make_contact(other_actor, first_name="Ana", last_name="Foránea")
    make_company(other_actor, name="Foránea SL")
    make_deal(other_actor, title="Foránea deal")
    make_product(other_org, name="Foránea tent")

    for kind in ("contact", "company", "deal", "product"):
        assert found(client_in, org, kind, "foránea") == []
        assert found(client_in, org, kind) == []


def test_another_organisations_picker_and_an_unknown_kind_answer_404(client_in, org, other_org):
    assert client_in.get(picker_url(other_org, "contact", "ana")).status_code == 404
    assert client_in.get(f"/o/{org.slug}/sales/pickers/user/?q=ana").status_code == 404


def test_a_long_query_is_cut_not_refused(client_in, actor, org):
    make_contact(actor, first_name="Ana", last_name="Larga")

    assert found(client_in, org, "contact", "ana%20" + "x" * 500) == []


@pytest.mark.parametrize("name", ["sales:deal_create", "sales:activity_create"])
def test_the_forms_render_their_record_selects_as_pickers(client_in, org, name):
    make_pipeline(org)
    html = client_in.get(reverse(name, args=[org.slug])).content.decode()

    assert f'data-picker="{picker_url(org, "contact")}"' in html
    assert f'data-picker="{picker_url(org, "company")}"' in html


def test_the_quote_form_offers_a_sales_rep_only_the_deals_they_may_see(actor, member, org):
    make_pipeline(org)
    rep = member(role="sales")
    make_deal(actor, title="Rep's tents", owner=rep.user_id)
    make_deal(actor, title="Owner's tents", owner=actor.user_id)

    html = login_client(rep).get(reverse("sales:quote_create", args=[org.slug])).content.decode()

    assert "Rep&#x27;s tents" in html
    assert "Owner&#x27;s tents" not in html
    assert f'data-picker="{picker_url(org, "deal")}"' in html
    assert f'data-picker="{picker_url(org, "product")}"' in html


def test_the_activity_form_picks_deals_and_the_lead_conversion_picks_companies(client_in, actor, org):
    make_pipeline(org)
    lead = make_contact(actor, first_name="Lea")

    activity = client_in.get(reverse("sales:activity_create", args=[org.slug])).content.decode()
    convert = client_in.get(reverse("sales:lead_convert", args=[org.slug, lead.pk])).content.decode()

    assert f'data-picker="{picker_url(org, "deal")}"' in activity
    assert f'data-picker="{picker_url(org, "company")}"' in convert


def test_without_javascript_the_select_keeps_a_chosen_contact_beyond_the_first_choices(client_in, actor, org):
    make_pipeline(org)
    with scope(organization=org):
        ContactFactory.create_batch(205, organization=org, first_name="Ana", last_name="Alonso")
    target = make_contact(actor, first_name="Zoe", last_name="Zurita")
    deal = make_deal(actor, title="Tents", contact=target.pk)

    html = client_in.get(reverse("sales:deal_edit", args=[org.slug, deal.pk])).content.decode()

    assert f'<option value="{target.pk}" selected>Zoe Zurita</option>' in html
