"""The contact and company pages as a browser sees them: lists (filters, sorting, paging, bulk
actions, HTMX fragments), detail pages (profile, notes, timeline, history), search and tags.

Create/edit/delete forms are in test_pages_forms.py."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from vinculo.accounts.models import Membership, Organization, Role, Team
from vinculo.accounts.testing import login_client
from vinculo.contacts import services
from vinculo.contacts.models import Company, Contact, Note, Tag
from vinculo.contacts.saved_views import saved_view_create
from vinculo.contacts.testing import make_company, make_contact
from vinculo.core.events import emit
from vinculo.core.models import AuditEntry, Event
from vinculo.core.testing import count_queries

HX = {"HTTP_HX_REQUEST": "true"}


# --- helpers -----------------------------------------------------------------------------------


def url(org: Organization, name: str, *args: Any) -> str:
    return reverse(f"contacts:{name}", args=[org.slug, *args])


new_contact = make_contact  # made through the service, as the pages would (first name Ana unless given)
new_company = make_company  # Acme unless given


def new_note(actor: Membership, body: str = "Called, will call back", **subject: Any) -> Note:
    with scope(organization=actor.organization):
        return services.note_create(actor=actor, body=body, **subject)


def page(response: Any) -> str:
    return response.content.decode()


def contact_names(response: Any) -> list[str]:
    """The contacts listed in a list page's table, in order."""
    return re.findall(
        r'<a class="fw-semibold text-decoration-none" href="/o/[^/]+/contacts/\d+/">([^<]+)</a>', page(response)
    )


def company_names(response: Any) -> list[str]:
    return re.findall(
        r'<a class="fw-semibold text-decoration-none" href="/o/[^/]+/companies/\d+/">([^<]+)</a>', page(response)
    )


def set_created(instance: Any, when: dt.datetime) -> None:
    type(instance).dangerously_unscoped.filter(pk=instance.pk).update(created_at=when)


# --- contacts list -------------------------------------------------------------------------------


def test_contact_list_shows_each_contact_with_its_columns(client_in, actor, org):
    acme = new_company(actor, name="Acme")
    jose = new_contact(
        actor,
        first_name="José",
        last_name="García",
        job_title="CEO",
        emails=["jose@acme.com"],
        company=acme.pk,
        lifecycle_stage="customer",
        tags=["VIP"],
    )
    new_contact(actor, first_name="Bea", last_name="Zamora")

    response = client_in.get(url(org, "contact_list"))

    assert response.status_code == 200
    body = page(response)
    assert contact_names(response) == ["José García", "Bea Zamora"]
    assert f'href="/o/{org.slug}/contacts/{jose.pk}/">José García</a>' in body
    assert '<div class="small text-body-secondary">CEO</div>' in body
    assert '<a class="link-secondary text-decoration-none" href="mailto:jose@acme.com">jose@acme.com</a>' in body
    assert f'href="/o/{org.slug}/companies/{acme.pk}/">Acme</a>' in body
    assert '<span class="badge rounded-pill text-bg-success">Customer</span>' in body
    assert 'data-tag-color="#6c757d">VIP</span>' in body
    assert f'<span class="visually-hidden">Change: </span>{actor.user.full_name}<i' in body
    assert "1–2 of 2" in body
    assert f'href="/o/{org.slug}/contacts/new/"' in body
    assert f'name="ids" value="{jose.pk}" form="bulk-form"' in body
    assert '<th scope="col" class="hide-sm">E-mail</th>' in body  # minor columns hide on phones


def test_contact_list_of_an_empty_organisation_says_so(client_in, org):
    response = client_in.get(url(org, "contact_list"))

    assert response.status_code == 200
    assert "No contacts yet." in page(response)
    assert contact_names(response) == []


def test_contact_list_search_ignores_accents_and_case(client_in, actor, org):
    new_contact(actor, first_name="José", last_name="García")
    new_contact(actor, first_name="Joseph", last_name="Smith")

    response = client_in.get(url(org, "contact_list"), {"q": "GARCIA"})

    assert contact_names(response) == ["José García"]
    assert 'value="GARCIA"' in page(response)


def test_contact_list_filters_by_owner_me_none_and_id(client_in, actor, org, member):
    colleague = member(Role.SALES, full_name="Colleague")
    new_contact(actor, first_name="Mine")
    new_contact(actor, first_name="Nobodys", owner=None)
    new_contact(actor, first_name="Theirs", owner=colleague.user_id)

    assert contact_names(client_in.get(url(org, "contact_list"), {"owner": "me"})) == ["Mine"]
    assert contact_names(client_in.get(url(org, "contact_list"), {"owner": "none"})) == ["Nobodys"]
    response = client_in.get(url(org, "contact_list"), {"owner": colleague.user_id})
    assert contact_names(response) == ["Theirs"]
    assert f'<option value="{colleague.user_id}" selected>Colleague</option>' in page(response)


def test_contact_list_filters_by_stage_tag_country_and_created_range(client_in, actor, org):
    customer = new_contact(actor, first_name="Customer", lifecycle_stage="customer", country="ES", tags=["vip"])
    new_contact(actor, first_name="Lead", lifecycle_stage="lead", country="FR")
    old = new_contact(actor, first_name="Old", lifecycle_stage="customer", country="ES")
    set_created(old, timezone.now() - dt.timedelta(days=400))
    vip = Tag.dangerously_unscoped.get(organization=org, name="vip")
    today = timezone.localdate().isoformat()

    assert contact_names(client_in.get(url(org, "contact_list"), {"stage": "customer"})) == ["Customer", "Old"]
    assert contact_names(client_in.get(url(org, "contact_list"), {"tag": vip.pk})) == ["Customer"]
    assert contact_names(client_in.get(url(org, "contact_list"), {"country": "es"})) == ["Customer", "Old"]
    response = client_in.get(url(org, "contact_list"), {"created_after": today, "stage": "customer"})
    assert contact_names(response) == ["Customer"]
    old_day = (timezone.localdate() - dt.timedelta(days=400)).isoformat()
    response = client_in.get(url(org, "contact_list"), {"created_before": old_day})
    assert contact_names(response) == ["Old"]
    assert customer.pk != old.pk


def test_contact_list_shows_filter_errors_next_to_the_filter_and_keeps_the_valid_filters(client_in, actor, org):
    new_contact(actor, first_name="Ana", lifecycle_stage="customer")
    new_contact(actor, first_name="Bob", lifecycle_stage="lead")

    response = client_in.get(url(org, "contact_list"), {"stage": "customer", "created_after": "31/12/2024"})

    assert response.status_code == 200
    body = page(response)
    assert (
        '<div id="filter-error-created_after" class="invalid-feedback d-block">Enter a date as YYYY-MM-DD.</div>'
        in body
    )
    assert 'value="31/12/2024"' in body  # what was typed stays in the box
    assert contact_names(response) == ["Ana"]


