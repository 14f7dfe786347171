"""Settings → Subscription types: owners and admins list, create and edit them (errors next to the
fields, 422, HTMX fragments); everybody else reads."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.testing import login_client
from vinculo.contacts.services import contact_create
from vinculo.messaging.models import SubscriptionType
from vinculo.messaging.services import consent as consent_services
from vinculo.messaging.testing import make_subscription_type, record


def url(org: Any, path: str = "") -> str:
    return f"/o/{org.slug}/settings/subscription-types/{path}"


GOOD = {
    "key": "newsletter",
    "name": "Newsletter",
    "description": "Monthly news.",
    "lawful_basis": "consent",
    "opt_mode": "opt_in",
    "is_active": "on",
}


def test_an_admin_lists_and_creates_subscription_types(client_in, org):
    make_subscription_type(
        org, "updates", name="Product updates", lawful_basis="legitimate_interest", opt_mode="opt_out"
    )
    page = client_in.get(url(org))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="subscription-type-form"' in html
    assert 'Product updates <code class="small">updates</code>' in html
    assert "Legitimate interest · Opt-out: subscribed until they refuse" in html
    response = client_in.post(url(org), GOOD)
    assert response.status_code == 302
    assert response["Location"] == url(org)
    with scope(organization=org):
        created = SubscriptionType.objects.get(key="newsletter")
    assert (created.name, created.description, created.lawful_basis, created.opt_mode, created.is_active) == (
        "Newsletter",
        "Monthly news.",
        "consent",
        "opt_in",
        True,
    )


def test_errors_come_back_next_to_the_fields_with_422_and_keep_the_input(client_in, org):
    make_subscription_type(org, "newsletter")
    response = client_in.post(url(org), {**GOOD, "name": "Again", "opt_mode": "opt_out"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Another subscription type already has this key." in html
    assert "Consent must be given: a type based on consent is opt-in." in html
    assert 'value="Again"' in html
    fragment = client_in.post(url(org), {**GOOD, "key": "Bad key!"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 422
    body = fragment.content.decode()
    assert body.lstrip().startswith('<form method="post" novalidate id="subscription-type-form"')
    assert "Use lower-case letters, digits, _ and -, starting with a letter or digit." in body
    with scope(organization=org):
        assert SubscriptionType.objects.count() == 1
    saved = client_in.post(url(org), {**GOOD, "key": "events"}, headers={"HX-Request": "true"})
    assert (saved.status_code, saved["HX-Redirect"]) == (204, url(org))
    with scope(organization=org):
        assert sorted(SubscriptionType.objects.values_list("key", flat=True)) == ["events", "newsletter"]


def test_an_admin_edits_and_deletes_a_type(client_in, actor, org):
    newsletter = make_subscription_type(org, "newsletter")
    page = client_in.get(url(org, f"{newsletter.pk}/"))
    assert page.status_code == 200
    assert 'value="newsletter"' in page.content.decode()
    response = client_in.post(url(org, f"{newsletter.pk}/"), {**GOOD, "name": "Monthly news", "is_active": ""})
    assert response.status_code == 302
    newsletter.refresh_from_db()
    assert (newsletter.name, newsletter.is_active) == ("Monthly news", False)
    assert client_in.post(url(org, f"{newsletter.pk}/delete/")).status_code == 302
    assert SubscriptionType.dangerously_unscoped.count() == 0


def test_a_type_named_by_a_form_or_with_consents_is_not_deleted(client_in, actor, org, monkeypatch):
    newsletter = make_subscription_type(org, "newsletter")
    events = make_subscription_type(org, "events")
    # what touchpoints registers for its web forms (vinculo/touchpoints/tests/test_forms_services.py)
    checks = [lambda t: ["web form “Contact us”"] if t.key == "events" else []]
    monkeypatch.setattr(consent_services, "_usage_checks", checks)
    with scope(organization=org):
        ana = contact_create(actor=actor, data={"first_name": "Ana"})
    record(ana, newsletter)
    response = client_in.post(url(org, f"{newsletter.pk}/delete/"), follow=True)
    assert "Consent was recorded for this subscription type: deactivate it instead." in response.content.decode()
    response = client_in.post(url(org, f"{events.pk}/delete/"), follow=True)
    assert "Used by web form “Contact us”: change them first." in response.content.decode()
    rekey = client_in.post(url(org, f"{events.pk}/"), {**GOOD, "key": "invitations", "name": "Events"})
    assert rekey.status_code == 422
    assert "Used by web form “Contact us”: change them first." in rekey.content.decode()
    assert SubscriptionType.dangerously_unscoped.count() == 2


def test_other_roles_read_but_cannot_change(org, member):
    newsletter = make_subscription_type(org, "newsletter")
    marketing = login_client(member(Role.MARKETING))
    page = marketing.get(url(org))
    assert page.status_code == 200
    assert 'id="subscription-type-form"' not in page.content.decode()
    edit = marketing.get(url(org, f"{newsletter.pk}/"))
    assert edit.status_code == 200
    assert "disabled" in edit.content.decode()
    assert marketing.post(url(org), GOOD | {"key": "other"}).status_code == 403
    assert marketing.post(url(org, f"{newsletter.pk}/"), GOOD | {"name": "X"}).status_code == 403
    assert marketing.post(url(org, f"{newsletter.pk}/delete/")).status_code == 403
    assert list(SubscriptionType.dangerously_unscoped.values_list("key", "name")) == [("newsletter", "Newsletter")]


def test_another_organisations_type_is_404(client_in, other_actor):
    theirs = make_subscription_type(other_actor.organization, "newsletter")
    org = client_in.get("/").wsgi_request.user.memberships.first().organization  # type: ignore[union-attr]
    assert client_in.get(url(org, f"{theirs.pk}/")).status_code == 404
    assert client_in.post(url(org, f"{theirs.pk}/"), GOOD).status_code == 404
    assert client_in.post(url(org, f"{theirs.pk}/delete/")).status_code == 404
    assert SubscriptionType.dangerously_unscoped.count() == 1


def test_the_list_page_query_count_does_not_grow(client_in, org):
    def count() -> int:
        client_in.get(url(org))
        with CaptureQueriesContext(connection) as queries:
            assert client_in.get(url(org)).status_code == 200
        return len(queries)

    make_subscription_type(org, "t0")
    one = count()
    for n in range(1, 6):
        make_subscription_type(org, f"t{n}")
    assert count() == one
