"""Create, edit and delete pages of contacts and companies: happy paths, every kind of bad input
(answered 422 with the error next to the field, what was typed kept, nothing saved), roles and
other organisations' ids."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from vinculo.accounts.models import Organization, Role
from vinculo.accounts.testing import login_client
from vinculo.contacts.models import Company, Contact, ContactEmail, ContactPhone, Tag
from vinculo.contacts.testing import make_company as new_company
from vinculo.contacts.testing import make_contact as new_contact
from vinculo.core.models import AuditEntry, Event


def url(org: Organization, name: str, *args: Any) -> str:
    return reverse(f"contacts:{name}", args=[org.slug, *args])


def page(response: Any) -> str:
    return response.content.decode()


def contact_form(**overrides: Any) -> dict[str, Any]:
    """What the contact form posts: every field, as a browser sends it."""
    data: dict[str, Any] = {
        "first_name": "José",
        "last_name": "García",
        "emails": ["jose@acme.com", ""],
        "phones": ["+34 600 111 222", ""],
        "phones_kind": ["work", "mobile"],
        "company": "",
        "job_title": "CTO",
        "lifecycle_stage": "prospect",
        "source": "web",
        "owner": "",
        "tags": "VIP, madrid",
        "street": "Gran Vía 1",
        "postal_code": "28013",
        "city": "Madrid",
        "region": "",
        "country": "ES",
        "language": "es",
        "time_zone": "Europe/Madrid",
        "custom": "plan = gold\nseats = 12",
        "company_search": "",
    }
    data.update(overrides)
    return data


def company_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Acme",
        "domain": "www.acme.com",
        "industry": "Tools",
        "size": "11-50",
        "phone": "+34 910 000 000",
        "owner": "",
        "tags": "Partner",
        "street": "",
        "postal_code": "",
        "city": "Madrid",
        "region": "",
        "country": "ES",
        "custom": "",
    }
    data.update(overrides)
    return data


def db_state() -> tuple[Any, ...]:
    """Everything a failed form must leave untouched."""
    return (
        list(Contact.dangerously_unscoped.order_by("id").values()),
        list(ContactEmail.dangerously_unscoped.order_by("id").values_list("email", flat=True)),
        list(ContactPhone.dangerously_unscoped.order_by("id").values_list("number", "kind")),
        list(Company.dangerously_unscoped.order_by("id").values()),
        list(Tag.dangerously_unscoped.order_by("id").values_list("name", flat=True)),
        AuditEntry.dangerously_unscoped.count(),
        Event.dangerously_unscoped.count(),
    )


# --- contact create ------------------------------------------------------------------------------


def test_new_contact_form_renders_with_defaults(client_in, actor, org):
    acme = new_company(actor, name="Acme")

    response = client_in.get(url(org, "contact_create"), {"company": acme.pk})

    assert response.status_code == 200
    body = page(response)
    assert '<h1 class="h3 mb-3">New contact</h1>' in body
    assert f'<option value="{actor.user_id}" selected>{actor.user.full_name}</option>' in body
    assert '<option value="lead" selected>Lead</option>' in body
    assert '<option value="manual" selected>Entered by hand</option>' in body
    assert f'<option value="{acme.pk}" selected>Acme</option>' in body
    assert '<input type="email" name="emails" value="" id="id_emails"' in body
    assert '<select name="phones_kind" class="form-select flex-grow-0 w-auto"' in body
    assert '<option value="ES">Spain</option>' in body
    assert '<option value="Europe/Madrid">Europe/Madrid</option>' in body
    assert f'hx-get="{url(org, "company_options")}"' in body


def test_creating_a_contact_saves_every_field_and_shows_it(client_in, actor, org, member, in_org_scope):
    acme = new_company(actor, name="Acme")
    colleague = member(Role.SALES, full_name="Colleague")

    response = client_in.post(
        url(org, "contact_create"),
        contact_form(
            emails=["jose@acme.com", "Pepe@Gmail.com", ""],
            phones=["+34 600 111 222", "612 345 678", ""],
            phones_kind=["work", "home", "mobile"],
            company=str(acme.pk),
            owner=str(colleague.user_id),
        ),
    )

    contact = Contact.dangerously_unscoped.get()
    assert response.status_code == 302
    assert response["Location"] == url(org, "contact_detail", contact.pk)
    assert (contact.first_name, contact.last_name, contact.job_title) == ("José", "García", "CTO")
    assert list(contact.emails.values_list("email", "is_primary")) == [
        ("jose@acme.com", True),
        ("pepe@gmail.com", False),
    ]
    assert list(contact.phones.values_list("number", "kind")) == [("+34600111222", "work"), ("+34612345678", "home")]
    assert (contact.company_id, contact.owner_id) == (acme.pk, colleague.user_id)
    assert sorted(contact.tags.values_list("name", flat=True)) == ["VIP", "madrid"]
    assert (contact.city, contact.country.code, contact.language, contact.time_zone) == (
        "Madrid",
        "ES",
        "es",
        "Europe/Madrid",
    )
    assert contact.custom == {"plan": "gold", "seats": 12}
    assert (contact.lifecycle_stage, contact.source) == ("prospect", "web")
    assert "Contact created." in page(client_in.get(response["Location"]))


def test_editing_a_contact_without_changes_records_nothing(client_in, actor, org):
    acme = new_company(actor, name="Acme")
    contact = new_contact(
        actor,
        first_name="Ana",
        emails=["ana@example.com"],
        phones=[{"number": "+34600111222", "kind": "home"}],
        company=acme.pk,
        tags=["b", "a"],
        custom={"n": 5, "f": 1.5, "flag": True, "empty": None, "text": "5", "spaced": " x ", "plain": "hello"},
    )
    audits = AuditEntry.dangerously_unscoped.count()

    form = client_in.get(url(org, "contact_edit", contact.pk))
    body = page(form)
    assert 'value="Ana"' in body
    assert '<input type="tel" name="phones" value="+34600111222"' in body
    assert '<option value="home" selected>Home</option>' in body
    assert (
        ">\nempty = null\nf = 1.5\nflag = true\nn = 5\nplain = hello\nspaced = &quot; x &quot;\ntext = &quot;5&quot;</textarea>"
        in body
    )

    response = client_in.post(
        url(org, "contact_edit", contact.pk),
        contact_form(
            first_name="Ana",
            last_name="",
            emails=["ana@example.com", ""],
            phones=["+34600111222", ""],
            phones_kind=["home", "mobile"],
            company=str(acme.pk),
            job_title="",
            lifecycle_stage="lead",
            source="manual",
            owner=str(actor.user_id),
            tags="a, b",
            street="",
            postal_code="",
            city="",
            country="",
            language="",
            time_zone="",
            custom='n = 5\nf = 1.5\nflag = true\nempty = null\ntext = "5"\nspaced = " x "\nplain = hello',
        ),
    )

    assert response.status_code == 302
    assert AuditEntry.dangerously_unscoped.count() == audits
    contact.refresh_from_db()
    assert contact.custom == {
        "n": 5,
        "f": 1.5,
        "flag": True,
        "empty": None,
        "text": "5",
        "spaced": " x ",
        "plain": "hello",
    }


def test_editing_a_contact_saves_the_changes(client_in, actor, org, in_org_scope):
    contact = new_contact(actor, first_name="Ana", emails=["ana@example.com"], tags=["old"])

    response = client_in.post(
        url(org, "contact_edit", contact.pk),
        contact_form(first_name="Anna", emails=["anna@example.com"], tags="new", owner=str(actor.user_id)),
    )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.first_name == "Anna"
    assert contact.email == "anna@example.com"
    assert list(contact.tags.values_list("name", flat=True)) == ["new"]
    entry = AuditEntry.dangerously_unscoped.filter(object_id=contact.pk, action="update").get()
    assert entry.changes["first_name"] == ["Ana", "Anna"]
    assert entry.changes["tags"] == [["old"], ["new"]]


@pytest.mark.parametrize(
    ("overrides", "field", "message", "kept"),
    [
        (
            {"emails": ["jose@acme.com", "not-an-email"]},
            "emails",
            "“not-an-email” is not a valid e-mail address.",
            'value="not-an-email"',
        ),
        (
            {"phones": ["12"], "phones_kind": ["work"], "country": ""},
            "phones",
            "“12”: start with the country code (e.g. +34) or set the country.",
            'value="12"',
        ),
        (
            {"phones": ["+34 123"], "phones_kind": ["work"]},
            "phones",
            "“+34 123” is not a valid phone number.",
            'value="+34 123"',
        ),
        (
            {"first_name": "J" * 101},
            "first_name",
            "Ensure this value has at most 100 characters (it has 101).",
            'value="' + "J" * 101 + '"',
        ),
        ({"owner": "999999"}, "owner", "No such member of this organisation.", 'value="García"'),
        ({"owner": "abc"}, "owner", "No such member of this organisation.", 'value="García"'),
        ({"company": "999999"}, "company", "No such company.", 'value="García"'),
        (
            {"lifecycle_stage": "vip"},
            "lifecycle_stage",
            "Value &#x27;vip&#x27; is not a valid choice.",
            'value="García"',
        ),
        ({"country": "XX"}, "country", "Value &#x27;XX&#x27; is not a valid choice.", 'value="García"'),
        ({"language": "klingon"}, "language", "Unknown language code.", 'value="García"'),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Unknown time zone.", 'value="García"'),
        ({"tags": "ok, " + "t" * 51}, "tags", "A tag name has at most 50 characters.", "ok, " + "t" * 51),
        ({"custom": "plan: gold"}, "custom", "Line 1: write “name = value”.", "plan: gold</textarea>"),
        ({"custom": "a = 1\na = 2"}, "custom", "Line 2: “a” is given twice.", "a = 2</textarea>"),
        (
            {"custom": "bad key = 1"},
            "custom",
            "“bad key” is not a valid property name (letters, digits and _, starting with a letter).",
            "bad key = 1</textarea>",
        ),
        (
            {"first_name": "", "last_name": "", "emails": [""]},
            "first_name",
            "Give the contact a name or an e-mail address.",
            'value="CTO"',
        ),
    ],
)
def test_creating_a_contact_with_bad_input_shows_the_error_and_saves_nothing(
    client_in, actor, org, overrides, field, message, kept
):
    before = db_state()

    response = client_in.post(url(org, "contact_create"), contact_form(**overrides))

    assert response.status_code == 422
    body = page(response)
    assert f'<div class="invalid-feedback d-block" id="id_{field}_error">{message}</div>' in body
    assert kept in body
    assert 'value="José"' in body or field == "first_name"
    assert "Please correct the errors below." in body
    assert db_state() == before


def test_a_field_with_an_error_is_marked_invalid(client_in, org):
    response = client_in.post(url(org, "contact_create"), contact_form(emails=["nope"]))

    assert 'class="form-control is-invalid" aria-invalid="true"' in page(response)


def test_another_organisations_company_cannot_be_linked(client_in, actor, org, other_actor):
    theirs = new_company(other_actor, name="Their company")
    before = db_state()

    create = client_in.post(url(org, "contact_create"), contact_form(company=str(theirs.pk)))
    assert create.status_code == 422
    assert '<div class="invalid-feedback d-block" id="id_company_error">No such company.</div>' in page(create)
    assert "Their company" not in page(create)
    assert db_state() == before

    mine = new_contact(actor, first_name="Mine")
    before = db_state()
    edit = client_in.post(url(org, "contact_edit", mine.pk), contact_form(company=str(theirs.pk)))
    assert edit.status_code == 422
    assert db_state() == before


def test_an_e_mail_of_another_contact_is_refused(client_in, actor, org):
    new_contact(actor, first_name="First", emails=["taken@example.com"])
    before = db_state()

    response = client_in.post(url(org, "contact_create"), contact_form(emails=["taken@example.com"]))

    assert response.status_code == 422
    assert "taken@example.com already belongs to First." in page(response)
    assert db_state() == before


def test_editing_a_contact_with_bad_input_keeps_the_input_and_the_record(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana", emails=["ana@example.com"])
    before = db_state()

    response = client_in.post(
        url(org, "contact_edit", contact.pk), contact_form(first_name="Changed", emails=["ana@example.com", "bad@"])
    )

    assert response.status_code == 422
    body = page(response)
    assert "“bad@” is not a valid e-mail address." in body
    assert 'value="Changed"' in body
    assert 'value="bad@"' in body
    assert db_state() == before


def test_company_search_box_returns_matching_options(client_in, actor, org):
    acme = new_company(actor, name="Acme Tools")
    new_company(actor, name="Other")

    response = client_in.get(url(org, "company_options"), {"company_search": "acme", "company": ""})

    assert response.status_code == 200
    assert page(response).split() == [
        "<option",
        'value="">—</option>',
        "<option",
        f'value="{acme.pk}">Acme',
        "Tools</option>",
    ]


def test_company_search_keeps_the_selected_company(client_in, actor, org):
    acme = new_company(actor, name="Acme")
    new_company(actor, name="Beta")

    body = page(client_in.get(url(org, "company_options"), {"company_search": "beta", "company": acme.pk}))

    assert f'<option value="{acme.pk}" selected>Acme</option>' in body
    assert ">Beta</option>" in body


# --- contact delete --------------------------------------------------------------------------------


def test_deleting_a_contact_asks_first_then_deletes_on_post(client_in, actor, org):
    contact = new_contact(actor, first_name="Ana", last_name="Alba")
    delete_url = url(org, "contact_delete", contact.pk)

    confirm = client_in.get(delete_url)
    assert confirm.status_code == 200
    assert "Delete the contact Ana Alba? Its notes and timeline go with it. This cannot be undone." in page(confirm)
    assert Contact.dangerously_unscoped.count() == 1

    done = client_in.post(delete_url)
    assert done.status_code == 302
    assert done["Location"] == url(org, "contact_list")
    assert Contact.dangerously_unscoped.count() == 0
    assert AuditEntry.dangerously_unscoped.filter(object_id=contact.pk, action="delete").count() == 1
    assert "Contact Ana Alba deleted." in page(client_in.get(done["Location"]))


def test_a_role_that_may_not_delete_gets_403_and_no_button(actor, org, member):
    marketer = member(Role.MARKETING)
    contact = new_contact(actor, first_name="Ana")
    client = login_client(marketer)

    assert "/delete/" not in page(client.get(url(org, "contact_detail", contact.pk)))
    assert f"/contacts/{contact.pk}/edit/" in page(client.get(url(org, "contact_detail", contact.pk)))
    refused = client.post(url(org, "contact_delete", contact.pk))
    assert refused.status_code == 403
    assert (
        '<p class="text-body-secondary" id="forbidden-message">You are not allowed to delete this record.</p>'
        in page(refused)
    )
    assert Contact.dangerously_unscoped.filter(pk=contact.pk).exists()


# --- companies -------------------------------------------------------------------------------------


def test_creating_a_company(client_in, actor, org, in_org_scope):
    response = client_in.post(url(org, "company_create"), company_form(custom="tier = A"))

    company = Company.dangerously_unscoped.get()
    assert response.status_code == 302
    assert response["Location"] == url(org, "company_detail", company.pk)
    assert (company.name, company.domain, company.industry, company.size, company.phone) == (
        "Acme",
        "acme.com",
        "Tools",
        "11-50",
        "+34910000000",
    )
    assert list(company.tags.values_list("name", flat=True)) == ["Partner"]
    assert company.owner_id is None
    assert company.custom == {"tier": "A"}


def test_new_company_form_proposes_the_user_as_owner(client_in, actor, org):
    body = page(client_in.get(url(org, "company_create")))

    assert f'<option value="{actor.user_id}" selected>{actor.user.full_name}</option>' in body
    assert '<input type="text" name="domain" placeholder="example.com" inputmode="url"' in body


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field cannot be blank."),
        ({"name": "N" * 201}, "name", "Ensure this value has at most 200 characters (it has 201)."),
        ({"domain": "not a domain"}, "domain", "Enter a web domain such as example.com."),
        ({"phone": "12345"}, "phone", "“12345” is not a valid phone number."),
        ({"size": "huge"}, "size", "Value &#x27;huge&#x27; is not a valid choice."),
        ({"owner": "424242"}, "owner", "No such member of this organisation."),
        ({"custom": "x"}, "custom", "Line 1: write “name = value”."),
    ],
)
def test_creating_a_company_with_bad_input(client_in, org, overrides, field, message):
    before = db_state()

    response = client_in.post(url(org, "company_create"), company_form(**overrides))

    assert response.status_code == 422
    assert f'<div class="invalid-feedback d-block" id="id_{field}_error">{message}</div>' in page(response)
    assert 'value="Tools"' in page(response)
    assert db_state() == before


def test_a_company_domain_already_taken_is_refused(client_in, actor, org):
    new_company(actor, name="First", domain="acme.com")
    before = db_state()

    response = client_in.post(url(org, "company_create"), company_form(domain="https://acme.com/"))

    assert response.status_code == 422
    assert "acme.com is already the domain of First." in page(response)
    assert db_state() == before


def test_editing_a_company(client_in, actor, org):
    company = new_company(actor, name="Acme", domain="acme.com", tags=["a"])

    form = page(client_in.get(url(org, "company_edit", company.pk)))
    assert 'value="acme.com"' in form
    assert 'name="tags" value="a"' in form

    response = client_in.post(url(org, "company_edit", company.pk), company_form(name="Acme Ltd", domain="acme.com"))
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.name == "Acme Ltd"

    before = db_state()
    bad = client_in.post(url(org, "company_edit", company.pk), company_form(name=""))
    assert bad.status_code == 422
    assert db_state() == before


def test_deleting_a_company_keeps_its_contacts(client_in, actor, org):
    company = new_company(actor, name="Acme")
    worker = new_contact(actor, first_name="Worker", company=company.pk)

    confirm = client_in.get(url(org, "company_delete", company.pk))
    assert "Delete the company Acme? Its contacts stay, without a company. This cannot be undone." in page(confirm)

    done = client_in.post(url(org, "company_delete", company.pk))
    assert done.status_code == 302
    assert Company.dangerously_unscoped.count() == 0
    worker.refresh_from_db()
    assert worker.company_id is None


# --- roles and other organisations ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["contact_create", "company_create"])
def test_read_only_role_cannot_open_or_post_create_forms(actor, org, member, name):
    client = login_client(member(Role.READ_ONLY))
    before = db_state()

    assert client.get(url(org, name)).status_code == 403
    post = client.post(url(org, name), contact_form() if name == "contact_create" else company_form())
    assert post.status_code == 403
    assert "Your role is read-only." in page(post)
    assert db_state() == before


@pytest.mark.parametrize("name", ["contact_edit", "contact_delete", "company_edit", "company_delete"])
def test_read_only_role_cannot_edit_or_delete(actor, org, member, name):
    contact, company = new_contact(actor, first_name="Ana"), new_company(actor)
    pk = contact.pk if name.startswith("contact") else company.pk
    client = login_client(member(Role.READ_ONLY))
    before = db_state()

    assert client.get(url(org, name, pk)).status_code == 403
    assert client.post(url(org, name, pk), contact_form() if "contact" in name else company_form()).status_code == 403
    assert db_state() == before


def test_sales_cannot_open_a_contact_of_someone_outside_their_team(actor, org, member):
    seller = member(Role.SALES)
    hidden = new_contact(actor, first_name="Hidden")
    unowned = new_contact(actor, first_name="Unowned", owner=None)
    client = login_client(seller)
    before = db_state()

    assert client.get(url(org, "contact_edit", hidden.pk)).status_code == 404
    assert client.post(url(org, "contact_edit", hidden.pk), contact_form()).status_code == 404
    assert client.post(url(org, "contact_delete", hidden.pk)).status_code == 404
    assert db_state() == before
    assert client.get(url(org, "contact_edit", unowned.pk)).status_code == 200


@pytest.mark.parametrize("name", ["contact_edit", "contact_delete", "company_edit", "company_delete"])
def test_other_organisations_records_answer_404_on_forms(client_in, other_actor, name):
    contact, company = new_contact(other_actor, first_name="Theirs"), new_company(other_actor, name="Theirs")
    pk = contact.pk if name.startswith("contact") else company.pk
    org: Organization = other_actor.organization
    mine_url = url(org, name, pk).replace(f"/o/{org.slug}/", f"/o/{_my_slug(client_in)}/")
    before = db_state()

    assert client_in.get(mine_url).status_code == 404
    assert client_in.post(mine_url, contact_form() if "contact" in name else company_form()).status_code == 404
    assert db_state() == before


def _my_slug(client: Client) -> str:
    from vinculo.accounts.models import Membership

    user_id = int(client.session["_auth_user_id"])
    return Membership.objects.get(user_id=user_id).organization.slug