def test_contact_list_unknown_sort_is_reported_and_ignored(client_in, actor, org):
    new_contact(actor, first_name="Ana", last_name="B")

    response = client_in.get(url(org, "contact_list"), {"sort": "password"})

    assert response.status_code == 200
    assert "Unknown sort. Allowed: name, -name, created, -created, updated, -updated." in page(response)
    assert contact_names(response) == ["Ana B"]


def test_contact_list_sorts_by_column_and_links_reverse_the_order(client_in, actor, org):
    a = new_contact(actor, first_name="Ana", last_name="Alba")
    b = new_contact(actor, first_name="Bea", last_name="Bravo")
    set_created(a, timezone.now() - dt.timedelta(days=1))
    list_url = url(org, "contact_list")

    by_name = client_in.get(list_url)
    assert contact_names(by_name) == ["Ana Alba", "Bea Bravo"]
    assert f'href="{list_url}?sort=-name"' in page(by_name)
    assert f'href="{list_url}?sort=-created"' in page(by_name)  # newest first on the first click

    reverse_name = client_in.get(list_url, {"sort": "-name"})
    assert contact_names(reverse_name) == ["Bea Bravo", "Ana Alba"]
    assert f'href="{list_url}?"' in page(reverse_name)  # back to the default order
    assert 'aria-sort="descending"' in page(reverse_name)

    assert contact_names(client_in.get(list_url, {"sort": "created"})) == ["Ana Alba", "Bea Bravo"]
    assert contact_names(client_in.get(list_url, {"sort": "-created"})) == ["Bea Bravo", "Ana Alba"]
    assert b.pk


def test_contact_list_pages_keep_the_filters(client_in, actor, org):
    for name in ("Ana", "Bea", "Carla", "Dora", "Eva"):
        new_contact(actor, first_name=name, lifecycle_stage="customer")
    new_contact(actor, first_name="Lead", lifecycle_stage="lead")
    list_url = url(org, "contact_list")

    first = client_in.get(list_url, {"stage": "customer", "per_page": 2})
    assert contact_names(first) == ["Ana", "Bea"]
    assert "1–2 of 5" in page(first)
    assert f'href="{list_url}?stage=customer&amp;per_page=2&amp;page=2" hx-get=' in page(first)

    third = client_in.get(list_url, {"stage": "customer", "per_page": 2, "page": 3})
    assert contact_names(third) == ["Eva"]
    assert "5–5 of 5" in page(third)
    assert f'href="{list_url}?stage=customer&amp;per_page=2&amp;page=2" hx-get=' in page(third)
    assert 'rel="next"' not in page(third)


def test_page_total_shows_a_capped_count_with_a_plus():
    from vinculo.contacts.templatetags.contacts_ui import page_total
    from vinculo.core.pagination import Page

    assert page_total(Page(items=[], number=1, per_page=50, total=10_000, total_capped=True)) == "10,000+"
    assert page_total(Page(items=[], number=1, per_page=50, total=1234, total_capped=False)) == "1,234"


def test_contact_list_htmx_request_gets_only_the_table_and_the_filter_errors(client_in, actor, org):
    new_contact(actor, first_name="Ana")

    response = client_in.get(url(org, "contact_list"), {"owner": "somebody"}, **HX)

    assert response.status_code == 200
    body = page(response)
    assert "<html" not in body
    assert "<nav" not in body
    assert body.count("<table") == 1
    assert contact_names(response) == ["Ana"]
    assert (
        '<div id="filter-error-owner" class="invalid-feedback d-block" hx-swap-oob="true">'
        "Use a user id, “me” or “none”.</div>" in body
    )
    assert '<div id="filter-error-stage" class="invalid-feedback d-block" hx-swap-oob="true"></div>' in body
    assert "Vary" in response.headers
    assert "HX-Request" in response.headers["Vary"]


