"""Tenancy is sacred: every route, with another organisation's ids, answers 404 and changes nothing.

The walker enumerates every URL pattern (pages and API operations alike). A route with an id in its
path must be mapped to the kind of record it takes (ROUTE_OBJECTS or the naming rule in
`object_kind`), and a route that is neither organisation-scoped nor in PUBLIC_ROUTES fails the
suite, so a new route cannot go untested.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_scopes import scope

from vinculo.accounts.models import ApiToken, Invitation, Membership, Organization, Role, Team
from vinculo.accounts.services import api_token_create, invitation_create, team_create
from vinculo.accounts.testing import api_client_for, login_client, make_member
from vinculo.contacts.models import Company, Contact, ContactEmail, Note, Tag
from vinculo.contacts.services import company_create, contact_create, note_create, tag_create
from vinculo.core.models import AuditEntry, Event, OrgScopedModel
from vinculo.messaging import models as messaging
from vinculo.messaging.testing import make_subscription_type, record
from vinculo.sales import models as sales
from vinculo.sales.testing import make_deal, make_pipeline, make_product
from vinculo.touchpoints import models as tp

MARKER = "Forastero"  # in every name of the other organisation's data; must never show up

# Routes that take no organisation data (or find it by an unguessable secret).
PUBLIC_ROUTES = {
    "home",
    "accounts:login",
    "accounts:logout",
    "accounts:signup",
    "accounts:organization_create",
    "accounts:profile",
    "accounts:language",
    "accounts:password_change",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",  # by signed token; tested in accounts
    "accounts:password_reset_complete",
    "accounts:invitation_accept",  # by secret; a wrong secret is 404 (tested in accounts)
    "api:openapi-json",
    "api:openapi-view",
    "api:api-root",
    "api:not-found",
    "ical:feed",  # by secret; a wrong or rotated secret is 404 (tested in sales/tests/test_ical.py)
    # webhooks find their organisation by the integration's token in the address and must carry its
    # HMAC signature; an unknown or inactive token is 404 and a token of one organisation never
    # writes into another's data (vinculo/touchpoints/tests/test_webhooks.py)
    "public:webhook",
    "public:web_form_embed_script",  # the embed script: no organisation data
    # web forms find their organisation by the form's public key (or a signed confirmation link);
    # a wrong key or link is 404 and a key of one organisation never reaches another's data
    # (vinculo/touchpoints/tests/test_forms_public.py)
    "public:web_form_hosted",
    "public:web_form_embed",
    "public:web_form_submit",
    "public:web_form_confirm",
    # the tracker script: the same file for every site, no organisation data; its batches go to
    # /api/v1/track/batch, which finds the organisation by the site's public key in the body
    # (vinculo/touchpoints/tests/test_ingest.py: a wrong key is 401, org A's key never reaches org B)
    "public:tracker_script",
    # the snippet's settings (consent mode, Do-Not-Track) of the site named by the public key in the
    # query; nothing else of the organisation (vinculo/touchpoints/tests/test_consent_modes.py)
    "api:track_config",
}

# Exceptions to the naming rule: url name -> {path kwarg: kind}
ROUTE_OBJECTS: dict[str, dict[str, str]] = {
    "org:member_role": {"pk": "membership"},
    "org:member_remove": {"pk": "membership"},
}

KIND_BY_PREFIX = [
    ("contact", "contact"),
    ("company", "company"),
    ("note", "note"),
    ("tag", "tag"),
    ("team", "team"),
    ("invitation", "invitation"),
    ("api_token", "api_token"),
    ("member", "membership"),
    ("pipeline", "pipeline"),
    ("stage", "stage"),
    ("deal", "deal"),
    ("lead", "contact"),
    ("lost_reason", "lost_reason"),
    ("exchange_rate", "exchange_rate"),
    ("zone", "zone"),
    ("product", "product"),
    ("price_list_item", "price_list_item"),
    ("price_list", "price_list"),
    ("quote", "quote"),
    ("order", "order"),
    ("activity", "activity"),
    ("follow_up_rule", "follow_up_rule"),
    ("assignment_rule", "assignment_rule"),
    ("out_of_office", "out_of_office"),
    ("quota", "quota"),
    ("tracking_site", "tracking_site"),
    ("visitor", "visitor"),
    ("web_session", "web_session"),
    ("identity_conflict", "identity_conflict"),
    ("web_form", "web_form"),
    ("form_submission", "form_submission"),
    ("subscription_type", "subscription_type"),
    ("integration", "integration"),
    ("webhook_delivery", "webhook_delivery"),
    ("social_profile", "social_profile"),
    ("mailbox", "mailbox"),
    ("email_thread", "email_thread"),
    ("email_message", "email_message"),
]


def object_kind(url_name: str, kwarg: str) -> str:
    if url_name in ROUTE_OBJECTS and kwarg in ROUTE_OBJECTS[url_name]:
        return ROUTE_OBJECTS[url_name][kwarg]
    if kwarg.endswith("_id"):  # API: contact_id, company_id, note_id, tag_id, … (lead_id: a contact)
        kind = kwarg.removesuffix("_id")
        return dict(KIND_BY_PREFIX).get(kind, kind)
    if kwarg == "pk":
        short = url_name.split(":")[-1]
        for prefix, kind in KIND_BY_PREFIX:
            if short.startswith(prefix):
                return kind
    raise AssertionError(f"route {url_name}: cannot tell which record <{kwarg}> is; add it to ROUTE_OBJECTS")


def all_routes() -> list[tuple[str, str, list[str]]]:
    """(url name, regex-free route template, path kwargs) of every pattern."""
    found: list[tuple[str, str, list[str]]] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
                walk(p, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                name = f"{namespace}:{p.name}" if namespace else (p.name or "")
                route = prefix + str(p.pattern)
                kwargs = re.findall(r"<(?:\w+:)?(\w+)>", route)
                found.append((name, route, kwargs))

    walk(get_resolver(), "/", "")
    return found


def fill(route: str, values: dict[str, Any]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m[1]]), route).replace("^.*$", "x")


def _other_org_data(other: Membership) -> dict[str, Any]:
    org = other.organization
    teammate = make_member(org, Role.SALES, full_name=f"{MARKER} Teammate")
    with scope(organization=org):
        company = company_create(actor=other, data={"name": f"{MARKER} S.L.", "domain": "forastero.example"})
        contact = contact_create(
            actor=other,
            data={"first_name": MARKER, "last_name": "Uno", "emails": ["forastero@example.com"], "company": company.pk},
        )
        note = note_create(actor=other, contact=contact, body=f"{MARKER} note")
        tag = tag_create(actor=other, data={"name": f"{MARKER}-tag"})
        team = team_create(actor=other, name=f"{MARKER} team", member_ids=[teammate.pk])
        token = api_token_create(actor=other, name=f"{MARKER} token", scope="read_write").token
        invitation = invitation_create(actor=other, email="forastero-invite@example.com", role="sales").invitation
        sales_records = _other_org_sales(other, contact, company)
        sales_records.update(_other_org_touchpoints(other, contact))
        sales_records.update(_other_org_messaging(contact))
    return {
        **sales_records,
        "org_slug": org.slug,
        "contact": contact.pk,
        "company": company.pk,
        "note": note.pk,
        "tag": tag.pk,
        "team": team.pk,
        "api_token": token.pk,
        "invitation": invitation.pk,
        "membership": teammate.pk,
    }


def _other_org_sales(other: Membership, contact: Contact, company: Company) -> dict[str, int]:
    """One record of every sales kind, all named with the MARKER."""
    org = other.organization
    pipeline = make_pipeline(org, f"{MARKER} pipeline")
    stage = pipeline.stages.first()
    deal = make_deal(other, title=f"{MARKER} deal", contact=contact.pk, company=company.pk, amount="100")
    product = make_product(org, f"{MARKER} product")
    price_list_item = sales.PriceListItem.dangerously_unscoped.get(product=product)
    create = {
        "lost_reason": (sales.LostReason, {"name": f"{MARKER} reason"}),
        "exchange_rate": (sales.ExchangeRate, {"currency": "USD", "rate": "0.9", "valid_from": "2026-01-01"}),
        "zone": (sales.Zone, {"name": f"{MARKER} zone", "countries": ["ES"]}),
        "quote": (
            sales.Quote,
            {"number": "Q-FORASTERO", "contact": contact, "currency": "EUR", "notes": MARKER, "deal": deal},
        ),
        "order": (
            sales.Order,
            {
                "number": "O-FORASTERO",
                "contact": contact,
                "currency": "EUR",
                "notes": MARKER,
                "placed_at": deal.created_at,
            },
        ),
        "activity": (
            sales.Activity,
            {
                "subject": f"{MARKER} call",
                "due_at": deal.created_at,
                "assignee": other.user,
                "deal": deal,
                "contact": contact,
            },
        ),
        "follow_up_rule": (sales.FollowUpRule, {"stage": stage, "subject": f"{MARKER} follow-up"}),
        "assignment_rule": (sales.AssignmentRule, {"name": f"{MARKER} rule", "user": other.user}),
        "out_of_office": (sales.OutOfOffice, {"user": other.user, "starts_on": "2026-01-01", "ends_on": "2026-01-02"}),
        "quota": (sales.Quota, {"user": other.user, "starts_on": "2026-01-01", "amount": "1000"}),
    }
    records = {
        kind: model.dangerously_unscoped.create(organization=org, **fields).pk
        for kind, (model, fields) in create.items()
    }
    return {
        **records,
        "pipeline": pipeline.pk,
        "stage": stage.pk,
        "deal": deal.pk,
        "product": product.pk,
        "price_list": price_list_item.price_list_id,
        "price_list_item": price_list_item.pk,
    }


def _other_org_touchpoints(other: Membership, contact: Contact) -> dict[str, int]:
    """One record of every touchpoints kind, all named with the MARKER."""
    org = other.organization
    now = contact.created_at
    site = tp.TrackingSite.dangerously_unscoped.create(organization=org, name=f"{MARKER} site")
    visitor = tp.Visitor.dangerously_unscoped.create(
        organization=org, anonymous_id="anon-forastero", site=site, contact=contact, first_seen_at=now, last_seen_at=now
    )
    session = tp.WebSession.dangerously_unscoped.create(
        organization=org, visitor=visitor, contact=contact, started_at=now, last_event_at=now, campaign=MARKER
    )
    other_contact = contact_create(actor=other, data={"first_name": MARKER, "last_name": "Dos"})
    conflict = tp.IdentityConflict.dangerously_unscoped.create(
        organization=org,
        visitor=visitor,
        contact=contact,
        other_contact=other_contact,
        identifier="forastero@example.com",
    )
    form = tp.WebForm.dangerously_unscoped.create(
        organization=org, name=f"{MARKER} form", fields=[{"name": "email", "label": "E-mail", "type": "email"}]
    )
    submission = tp.FormSubmission.dangerously_unscoped.create(
        organization=org, form=form, contact=contact, data={"email": "forastero@example.com", "name": MARKER}
    )
    integration = tp.Integration.dangerously_unscoped.create(
        organization=org, kind=tp.IntegrationKind.SHOPIFY, name=f"{MARKER} shop"
    )
    delivery = tp.WebhookDelivery.dangerously_unscoped.create(
        organization=org, integration=integration, external_id="forastero-1", body={"name": MARKER}
    )
    profile = tp.SocialProfile.dangerously_unscoped.create(
        organization=org, contact=contact, network="linkedin", handle=MARKER.lower()
    )
    mailbox = tp.Mailbox.dangerously_unscoped.create(
        organization=org,
        name=f"{MARKER} inbox",
        email_address="forastero@example.com",
        host="imap.example.com",
        username="forastero",
    )
    thread = tp.EmailThread.dangerously_unscoped.create(
        organization=org, subject=f"{MARKER} thread", last_message_at=now
    )
    thread.contacts.add(contact)
    message = tp.EmailMessage.dangerously_unscoped.create(
        organization=org,
        thread=thread,
        mailbox=mailbox,
        direction="in",
        message_id="<forastero@example.com>",
        from_address="forastero@example.com",
        subject=f"{MARKER} mail",
        text_body=MARKER,
        sent_at=now,
    )
    message.contacts.add(contact)
    return {
        "tracking_site": site.pk,
        "visitor": visitor.pk,
        "web_session": session.pk,
        "identity_conflict": conflict.pk,
        "web_form": form.pk,
        "form_submission": submission.pk,
        "integration": integration.pk,
        "webhook_delivery": delivery.pk,
        "social_profile": profile.pk,
        "mailbox": mailbox.pk,
        "email_thread": thread.pk,
        "email_message": message.pk,
    }


def _other_org_messaging(contact: Contact) -> dict[str, int]:
    """A subscription type of the other organisation, with a consent of its contact."""
    subscription_type = make_subscription_type(contact.organization, "newsletter", name=f"{MARKER} news")
    record(contact, subscription_type)
    return {"subscription_type": subscription_type.pk}


def _org_models(module: Any) -> list[Any]:
    return [
        model
        for model in vars(module).values()
        if isinstance(model, type) and issubclass(model, OrgScopedModel) and not model._meta.abstract
    ]


SALES_MODELS = _org_models(sales)
TOUCHPOINTS_MODELS = _org_models(tp)
MESSAGING_MODELS = _org_models(messaging)


def _state_of(org: Organization) -> str:
    """Everything the organisation owns, with change stamps, to prove nothing changed."""
    rows: dict[str, Any] = {}
    for model in (
        Contact,
        Company,
        Note,
        Tag,
        Team,
        ApiToken,
        Invitation,
        ContactEmail,
        Event,
        AuditEntry,
        *SALES_MODELS,
        *TOUCHPOINTS_MODELS,
        *MESSAGING_MODELS,
    ):
        rows[model.__name__] = sorted(
            (obj["id"], str(obj.get("updated_at")), str(obj.get("revoked_at", "")))
            for obj in model.dangerously_unscoped.filter(organization=org).values()
        )
    rows["members"] = sorted(Membership.objects.filter(organization=org).values_list("id", "role"))
    rows["tags_of_contacts"] = sorted(
        Contact.tags.through.objects.filter(contact__organization=org).values_list("contact_id", "tag_id")
    )
    return json.dumps(rows, default=str)


def _request(client: Client, method: str, url: str) -> int:
    """A request with a body that would be valid for the route, so that only existence decides."""
    if "/notes" in url:
        body = json.dumps({"body": "x"})
    elif "/consents" in url:
        body = json.dumps({"subscription_type": "newsletter", "granted": False})
    else:
        body = json.dumps({})
    kwargs: dict[str, Any] = {}
    if method in ("post", "patch", "put"):
        if url.startswith("/api/"):
            kwargs = {"data": body, "content_type": "application/json"}
        else:
            kwargs = {
                "data": {
                    "name": "x",
                    "first_name": "x",
                    "body": "x",
                    "role": "admin",
                    "action": "delete",
                    "ids": ["1"],
                    "confirm": "1",
                    "subscription_type": "newsletter",
                }
            }
    response = getattr(client, method)(url, **kwargs)
    return response.status_code


@pytest.mark.django_db
def test_every_route_is_covered_by_the_tenancy_walker():
    unknown = []
    for name, route, kwargs in all_routes():
        if name in PUBLIC_ROUTES:
            continue
        if not (route.startswith(("/o/", "/api/"))):
            unknown.append(name or route)
            continue
        for kwarg in kwargs:
            if kwarg != "org_slug":
                object_kind(name, kwarg)  # raises for an unmapped id
    assert unknown == [], f"routes outside /o/ and /api/ must be listed in PUBLIC_ROUTES: {unknown}"


@pytest.mark.django_db
def test_other_organisations_ids_answer_404_everywhere_and_change_nothing(actor, other_actor):
    other = _other_org_data(other_actor)
    before = _state_of(other_actor.organization)
    page_client = login_client(actor)
    api_client = api_client_for(actor)
    checked = 0
    for name, route, kwargs in all_routes():
        object_kwargs = [k for k in kwargs if k != "org_slug"]
        if name in PUBLIC_ROUTES or not object_kwargs:
            continue
        values = {k: other[object_kind(name, k)] for k in object_kwargs}
        values["org_slug"] = actor.organization.slug  # my organisation, their record
        url = fill(route, values)
        client = api_client if url.startswith("/api/") else page_client
        statuses = {m: _request(client, m, url) for m in ("get", "post", "patch", "put", "delete")}
        assert set(statuses.values()) <= {404, 405}, f"{name} {url}: {statuses}"
        assert 404 in statuses.values(), f"{name} {url}: {statuses}"
        missing_url = fill(route, {**dict.fromkeys(object_kwargs, 987654321), "org_slug": actor.organization.slug})
        missing = {m: _request(client, m, missing_url) for m in ("get", "post", "patch", "put", "delete")}
        assert statuses == missing, f"{name}: another organisation's id must answer exactly like a missing one"
        checked += 1
    assert checked >= 30
    assert _state_of(other_actor.organization) == before


@pytest.mark.django_db
def test_another_organisations_slug_answers_404_on_every_page(actor, other_actor):
    other = _other_org_data(other_actor)
    before = _state_of(other_actor.organization)
    client = login_client(actor)
    checked = 0
    for name, route, kwargs in all_routes():
        if not route.startswith("/o/"):
            continue
        values = {k: other[object_kind(name, k)] for k in kwargs if k != "org_slug"}
        values["org_slug"] = other["org_slug"]
        url = fill(route, values)
        for method in ("get", "post"):
            status = _request(client, method, url)
            assert status == 404, f"{name} {method.upper()} {url}: {status}"
        checked += 1
    assert checked >= 20
    assert _state_of(other_actor.organization) == before


@pytest.mark.django_db
def test_no_list_or_search_shows_another_organisations_data(actor, other_actor):
    _other_org_data(other_actor)
    with scope(organization=actor.organization):
        contact_create(actor=actor, data={"first_name": "Propio", "last_name": "Uno"})
    page_client = login_client(actor)
    api_client = api_client_for(actor)
    checked = 0
    for name, route, kwargs in all_routes():
        if name in PUBLIC_ROUTES or [k for k in kwargs if k != "org_slug"]:
            continue
        url = fill(route, {"org_slug": actor.organization.slug})
        client = api_client if url.startswith("/api/") else page_client
        for query in ("", "?q=forast", "?q=uno", "?q=teammate"):  # parts of the marked names
            response = client.get(url + query)
            assert response.status_code in (200, 302, 405), f"{name} {url}{query}: {response.status_code}"
            assert MARKER.lower() not in response.content.decode().lower(), (
                f"{name} {url}{query} shows another organisation's data"
            )
        checked += 1
    assert checked >= 10


@pytest.mark.django_db
def test_a_token_only_reaches_its_own_organisation(actor, other_actor):
    other = _other_org_data(other_actor)
    with scope(organization=actor.organization):
        mine = contact_create(actor=actor, data={"first_name": "Propio"})
    client = api_client_for(actor)
    assert client.get(f"/api/v1/contacts/{mine.pk}").status_code == 200
    assert client.get(f"/api/v1/contacts/{other['contact']}").status_code == 404
    # a header naming another organisation does not switch a token's organisation
    response = client.get(f"/api/v1/contacts/{other['contact']}", headers={"X-Organization": other["org_slug"]})
    assert response.status_code == 404
