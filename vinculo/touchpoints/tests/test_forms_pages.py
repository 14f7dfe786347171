"""Web form pages under /o/<org>/: the builder (HTMX rows, preview, validation), detail with the
embed snippet, submissions, the contact's Consents panel and the withdrawal."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.testing import login_client
from vinculo.core.models import Event
from vinculo.core.testing import count_queries
from vinculo.messaging.models import Consent
from vinculo.touchpoints.models import FormSubmission, WebForm
from vinculo.touchpoints.testing.forms import GOOD, consent_types, make_form, submit


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def url(org: Any, path: str) -> str:
    return f"/o/{org.slug}/{path}"


def builder_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Newsletter",
        "fields-TOTAL": "2",
        "fields-0-name": "email",
        "fields-0-label": "E-mail",
        "fields-0-type": "email",
        "fields-0-required": "on",
        "fields-0-maps_to": "email",
        "fields-1-name": "interest",
        "fields-1-label": "Interest",
        "fields-1-type": "select",
        "fields-1-maps_to": "custom.interest",
        "fields-1-options": "CRM\nERP\n",
        "consents-TOTAL": "1",
        "consents-0-key": "newsletter",
        "consents-0-text": "Send me news.",
        "consents-0-required": "on",
        "submit_label": "Subscribe",
        "success_message": "Thanks!",
        "redirect_url": "",
        "double_opt_in": "on",
        "notify_owner": "on",
        "owner": "",
        "allowed_origins": "https://www.example.com\nhttp://localhost:8080",
        "is_active": "on",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_the_builder_creates_a_form(client_in, actor, org):
    consent_types(org)
    page = client_in.get(url(org, "web-forms/new/"))
    assert page.status_code == 200
    assert 'id="builder-form"' in page.content.decode()
    response = client_in.post(url(org, "web-forms/new/"), builder_post())
    form = WebForm.dangerously_unscoped.get()
    assert response.status_code == 302
    assert response["Location"] == url(org, f"web-forms/{form.pk}/")
    assert (form.name, form.submit_label, form.success_message, form.double_opt_in, form.owner) == (
        "Newsletter",
        "Subscribe",
        "Thanks!",
        True,
        None,
    )
    assert form.fields == [
        {"name": "email", "label": "E-mail", "type": "email", "required": True, "maps_to": "email"},
        {
            "name": "interest",
            "label": "Interest",
            "type": "select",
            "required": False,
            "maps_to": "custom.interest",
            "options": ["CRM", "ERP"],
        },
    ]
    assert form.consents == [{"key": "newsletter", "text": "Send me news.", "version": "1", "required": True}]
    assert form.allowed_origins == ["https://www.example.com", "http://localhost:8080"]


def test_the_builder_refuses_an_unknown_subscription_type_next_to_its_row(client_in, org):
    consent_types(org)
    response = client_in.post(url(org, "web-forms/new/"), builder_post(**{"consents-0-key": "newz"}))
    assert response.status_code == 422
    html = response.content.decode()
    assert '<option value="newz" selected>newz</option>' in html
    assert '<option value="newsletter">Newsletter (newsletter)</option>' in html
    assert "There is no subscription type with the key “newz”." in html
    assert WebForm.dangerously_unscoped.count() == 0


def test_the_builder_shows_errors_next_to_fields_and_keeps_input(client_in, org):
    response = client_in.post(
        url(org, "web-forms/new/"),
        builder_post(**{"fields-1-name": "email", "fields-0-maps_to": "", "allowed_origins": "example.com"}),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert '<div class="alert alert-danger py-2" id="fields-error">Add an e-mail field mapped to the contact' in html
    assert '<div class="invalid-feedback">Another field is already named “email”.</div>' in html
    assert "“example.com” is not an origin" in html
    assert 'value="Newsletter"' in html
    assert "Send me news.</textarea>" in html
    assert WebForm.dangerously_unscoped.count() == 0


def test_builder_buttons_add_remove_and_move_rows_without_saving(client_in, org):
    builder = url(org, "web-forms/builder/")
    added = client_in.post(builder, builder_post(action="add_field"), headers={"HX-Request": "true"})
    assert added.status_code == 200
    assert added["HX-Trigger"] == "builder-changed"
    html = added.content.decode()
    assert html.count('class="card card-body mb-2 field-row"') == 3
    assert 'name="fields-TOTAL" value="3"' in html
    moved = client_in.post(builder, builder_post(action="up_field:1")).content.decode()
    assert moved.index('name="fields-0-name" value="interest"') < moved.index('name="fields-1-name" value="email"')
    removed = client_in.post(builder, builder_post(action="remove_field:1")).content.decode()
    assert removed.count('class="card card-body mb-2 field-row"') == 1
    consent = client_in.post(builder, builder_post(action="add_consent")).content.decode()
    assert consent.count('class="card card-body mb-2 consent-row"') == 2
    assert WebForm.dangerously_unscoped.count() == 0


def test_a_drag_reorders_the_fields_and_a_bad_order_changes_nothing(client_in, org):
    builder = url(org, "web-forms/builder/")
    three = builder_post(
        **{"fields-TOTAL": "3", "fields-2-name": "city", "fields-2-label": "City", "fields-2-type": "text"}
    )
    dragged = client_in.post(builder, {**three, "action": "order_field:2,0,1"}).content.decode()
    names = [dragged.index(f'value="{name}"') for name in ("city", "email", "interest")]
    assert names == sorted(names)
    for bad in ("order_field:0,0,1", "order_field:0,1", "order_field:x"):
        same = client_in.post(builder, {**three, "action": bad}).content.decode()
        positions = [same.index(f'value="{name}"') for name in ("email", "interest", "city")]
        assert positions == sorted(positions)


def test_builder_buttons_work_without_javascript(client_in, org):
    response = client_in.post(url(org, "web-forms/new/"), builder_post(action="add_field"))
    assert response.status_code == 200
    assert response.content.decode().count('class="card card-body mb-2 field-row"') == 3
    assert WebForm.dangerously_unscoped.count() == 0


def test_the_live_preview_renders_the_unsaved_form(client_in, org):
    response = client_in.post(url(org, "web-forms/preview/"), builder_post())
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="ERP">ERP</option>' in html
    assert "Send me news." in html
    assert "Subscribe</button>" in html
    assert "disabled" in html


def test_editing_keeps_versions_and_bumps_a_changed_text(client_in, actor, org):
    form = make_form(actor)
    page = client_in.get(url(org, f"web-forms/{form.pk}/edit/"))
    assert page.status_code == 200
    assert 'value="Contact us"' in page.content.decode()
    data = builder_post(name="Contact us", **{"consents-0-text": "Send me news weekly."})
    response = client_in.post(url(org, f"web-forms/{form.pk}/edit/"), data)
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.consents == [{"key": "newsletter", "text": "Send me news weekly.", "version": "2", "required": True}]


def test_the_detail_page_gives_the_snippet_and_the_hosted_address(client_in, actor, org):
    form = make_form(actor)
    html = client_in.get(url(org, f"web-forms/{form.pk}/")).content.decode()
    assert f"&lt;div data-vinculo-form=&quot;{form.public_key}&quot;&gt;&lt;/div&gt;" in html
    assert "&lt;script async src=&quot;http://testserver/f/embed.js&quot;&gt;&lt;/script&gt;" in html
    assert f'value="http://testserver/f/{form.public_key}/"' in html


def test_deleting_a_form_keeps_the_consents(client_in, actor, org):
    form = make_form(actor)
    submission = submit(form, **GOOD).submission
    assert client_in.get(url(org, f"web-forms/{form.pk}/delete/")).status_code == 200
    response = client_in.post(url(org, f"web-forms/{form.pk}/delete/"))
    assert response.status_code == 302
    assert WebForm.dangerously_unscoped.count() == 0
    assert FormSubmission.dangerously_unscoped.count() == 0
    rows = Consent.dangerously_unscoped.order_by("subscription_type__key")
    assert list(rows.values_list("subscription_type__key", "submission_ref", "form_name")) == [
        ("newsletter", submission.pk, "Contact us"),
        ("terms", submission.pk, "Contact us"),
    ]


def test_roles_that_cannot_manage_forms_get_403(actor, org, member):
    form = make_form(actor)
    sales = login_client(member(Role.SALES))
    assert sales.get(url(org, "web-forms/")).status_code == 200
    assert sales.get(url(org, "web-forms/new/")).status_code == 403
    assert sales.post(url(org, "web-forms/new/"), builder_post()).status_code == 403
    assert sales.post(url(org, f"web-forms/{form.pk}/edit/"), builder_post()).status_code == 403
    assert sales.post(url(org, f"web-forms/{form.pk}/delete/")).status_code == 403
    assert WebForm.dangerously_unscoped.get().name == "Contact us"


def test_another_organisations_form_is_404(client_in, org, other_actor):
    theirs = make_form(other_actor)
    for path in ("", "edit/", "delete/", "submissions/"):
        assert client_in.get(url(org, f"web-forms/{theirs.pk}/{path}")).status_code == 404
    assert client_in.post(url(org, f"web-forms/{theirs.pk}/delete/")).status_code == 404
    assert WebForm.dangerously_unscoped.count() == 1


@pytest.mark.parametrize("forms", [1, 6])
def test_the_list_query_count_does_not_grow(client_in, actor, org, forms):
    for n in range(forms):
        made = make_form(actor, name=f"Form {n}")
        submit(made, **GOOD)
    client_in.get(url(org, "web-forms/"))
    with count_queries() as queries:
        response = client_in.get(url(org, "web-forms/"))
    assert response.content.decode().count('class="list-group-item d-flex flex-wrap align-items-center gap-2"') == forms
    # session, user, membership, the page of forms with counts and owners, the organisation menu, the
    # bell's unread count
    assert len(queries) == 6


@pytest.mark.parametrize("rows", [1, 6])
def test_the_submissions_list_shows_them_and_its_query_count_does_not_grow(client_in, actor, org, rows):
    form = make_form(actor)
    for n in range(rows):
        submit(form, **{**GOOD, "email": f"person{n}@example.com"})
    page = url(org, f"web-forms/{form.pk}/submissions/")
    client_in.get(page)
    with count_queries() as queries:
        response = client_in.get(page)
    html = response.content.decode()
    assert html.count('<tr id="submission-') == rows
    # session, user, membership, the form with its counts, the submissions with their contacts, and the
    # memberships of the organisation menu and the bell's unread count (base.html)
    assert len(queries) == 7
    spam_only = client_in.get(page + "?status=spam", headers={"HX-Request": "true"}).content.decode()
    assert '<tr id="submission-' not in spam_only
    assert "No submissions yet." in spam_only


def test_a_submission_detail_shows_what_was_received(client_in, actor, org):
    form = make_form(actor)
    result = submit(form, **GOOD)
    html = client_in.get(url(org, f"form-submissions/{result.submission.pk}/")).content.decode()
    assert "Call me, please." in html
    assert "203.0.113.7" in html
    assert "https://www.example.com/contact" in html


def test_the_consents_panel_lists_the_proof_and_withdraws(client_in, actor, org):
    form = make_form(actor, double_opt_in=True)
    result = submit(form, **GOOD)
    contact_page = url(org, f"contacts/{result.contact.pk}/")
    html = client_in.get(contact_page).content.decode()
    assert 'id="panel-consents"' in html
    assert html.count('class="list-group-item small subscription-row"') == 3  # newsletter, partners, terms
    assert html.count('data-status="pending"') == 2
    assert html.count('data-status="none"') == 1
    assert "Waiting for e-mail confirmation" in html
    assert '“Send me the monthly newsletter.” <span class="text-nowrap">(version 1)</span>' in html
    response = client_in.post(
        url(org, f"contacts/{result.contact.pk}/consents/"),
        {"subscription_type": "newsletter"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'id="subscription-newsletter" data-status="unsubscribed"' in response.content.decode()
    withdrawn = Consent.dangerously_unscoped.get(status="withdrawn")
    assert (withdrawn.subscription_type.key, withdrawn.channel, withdrawn.actor_id) == (
        "newsletter",
        "manual",
        actor.user_id,
    )
    assert Event.dangerously_unscoped.filter(type="consent.withdrawn", contact=result.contact).count() == 1
    unknown = client_in.post(url(org, f"contacts/{result.contact.pk}/consents/"), {"subscription_type": "nope"})
    assert unknown.status_code == 302
    assert Consent.dangerously_unscoped.filter(status="withdrawn").count() == 1


def test_read_only_members_see_consents_but_cannot_withdraw(actor, org, member):
    form = make_form(actor)
    result = submit(form, **GOOD)
    reader = login_client(member(Role.READ_ONLY))
    html = reader.get(url(org, f"contacts/{result.contact.pk}/")).content.decode()
    assert html.count('data-status="subscribed"') == 2
    assert "Withdraw</button>" not in html
    page = url(org, f"contacts/{result.contact.pk}/consents/")
    assert reader.post(page, {"subscription_type": "terms"}).status_code == 403
    assert not Consent.dangerously_unscoped.filter(status="withdrawn").exists()


def test_a_consent_of_a_contact_hidden_from_a_sales_rep_is_404(actor, org, member):
    form = make_form(actor, owner=actor.user.pk)
    result = submit(form, **GOOD)  # the contact is owned by the owner, not the rep
    rep = login_client(member(Role.SALES))
    page = url(org, f"contacts/{result.contact.pk}/consents/")
    assert rep.post(page, {"subscription_type": "terms"}).status_code == 404
    with scope(organization=org):
        assert not Consent.objects.filter(status="withdrawn").exists()


def test_pages_need_a_login(actor, org):
    form = make_form(actor)
    response = Client().get(url(org, f"web-forms/{form.pk}/"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_consents_panel_query_count_does_not_grow(client_in, actor, org):
    form = make_form(actor)

    def queries_for_contact_page() -> tuple[int, int]:
        contact = Consent.dangerously_unscoped.order_by("-id").first().contact  # type: ignore[union-attr]
        page = url(org, f"contacts/{contact.pk}/")
        client_in.get(page)
        with count_queries() as queries:
            html = client_in.get(page).content.decode()
        return len(queries), html.count('data-status="subscribed"')

    submit(form, **GOOD)
    one = queries_for_contact_page()
    for _ in range(3):
        submit(form, **GOOD)
    four = queries_for_contact_page()
    assert (one[1], four[1]) == (2, 2)
    assert one[0] == four[0]