def test_contact_list_history_restore_gets_the_whole_page(client_in, org):
    response = client_in.get(url(org, "contact_list"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")

    assert "<html" in page(response)


def test_contact_list_filter_form_updates_the_table_with_htmx(client_in, org):
    body = page(client_in.get(url(org, "contact_list")))

    assert f'hx-get="{url(org, "contact_list")}" hx-target="#results" hx-push-url="true"' in body
    assert '<div id="results" aria-live="polite">' in body


# --- bulk actions --------------------------------------------------------------------------------


def bulk(client: Client, org: Organization, **data: Any) -> Any:
    data.setdefault("next", "")
    return client.post(url(org, "contact_bulk"), data)


def test_bulk_assign_owner_changes_the_selected_contacts_only(client_in, actor, org, member):
    colleague = member(Role.SALES, full_name="Colleague")
    a, b, c = (new_contact(actor, first_name=n) for n in ("A", "B", "C"))

    response = bulk(client_in, org, action="assign_owner", ids=[a.pk, b.pk], owner=colleague.user_id, next="stage=lead")

    assert response.status_code == 302
    assert response["Location"] == url(org, "contact_list") + "?stage=lead"
    owners = dict(Contact.dangerously_unscoped.values_list("first_name", "owner_id"))
    assert owners == {"A": colleague.user_id, "B": colleague.user_id, "C": actor.user_id}
    follow = client_in.get(response["Location"])
    assert "Owner assigned to 2 records." in page(follow)
    assert c.pk


def test_bulk_add_and_remove_tag(client_in, actor, org, in_org_scope):
    a = new_contact(actor, first_name="A", tags=["old"])
    b = new_contact(actor, first_name="B")

    assert bulk(client_in, org, action="add_tag", ids=[a.pk, b.pk], tag="Hot").status_code == 302
    assert sorted(a.tags.values_list("name", flat=True)) == ["Hot", "old"]
    assert list(b.tags.values_list("name", flat=True)) == ["Hot"]

    assert bulk(client_in, org, action="remove_tag", ids=[a.pk], tag="hot").status_code == 302
    assert list(a.tags.values_list("name", flat=True)) == ["old"]
    assert list(b.tags.values_list("name", flat=True)) == ["Hot"]


def test_bulk_delete_asks_for_confirmation_first(client_in, actor, org):
    a = new_contact(actor, first_name="Ana", last_name="Alba")
    b = new_contact(actor, first_name="Bea", last_name="Bravo")
    keep = new_contact(actor, first_name="Keep")

    confirm = bulk(client_in, org, action="delete", ids=[a.pk, b.pk], next="q=a")

    assert confirm.status_code == 200
    body = page(confirm)
    assert "Delete 2 contacts?" in body
    assert "<li>Ana Alba</li>" in body
    assert "<li>Bea Bravo</li>" in body
    assert '<input type="hidden" name="confirm" value="1">' in body
    assert '<input type="hidden" name="next" value="q=a">' in body
    assert Contact.dangerously_unscoped.count() == 3

    done = bulk(client_in, org, action="delete", ids=[a.pk, b.pk], confirm="1", next="q=a")

    assert done.status_code == 302
    assert list(Contact.dangerously_unscoped.values_list("pk", flat=True)) == [keep.pk]
    assert "2 records deleted." in page(client_in.get(done["Location"]))


def test_bulk_without_selection_is_an_error_on_the_list(client_in, actor, org):
    new_contact(actor, first_name="Ana")

    response = bulk(client_in, org, action="assign_owner", owner="")

    assert response.status_code == 422
    assert (
        '<div class="alert alert-danger py-2" role="alert" id="bulk-errors"><div>Select at least one row.</div></div>'
        in page(response)
    )
    assert contact_names(response) == ["Ana"]


def test_bulk_tag_without_a_name_is_an_error_and_keeps_the_ticks(client_in, actor, org):
    ana = new_contact(actor, first_name="Ana")

    response = bulk(client_in, org, action="add_tag", ids=[ana.pk], tag="  ")

    assert response.status_code == 422
    assert '<div class="invalid-feedback d-block">Name the tag.</div>' in page(response)
    assert f'value="{ana.pk}" form="bulk-form" checked' in page(response)
    assert Tag.dangerously_unscoped.count() == 0


def test_bulk_tag_too_long_is_the_service_error(client_in, actor, org):
    ana = new_contact(actor, first_name="Ana")

    response = bulk(client_in, org, action="add_tag", ids=[ana.pk], tag="x" * 51)

    assert response.status_code == 422
    assert "A tag name has at most 50 characters." in page(response)
    assert Tag.dangerously_unscoped.count() == 0


def test_bulk_on_another_organisations_ids_changes_nothing(client_in, org, other_actor):
    theirs = new_contact(other_actor, first_name="Theirs")

    confirm = bulk(client_in, org, action="delete", ids=[theirs.pk])
    assert "Delete 0 contacts?" in page(confirm)
    assert "Theirs" not in page(confirm)

    done = bulk(client_in, org, action="delete", ids=[theirs.pk], confirm="1")
    assert done.status_code == 302
    assert bulk(client_in, org, action="assign_owner", ids=[theirs.pk], owner="").status_code == 302
    theirs.refresh_from_db()
    assert theirs.owner_id == other_actor.user_id


def test_bulk_delete_by_a_role_that_may_not_delete_some_is_refused(actor, org, member):
    marketer = member(Role.MARKETING)
    not_theirs = new_contact(actor, first_name="Not theirs")
    client = login_client(marketer)

    confirm = client.post(url(org, "contact_bulk"), {"action": "delete", "ids": [not_theirs.pk], "next": ""})
    assert "You may not delete 1 of them:" in page(confirm)
    assert '<button class="btn btn-danger" type="submit" disabled>' in page(confirm)

    refused = client.post(
        url(org, "contact_bulk"), {"action": "delete", "ids": [not_theirs.pk], "confirm": "1", "next": ""}
    )
    assert refused.status_code == 403
    assert "You are not allowed to delete this record." in page(refused)
    assert Contact.dangerously_unscoped.filter(pk=not_theirs.pk).exists()


def test_company_bulk_assign_tag_and_delete(client_in, actor, org, member, in_org_scope):
    colleague = member(Role.MANAGER)
    acme, beta = new_company(actor, name="Acme"), new_company(actor, name="Beta")
    worker = new_contact(actor, first_name="Worker", company=acme.pk)
    bulk_url = url(org, "company_bulk")

    client_in.post(bulk_url, {"action": "assign_owner", "ids": [acme.pk, beta.pk], "owner": colleague.user_id})
    assert set(Company.dangerously_unscoped.values_list("owner_id", flat=True)) == {colleague.user_id}
    client_in.post(bulk_url, {"action": "add_tag", "ids": [acme.pk], "tag": "Partner"})
    assert list(acme.tags.values_list("name", flat=True)) == ["Partner"]

    confirm = client_in.post(bulk_url, {"action": "delete", "ids": [acme.pk]})
    assert "Delete 1 company?" in page(confirm)
    done = client_in.post(bulk_url, {"action": "delete", "ids": [acme.pk], "confirm": "1"})
    assert done.status_code == 302
    assert list(Company.dangerously_unscoped.values_list("name", flat=True)) == ["Beta"]
    worker.refresh_from_db()
    assert worker.company_id is None


# --- companies list ------------------------------------------------------------------------------


def test_company_list_shows_filters_and_sorts(client_in, actor, org):
    new_company(actor, name="Alamo Foods", industry="Food", country="ES", domain="alamo.es", tags=["Partner"])
    new_company(actor, name="Beta Tools", industry="Hardware", country="FR")
    list_url = url(org, "company_list")

    everything = client_in.get(list_url)
    assert company_names(everything) == ["Alamo Foods", "Beta Tools"]
    body = page(everything)
    assert '<div class="small text-body-secondary">alamo.es</div>' in body
    assert '<td class="hide-md">Spain</td>' in body
    assert '<option value="Food"></option>' in body  # industry suggestions

    assert company_names(client_in.get(list_url, {"q": "álamo"})) == ["Alamo Foods"]
    assert company_names(client_in.get(list_url, {"industry": "hardware"})) == ["Beta Tools"]
    assert company_names(client_in.get(list_url, {"country": "ES"})) == ["Alamo Foods"]
    assert company_names(client_in.get(list_url, {"sort": "-name"})) == ["Beta Tools", "Alamo Foods"]
    assert company_names(client_in.get(list_url, {"owner": "none"})) == []


def test_company_list_htmx_partial(client_in, actor, org):
    new_company(actor, name="Acme")

    response = client_in.get(url(org, "company_list"), {"country": "Spain"}, **HX)

    body = page(response)
    assert "<html" not in body
    assert company_names(response) == ["Acme"]
    assert (
        '<div id="filter-error-country" class="invalid-feedback d-block" hx-swap-oob="true">'
        "Use a two-letter country code (ISO 3166-1).</div>" in body
    )


# --- roles -------------------------------------------------------------------------------------


def test_read_only_role_sees_no_write_controls(actor, org, member):
    contact = new_contact(actor, first_name="Ana")
    company = new_company(actor, name="Acme")
    new_note(actor, contact=contact)
    client = login_client(member(Role.READ_ONLY))

    listing = page(client.get(url(org, "contact_list")))
    detail = page(client.get(url(org, "contact_detail", contact.pk)))
    company_detail = page(client.get(url(org, "company_detail", company.pk)))
    tags = page(client.get(url(org, "tag_list")))

    assert "New contact" not in listing
    assert 'id="bulk-form"' not in listing
    assert 'name="ids"' not in listing
    assert "Ana" in listing
    assert "/edit/" not in detail
    assert "/delete/" not in detail
    assert 'id="note-form"' not in detail
    assert "/edit/" not in company_detail
    assert 'id="note-form"' not in company_detail
    assert 'id="tag-create"' not in tags


@pytest.mark.parametrize(
    ("name", "args", "data"),
    [
        ("contact_bulk", (), {"action": "delete", "ids": ["{contact}"], "confirm": "1"}),
        ("contact_note_create", ("{contact}",), {"body": "hello"}),
        ("company_note_create", ("{company}",), {"body": "hello"}),
        ("note_edit", ("{note}",), {"body": "changed"}),
        ("note_delete", ("{note}",), {}),
        ("tag_list", (), {"name": "New", "color": "#112233"}),
        ("tag_edit", ("{tag}",), {"name": "Renamed", "color": "#112233"}),
        ("tag_delete", ("{tag}",), {}),
    ],
)
def test_read_only_role_writes_are_refused_with_403(actor, org, member, name, args, data):
    contact = new_contact(actor, first_name="Ana", tags=["vip"])
    company = new_company(actor)
    note = new_note(actor, contact=contact)
    ids = {
        "{contact}": contact.pk,
        "{company}": company.pk,
        "{note}": note.pk,
        "{tag}": Tag.dangerously_unscoped.get().pk,
    }
    resolved_args = [ids[a] for a in args]
    resolved_data = {k: ([ids[i] for i in v] if isinstance(v, list) else v) for k, v in data.items()}
    before = (Contact.dangerously_unscoped.count(), Note.dangerously_unscoped.count(), Tag.dangerously_unscoped.count())
    audit_before = AuditEntry.dangerously_unscoped.count()
    client = login_client(member(Role.READ_ONLY))

    response = client.post(url(org, name, *resolved_args), resolved_data)

    assert response.status_code == 403
    assert "Not allowed" in page(response)
    after = (Contact.dangerously_unscoped.count(), Note.dangerously_unscoped.count(), Tag.dangerously_unscoped.count())
    assert after == before
    assert AuditEntry.dangerously_unscoped.count() == audit_before
    note.refresh_from_db()
    assert note.body == "Called, will call back"


def test_read_only_role_htmx_write_gets_a_plain_403_message(actor, org, member):
    contact = new_contact(actor, first_name="Ana")
    client = login_client(member(Role.READ_ONLY))

    response = client.post(url(org, "contact_note_create", contact.pk), {"body": "hi"}, **HX)

    assert response.status_code == 403
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert page(response) == "Your role is read-only."


def test_sales_role_sees_only_own_team_and_unowned_contacts(actor, org, member):
    seller = member(Role.SALES, full_name="Seller")
    teammate = member(Role.SALES, full_name="Teammate")
    stranger = member(Role.SALES, full_name="Stranger")
    team = Team.dangerously_unscoped.create(organization=org, name="North")
    team.members.add(seller, teammate)
    new_contact(actor, first_name="Own", owner=seller.user_id)
    new_contact(actor, first_name="Team", owner=teammate.user_id)
    new_contact(actor, first_name="Unowned", owner=None)
    hidden = new_contact(actor, first_name="Hidden", owner=stranger.user_id)
    client = login_client(seller)

    assert sorted(contact_names(client.get(url(org, "contact_list")))) == ["Own", "Team", "Unowned"]
    assert client.get(url(org, "contact_detail", hidden.pk)).status_code == 404
    assert client.get(url(org, "contact_list"), {"q": "hidden"}).status_code == 200
    assert contact_names(client.get(url(org, "contact_list"), {"q": "hidden"})) == []
    search = page(client.get(url(org, "search"), {"q": "hidden"}))
    assert "No contacts found." in search


# --- contact detail ------------------------------------------------------------------------------


def test_contact_detail_shows_the_profile(client_in, actor, org):
    acme = new_company(actor, name="Acme")
    contact = new_contact(
        actor,
        first_name="José",
        last_name="García",
        job_title="CTO",
        emails=["jose@acme.com", "pepe@gmail.com"],
        phones=[{"number": "+34 600 111 222", "kind": "work"}],
        company=acme.pk,
        lifecycle_stage="prospect",
        source="web",
        tags=["VIP", "Madrid"],
        street="Gran Vía 1",
        postal_code="28013",
        city="Madrid",
        country="ES",
        language="es",
        time_zone="Europe/Madrid",
        custom={"plan": "gold", "seats": 12},
    )

    response = client_in.get(url(org, "contact_detail", contact.pk))

    assert response.status_code == 200
    body = page(response)
    assert (
        '<h1 class="h3 mb-1">José García <span class="badge rounded-pill fs-6 align-middle text-bg-info">Prospect</span></h1>'
        in body
    )
    assert (
        '<a href="mailto:jose@acme.com">jose@acme.com</a> <span class="badge text-bg-light border">primary</span>'
        in body
    )
    assert '<a href="mailto:pepe@gmail.com">pepe@gmail.com</a>' in body
    # the organisation has no country: every number reads in international format
    assert '<a href="tel:+34600111222">+34 600 11 12 22</a> <span class="small text-body-secondary">Work</span>' in body
    assert f'<a href="/o/{org.slug}/companies/{acme.pk}/">Acme</a>' in body
    assert f"<dd>{actor.user.full_name}</dd>" in body
    assert "<dd>Website</dd>" in body
    assert 'data-tag-color="#6c757d">Madrid</span>' in body
    assert '<address class="mb-0">Gran Vía 1<br>28013 Madrid<br>Spain</address>' in body
    assert "<dd>Spanish</dd>" in body
    assert "<dd>Europe/Madrid</dd>" in body
    assert 'title="plan">plan</dt><dd class="col-7 mb-1 text-break">gold</dd>' in body
    assert 'title="seats">seats</dt><dd class="col-7 mb-1 text-break">12</dd>' in body
    assert f'href="/o/{org.slug}/contacts/{contact.pk}/edit/"' in body
    assert f'href="/o/{org.slug}/contacts/{contact.pk}/delete/"' in body


def test_contact_detail_timeline_shows_notes_and_events_newest_first(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana", emails=["ana@example.com"])
    with scope(organization=org):
        services.contact_update(actor=actor, contact=contact, data={"job_title": "CEO", "lifecycle_stage": "customer"})
    note = new_note(actor, "Met at the fair.\nWants a quote.", contact=contact)
    with scope(organization=org):  # a type no app declares (emit() refuses it): an old row, an import
        Event.objects.create(
            organization=org, type="chat.started", contact=contact, properties={"channel": "whatsapp", "items": 2}
        )

    body = page(client_in.get(url(org, "contact_detail", contact.pk)))

    entries = re.findall(r'<li class="timeline-entry" id="(\w+-\d+)"', body)
    chat, updated, created = (
        Event.dangerously_unscoped.filter(contact=contact).exclude(type="note.added").order_by("-id")
    )
    assert entries == [f"event-{chat.pk}", f"note-{note.pk}", f"event-{updated.pk}", f"event-{created.pk}"]
    assert '<div class="timeline-note mt-1">Met at the fair.\nWants a quote.</div>' in body
    assert '<span class="small text-body-secondary event-label">Contact updated</span>' in body
    assert (
        f'<div class="event-sentence">{actor.user.full_name} changed job title and lifecycle stage of '
        f'<a href="/o/{org.slug}/contacts/{contact.pk}/">Ana</a></div>' in body
    )
    assert (
        '<li><span class="text-body-secondary">Job title:</span> <del>—</del> <span aria-hidden="true">→</span>'
        '<span class="visually-hidden">becomes</span> <ins>CEO</ins></li>' in body
    )
    assert "<del>Lead</del>" in body  # choices by their label, not their code
    assert "<ins>Customer</ins>" in body
    assert '<span class="small text-body-secondary event-label">Contact created</span>' in body
    assert '>Source</dt><dd class="col-sm-8 col-lg-9 mb-0 text-break">Entered by hand</dd>' in body
    # an event type the timeline does not know: its type and properties
    assert '<div class="small"><code>chat.started</code> <span class="text-body-secondary">· crm</span></div>' in body
    assert ">Channel</dt>" in body
    assert ">whatsapp</dd>" in body
    assert ">Items</dt>" in body
    assert f'hx-get="/o/{org.slug}/notes/{note.pk}/edit/"' in body


def test_contact_detail_timeline_filters_by_kind(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana")
    note = new_note(actor, contact=contact)
    timeline_url = url(org, "contact_timeline", contact.pk)

    response = client_in.get(timeline_url, {"kind": "note"}, **HX)

    body = page(response)
    assert body.lstrip().startswith('<div id="timeline-panel">')
    assert re.findall(r'<li class="timeline-entry" id="(\w+-\d+)"', body) == [f"note-{note.pk}"]
    assert (
        f'<a class="btn btn-sm btn-secondary active" aria-current="true"\n       href="{url(org, "contact_detail", contact.pk)}?kind=note"'
        in body
    )
    records = page(client_in.get(timeline_url, {"kind": "record"}, **HX))
    assert re.findall(r'id="(note)-', records) == []
    assert "Contact created" in records
    # the detail page itself honours ?kind= (the URL HTMX pushes)
    assert "Contact created" not in page(client_in.get(url(org, "contact_detail", contact.pk), {"kind": "note"}))
    # without HTMX the timeline address sends the browser to the detail page
    plain = client_in.get(timeline_url, {"kind": "note"})
    assert plain.status_code == 302
    assert plain["Location"] == url(org, "contact_detail", contact.pk) + "?kind=note"


def test_contact_timeline_loads_older_entries_with_a_revealed_sentinel(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana")
    base = timezone.now() - dt.timedelta(days=1)
    with scope(organization=org):
        for i in range(34):
            Note.objects.create(organization=org, contact=contact, author=actor.user, body=f"note {i}")
    Note.dangerously_unscoped.filter(contact=contact).update(created_at=base)  # same time: paging by id

    body = page(client_in.get(url(org, "contact_detail", contact.pk)))

    assert body.count('<li class="timeline-entry"') == 30
    sentinel = re.search(
        r'<li class="timeline-more[^"]*" hx-get="([^"]+)" hx-trigger="revealed" hx-swap="outerHTML">', body
    )
    assert sentinel is not None
    more = client_in.get(sentinel.group(1).replace("&amp;", "&"), **HX)
    assert more.status_code == 200
    rest = page(more)
    # 34 notes + the "contact.created" event = 35 entries: 5 more, then nothing
    assert rest.count('<li class="timeline-entry"') == 5
    assert "timeline-more" not in rest
    assert "timeline-panel" not in rest
    shown = re.findall(r"note (\d+)</div>", body + rest)
    assert sorted(map(int, shown)) == list(range(34))


def test_contact_timeline_with_a_broken_cursor_is_a_400(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana")

    response = client_in.get(url(org, "contact_timeline", contact.pk), {"before": "not-a-cursor"}, **HX)

    assert response.status_code == 400
    assert page(response) == "This link to older entries is not valid."


def test_contact_detail_history_tab_shows_who_when_and_each_change(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana", emails=["ana@example.com"])
    with scope(organization=org):
        services.contact_update(
            actor=actor, contact=contact, data={"first_name": "Anna", "emails": ["anna@example.com"]}
        )

    body = page(client_in.get(url(org, "contact_detail", contact.pk)))

    history = body[body.index('id="tab-history"') :]
    update, create = AuditEntry.dangerously_unscoped.filter(object_id=contact.pk).order_by("-id")
    assert history.index(f'id="audit-{update.pk}"') < history.index(f'id="audit-{create.pk}"')
    assert '<span class="badge text-bg-primary">Updated</span>' in history
    assert f'<span class="fw-semibold">{actor.user.full_name}</span>' in history
    assert (
        '<span class="text-body-secondary">First name:</span>\n        <del>Ana</del> <span aria-hidden="true">→</span>'
        '<span class="visually-hidden">becomes</span> <ins>Anna</ins>' in history
    )
    assert "<del>ana@example.com</del>" in history
    assert "<ins>anna@example.com</ins>" in history
    assert '<span class="badge text-bg-success">Created</span>' in history


def test_contact_history_pages_load_older_changes(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana")
    with scope(organization=org):
        for i in range(30):
            services.contact_update(actor=actor, contact=contact, data={"job_title": f"Job {i}"})
    history_url = url(org, "contact_history", contact.pk)

    first = page(client_in.get(url(org, "contact_detail", contact.pk)))
    assert first.count('class="history-entry py-2"') == 25
    assert f'hx-get="{history_url}?page=2"' in first

    second = client_in.get(history_url, {"page": 2}, **HX)
    assert "<html" not in page(second)
    assert page(second).count('class="history-entry py-2"') == 6  # 5 updates + the creation
    assert "Older changes" not in page(second)

    full_page = client_in.get(history_url)
    assert "History of Ana" in page(full_page)
    assert "<html" in page(full_page)


# --- notes ---------------------------------------------------------------------------------------


def test_adding_a_note_with_htmx_returns_a_fresh_form_and_the_note_for_the_top_of_the_timeline(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana")

    response = client_in.post(url(org, "contact_note_create", contact.pk), {"body": "  Call on Monday  "}, **HX)

    assert response.status_code == 200
    note = Note.dangerously_unscoped.get()
    assert (note.contact_id, note.author_id, note.body) == (contact.pk, actor.user_id, "Call on Monday")
    body = page(response)
    assert body.startswith('<form id="note-form"')
    assert '<textarea name="body" cols="40" rows="3" maxlength="10000"' in body
    assert "Call on Monday</textarea>" not in body  # the form is empty again
    assert f'<ul hx-swap-oob="afterbegin:#timeline-list"><li class="timeline-entry" id="note-{note.pk}">' in body
    assert '<div class="timeline-note mt-1">Call on Monday</div>' in body
    assert Event.dangerously_unscoped.filter(type="note.added", contact=contact).count() == 1


def test_adding_an_empty_note_answers_422_with_the_form(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana")

    response = client_in.post(url(org, "contact_note_create", contact.pk), {"body": "   "}, **HX)

    assert response.status_code == 422
    assert 'id="id_body_error">Write something in the note.</div>' in page(response)
    assert Note.dangerously_unscoped.count() == 0


def test_adding_a_too_long_note_keeps_the_text(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana")
    text = "x" * 10001

    response = client_in.post(url(org, "contact_note_create", contact.pk), {"body": text}, **HX)

    assert response.status_code == 422
    assert "A note has at most 10,000 characters." in page(response)
    assert f">\n{text}</textarea>" in page(response)
    assert Note.dangerously_unscoped.count() == 0


def test_adding_a_note_without_htmx_redirects_or_shows_the_page_with_422(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana")
    note_url = url(org, "contact_note_create", contact.pk)

    ok = client_in.post(note_url, {"body": "Hello"})
    assert ok.status_code == 302
    assert ok["Location"] == url(org, "contact_detail", contact.pk)

    bad = client_in.post(note_url, {"body": ""})
    assert bad.status_code == 422
    assert "<html" in page(bad)
    assert "Write something in the note." in page(bad)
    assert Note.dangerously_unscoped.count() == 1


def test_company_note_and_aggregated_timeline(client_in, actor, org):
    acme = new_company(actor, name="Acme")
    worker = new_contact(actor, first_name="Worker", company=acme.pk)
    contact_note = new_note(actor, "About the worker", contact=worker)

    response = client_in.post(url(org, "company_note_create", acme.pk), {"body": "About Acme"}, **HX)

    assert response.status_code == 200
    company_note = Note.dangerously_unscoped.get(company=acme)
    body = page(client_in.get(url(org, "company_detail", acme.pk)))
    entries = re.findall(r'<li class="timeline-entry" id="(\w+-\d+)"', body)
    assert entries[:2] == [f"note-{company_note.pk}", f"note-{contact_note.pk}"]
    assert f'· <a href="/o/{org.slug}/contacts/{worker.pk}/">Worker</a>' in body  # whose note it is
    assert "Company created" in body


def test_note_author_edits_a_note_in_place(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana")
    note = new_note(actor, "Old text", contact=contact)
    edit_url = url(org, "note_edit", note.pk)

    form = client_in.get(edit_url, **HX)
    assert form.status_code == 200
    assert page(form).lstrip().startswith(f'<li class="timeline-entry" id="note-{note.pk}">')
    assert ">\nOld text</textarea>" in page(form)

    saved = client_in.post(edit_url, {"body": "New text"}, **HX)
    assert saved.status_code == 200
    assert '<div class="timeline-note mt-1">New text</div>' in page(saved)
    note.refresh_from_db()
    assert note.body == "New text"

    empty = client_in.post(edit_url, {"body": ""}, **HX)
    assert empty.status_code == 422
    assert "Write something in the note." in page(empty)
    note.refresh_from_db()
    assert note.body == "New text"

    cancel = client_in.get(url(org, "note_detail", note.pk), **HX)
    assert '<div class="timeline-note mt-1">New text</div>' in page(cancel)


def test_only_the_author_or_a_manager_may_change_a_note(actor, org, member):
    author = member(Role.SALES)
    other = member(Role.SALES)
    manager = member(Role.MANAGER)
    contact = new_contact(actor, first_name="Ana", owner=None)
    note = new_note(author, "Mine", contact=contact)

    other_client = login_client(other)
    detail = page(other_client.get(url(org, "contact_detail", contact.pk)))
    assert f"/notes/{note.pk}/edit/" not in detail
    assert other_client.get(url(org, "note_edit", note.pk)).status_code == 403
    assert other_client.post(url(org, "note_edit", note.pk), {"body": "Hacked"}).status_code == 403
    assert other_client.post(url(org, "note_delete", note.pk)).status_code == 403
    note.refresh_from_db()
    assert note.body == "Mine"

    manager_client = login_client(manager)
    assert manager_client.post(url(org, "note_edit", note.pk), {"body": "Fixed"}).status_code == 302
    note.refresh_from_db()
    assert note.body == "Fixed"


def test_deleting_a_note(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana")
    first, second = new_note(actor, "One", contact=contact), new_note(actor, "Two", contact=contact)

    htmx = client_in.post(url(org, "note_delete", first.pk), **HX)
    assert (htmx.status_code, page(htmx)) == (200, "")

    plain = client_in.post(url(org, "note_delete", second.pk))
    assert plain.status_code == 302
    assert plain["Location"] == url(org, "contact_detail", contact.pk)
    assert Note.dangerously_unscoped.count() == 0
    assert client_in.get(url(org, "note_delete", second.pk)).status_code == 405


# --- company detail ------------------------------------------------------------------------------


def test_company_detail_shows_profile_contacts_and_history(client_in, actor, org):
    acme = new_company(
        actor,
        name="Acme",
        domain="https://www.acme.com/about",
        industry="Tools",
        size="11-50",
        phone="+34 910 000 000",
        city="Madrid",
        country="ES",
        tags=["Partner"],
        custom={"tier": "A"},
    )
    ana = new_contact(
        actor, first_name="Ana", last_name="Alba", job_title="Buyer", company=acme.pk, lifecycle_stage="customer"
    )
    other = new_company(actor, name="Other")
    new_contact(actor, first_name="Elsewhere", company=other.pk)

    response = client_in.get(url(org, "company_detail", acme.pk))

    assert response.status_code == 200
    body = page(response)
    assert '<h1 class="h3 mb-1">Acme</h1>' in body
    assert '<a href="https://acme.com" rel="noopener noreferrer" target="_blank">acme.com</a>' in body
    assert "<dd>Tools</dd>" in body
    assert "<dd>11–50 employees</dd>" in body
    assert '<a href="tel:+34910000000">+34 910 00 00 00</a>' in body
    assert '<address class="mb-0">28013' not in body
    assert '<address class="mb-0"> Madrid<br>Spain</address>' in body
    assert 'title="tier">tier</dt><dd class="col-7 mb-1 text-break">A</dd>' in body
    contacts_card = body[body.index('id="company-contacts"') :]
    assert f'<a href="/o/{org.slug}/contacts/{ana.pk}/">Ana Alba</a>' in contacts_card
    assert '<div class="small text-body-secondary text-truncate">Buyer</div>' in contacts_card
    assert "Elsewhere" not in body
    assert f'href="/o/{org.slug}/contacts/new/?company={acme.pk}"' in body
    assert '<span class="badge text-bg-success">Created</span>' in body  # history tab


# --- search --------------------------------------------------------------------------------------


def test_search_finds_contacts_and_companies_without_accents(client_in, actor, org):
    acme = new_company(actor, name="Muñoz Hermanos", industry="Retail")
    jose = new_contact(actor, first_name="José", last_name="Muñoz", emails=["jose@munoz.es"], company=acme.pk)
    new_contact(actor, first_name="Someone", last_name="Else")

    response = client_in.get(url(org, "search"), {"q": "munoz"})

    assert response.status_code == 200
    body = page(response)
    assert f'<a class="fw-semibold" href="/o/{org.slug}/contacts/{jose.pk}/">José Muñoz</a>' in body
    assert '<div class="small text-body-secondary text-truncate">jose@munoz.es · Muñoz Hermanos</div>' in body
    assert f'<a class="fw-semibold" href="/o/{org.slug}/companies/{acme.pk}/">Muñoz Hermanos</a>' in body
    assert "Someone" not in body
    assert 'value="munoz"' in body  # the navbar and page boxes keep the query


def test_search_partial_words_and_nothing_found(client_in, actor, org):
    new_contact(actor, first_name="Bartolomé")

    assert "Bartolomé" in page(client_in.get(url(org, "search"), {"q": "artol"}))
    empty = page(client_in.get(url(org, "search"), {"q": "zzzz"}))
    assert "No contacts found." in empty
    assert "No companies found." in empty


def test_search_htmx_returns_only_the_results(client_in, actor, org):
    new_contact(actor, first_name="Ana")

    response = client_in.get(url(org, "search"), {"q": "ana"}, **HX)

    body = page(response)
    assert "<html" not in body
    assert body.lstrip().startswith('<div class="row g-3">')
    assert ">Ana</a>" in body


def test_search_without_a_query_explains_what_to_type(client_in, org):
    body = page(client_in.get(url(org, "search")))

    assert "Type a name, an e-mail address, a phone number, a company or a city. Accents do not matter." in body


# --- tags ----------------------------------------------------------------------------------------


def test_tag_page_lists_creates_renames_and_recolours(client_in, actor, org):
    new_contact(actor, first_name="Ana", tags=["vip"])
    vip = Tag.dangerously_unscoped.get()

    listing = page(client_in.get(url(org, "tag_list")))
    assert f'<li class="list-group-item" id="tag-{vip.pk}">' in listing
    assert f'href="/o/{org.slug}/contacts/?tag={vip.pk}"' in listing

    created = client_in.post(url(org, "tag_list"), {"name": "Hot lead", "color": "#FF0000"})
    assert created.status_code == 302
    assert Tag.dangerously_unscoped.filter(name="Hot lead", color="#ff0000").exists()

    renamed = client_in.post(url(org, "tag_edit", vip.pk), {"name": "VIP", "color": "#ffd700"}, **HX)
    assert renamed.status_code == 200
    assert page(renamed).lstrip().startswith(f'<li class="list-group-item" id="tag-{vip.pk}">')
    assert 'class="badge tag-badge text-dark" data-tag-color="#ffd700">VIP</span>' in page(renamed)
    vip.refresh_from_db()
    assert (vip.name, vip.color) == ("VIP", "#ffd700")


def test_tag_bad_input_answers_422_and_changes_nothing(client_in, actor, org):
    new_contact(actor, first_name="Ana", tags=["vip", "other"])
    vip = Tag.dangerously_unscoped.get(name="vip")

    duplicate = client_in.post(url(org, "tag_list"), {"name": "VIP", "color": "#000000"})
    assert duplicate.status_code == 422
    assert "A tag with this name already exists." in page(duplicate)
    assert 'value="VIP"' in page(duplicate)

    clash = client_in.post(url(org, "tag_edit", vip.pk), {"name": "Other", "color": "#000000"}, **HX)
    assert clash.status_code == 422
    assert "A tag with this name already exists." in page(clash)
    assert 'data-tag-color="#6c757d">vip</span>' in page(clash)  # the saved tag, not the rejected name

    bad_colour = client_in.post(url(org, "tag_edit", vip.pk), {"name": "vip", "color": "red"})
    assert bad_colour.status_code == 422
    assert "Use a colour like #1a2b3c." in page(bad_colour)
    vip.refresh_from_db()
    assert (vip.name, vip.color) == ("vip", "#6c757d")
    assert Tag.dangerously_unscoped.count() == 2


def test_tag_delete_confirms_and_only_managers_may(actor, org, member, client_in):
    new_contact(actor, first_name="Ana", tags=["vip"])
    vip = Tag.dangerously_unscoped.get()

    sales = login_client(member(Role.SALES))
    assert f"/tags/{vip.pk}/delete/" not in page(sales.get(url(org, "tag_list")))
    assert sales.get(url(org, "tag_delete", vip.pk)).status_code == 403
    assert sales.post(url(org, "tag_delete", vip.pk)).status_code == 403

    confirm = client_in.get(url(org, "tag_delete", vip.pk))
    assert "Delete the tag vip? It is taken off every contact and company." in page(confirm)
    assert Tag.dangerously_unscoped.count() == 1
    done = client_in.post(url(org, "tag_delete", vip.pk))
    assert done.status_code == 302
    assert Tag.dangerously_unscoped.count() == 0


# --- tenancy: another organisation's ids answer 404 and change nothing ---------------------------


def _other_org_ids(other_actor: Membership) -> dict[str, int]:
    company = new_company(other_actor, name="Theirs Inc")
    contact = new_contact(other_actor, first_name="Theirs", company=company.pk, tags=["theirs"])
    note = new_note(other_actor, "Their note", contact=contact)
    with scope(organization=other_actor.organization):
        view = saved_view_create(
            actor=other_actor, data={"kind": "contacts", "name": "Theirs", "sharing": "organization"}
        )
    return {
        "saved_view": view.pk,
        "contact": contact.pk,
        "company": company.pk,
        "note": note.pk,
        "tag": Tag.dangerously_unscoped.get(organization=other_actor.organization).pk,
    }


def _object_of(pattern_name: str) -> str | None:
    if pattern_name.startswith("contact_"):
        return "contact"
    if pattern_name.startswith("company_"):
        return "company"
    if pattern_name.startswith("note_"):
        return "note"
    if pattern_name.startswith("tag_"):
        return "tag"
    if pattern_name.startswith("saved_view_"):
        return "saved_view"
    return None


def test_every_page_with_an_id_answers_404_for_another_organisations_record(client_in, org, other_actor):
    from vinculo.contacts.urls import urlpatterns

    ids = _other_org_ids(other_actor)
    snapshot_before = (
        list(Contact.dangerously_unscoped.values_list("id", "first_name", "updated_at")),
        list(Company.dangerously_unscoped.values_list("id", "name", "updated_at")),
        list(Note.dangerously_unscoped.values_list("id", "body")),
        list(Tag.dangerously_unscoped.values_list("id", "name", "color")),
    )
    covered = []
    for pattern in urlpatterns:
        if "<int:pk>" not in str(pattern.pattern):
            continue
        kind = _object_of(pattern.name)
        assert kind is not None, pattern.name
        target = url(org, pattern.name, ids[kind])
        get = client_in.get(target)
        post = client_in.post(target, {"body": "x", "name": "x", "first_name": "x", "color": "#000000"})
        assert get.status_code in (404, 405), (pattern.name, get.status_code)
        assert post.status_code in (404, 405), (pattern.name, post.status_code)
        assert 404 in (get.status_code, post.status_code)
        covered.append(pattern.name)
    assert len(covered) == 22
    snapshot_after = (
        list(Contact.dangerously_unscoped.values_list("id", "first_name", "updated_at")),
        list(Company.dangerously_unscoped.values_list("id", "name", "updated_at")),
        list(Note.dangerously_unscoped.values_list("id", "body")),
        list(Tag.dangerously_unscoped.values_list("id", "name", "color")),
    )
    assert snapshot_after == snapshot_before


def test_other_organisations_records_never_show_in_lists_or_search(client_in, actor, org, other_actor):
    new_contact(other_actor, first_name="Theirs")
    new_company(other_actor, name="Theirs Inc")
    new_contact(actor, first_name="Mine")

    assert contact_names(client_in.get(url(org, "contact_list"))) == ["Mine"]
    assert company_names(client_in.get(url(org, "company_list"))) == []
    assert "Theirs" not in page(client_in.get(url(org, "search"), {"q": "theirs"}))
    assert "Theirs" not in page(client_in.get(url(org, "company_options"), {"q": "theirs"}))


def test_a_non_member_gets_404_for_the_organisation(other_actor, org):
    client = login_client(other_actor)

    assert client.get(url(org, "contact_list")).status_code == 404


# --- query counts: pages do not run a query per row ----------------------------------------------


def _count_queries(client: Client, path: str) -> int:
    client.get(path)  # the first visit also stores the active organisation in the session
    with count_queries() as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def _contacts(actor: Membership, n: int, company: Company | None = None, prefix: str = "p") -> None:
    for i in range(n):
        new_contact(
            actor,
            first_name=f"Person{i}",
            emails=[f"{prefix}{i}@example.com"],
            tags=[f"t{i % 4}"],
            company=company.pk if company else None,
        )


def test_contact_list_query_count_does_not_grow_with_rows(client_in, actor, org):
    acme = new_company(actor, name="Acme")
    _contacts(actor, 3, acme)
    few = _count_queries(client_in, url(org, "contact_list"))
    _contacts(actor, 27, acme, prefix="q")

    many = _count_queries(client_in, url(org, "contact_list"))

    assert many == few
    assert few <= 12


def test_company_list_query_count_does_not_grow_with_rows(client_in, actor, org):
    for i in range(3):
        new_company(actor, name=f"Company {i}", tags=["a", "b"], industry=f"I{i}")
    few = _count_queries(client_in, url(org, "company_list"))
    for i in range(3, 30):
        new_company(actor, name=f"Company {i}", tags=["a", "b"], industry=f"I{i}")

    many = _count_queries(client_in, url(org, "company_list"))

    assert many == few


def _grow_contact(actor: Membership, contact: Contact, n: int) -> None:
    with scope(organization=actor.organization):
        services.contact_update(
            actor=actor,
            contact=contact,
            data={
                "emails": [f"{contact.first_name}{i}@example.com" for i in range(min(n, 10))],
                "tags": [f"tag{i}" for i in range(n)],
                "custom": {f"k{i}": i for i in range(n)},
            },
        )
        for i in range(n):
            services.note_create(actor=actor, contact=contact, body=f"note {i}")
            services.contact_update(actor=actor, contact=contact, data={"job_title": f"job {i}"})
            with transaction.atomic():
                emit(organization=actor.organization, type="page.viewed", contact=contact, properties={"url": f"/{i}"})


def test_contact_detail_query_count_does_not_grow_with_its_history(client_in, actor, org):
    acme = new_company(actor, name="Acme")
    small = new_contact(actor, first_name="Small", company=acme.pk)
    big = new_contact(actor, first_name="Big", company=acme.pk)
    _grow_contact(actor, small, 3)
    _grow_contact(actor, big, 30)

    few = _count_queries(client_in, url(org, "contact_detail", small.pk))
    many = _count_queries(client_in, url(org, "contact_detail", big.pk))

    assert many == few


def test_company_detail_query_count_does_not_grow_with_its_contacts(client_in, actor, org):
    small, big = new_company(actor, name="Small"), new_company(actor, name="Big")
    _contacts(actor, 3, small, prefix="small")
    _contacts(actor, 30, big, prefix="big")

    assert _count_queries(client_in, url(org, "company_detail", big.pk)) == _count_queries(
        client_in, url(org, "company_detail", small.pk)
    )


# --- template helpers ----------------------------------------------------------------------------


def test_change_values_show_labels_not_codes():
    from vinculo.contacts.templatetags.contacts_ui import field_value

    assert field_value("customer", "lifecycle_stage") == "Customer"
    assert field_value("web", "source") == "Website"
    assert field_value("ES", "country") == "Spain"
    assert field_value("es", "language") == "Spanish"
    assert field_value(["a", "b"], "tags") == "a, b"
    assert field_value({"k": 1, "ok": True}, "custom") == "k = 1; ok = yes"
    assert field_value(None, "city") == "—"


def test_tag_colours_are_only_hex_in_style_attributes():
    from vinculo.contacts.templatetags.contacts_ui import tag_color, tag_text_class

    assert tag_color("#FFD700") == "#FFD700"
    assert tag_color("red; background-image: url(x)") == "#6c757d"
    assert tag_text_class("#ffd700") == "text-dark"
    assert tag_text_class("#1a2b3c") == "text-white"


def test_note_edit_without_htmx_is_a_page_of_its_own(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana")
    note = new_note(actor, "Old", contact=contact)

    response = client_in.get(url(org, "note_edit", note.pk))

    assert response.status_code == 200
    body = page(response)
    assert '<h1 class="h4 mb-3">Edit note</h1>' in body
    assert f'<a class="btn btn-link btn-sm" href="{url(org, "contact_detail", contact.pk)}#note-{note.pk}"' in body
    saved = client_in.post(url(org, "note_edit", note.pk), {"body": "New"})
    assert saved.status_code == 302
    assert saved["Location"] == f"{url(org, 'contact_detail', contact.pk)}#note-{note.pk}"
