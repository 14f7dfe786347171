"""Every route of Vínculo and one record of every kind: what the walkers over all pages use.

`all_routes()` lists every URL pattern; `object_kind(url_name, kwarg)` says which kind of record a
path argument takes (ROUTE_OBJECTS, or the naming rule of KIND_BY_PREFIX), and fails for a route
it cannot tell, so that a new route is never skipped silently; `one_of_every_kind(membership,
label)` makes one record of each kind in the member's organisation (names carry the label) and
returns their ids by kind, for `fill(route, values)`. The tenancy walker (tests/test_tenancy.py)
and the Content-Security-Policy page walk (tests/browser/test_content_security_policy.py) use them.
"""

from __future__ import annotations

import re
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from django_scopes import scope

from vinculo.accounts.models import Membership, Role
from vinculo.accounts.services import api_token_create, invitation_create, team_create
from vinculo.accounts.testing import make_member
from vinculo.contacts.models import Company, Contact
from vinculo.contacts.saved_views import saved_view_create
from vinculo.contacts.services import company_create, contact_create, note_create, tag_create
from vinculo.messaging.attachments import attachment_store
from vinculo.messaging.notification_kinds import MENTIONED
from vinculo.messaging.services.notifications import notify
from vinculo.messaging.services.outgoing import Attachment, message_queue
from vinculo.messaging.services.suppression import suppression_add
from vinculo.messaging.testing import make_subscription_type, record
from vinculo.sales import models as sales
from vinculo.sales.testing import make_deal, make_pipeline, make_product
from vinculo.touchpoints import models as tp

# Routes that take no organisation data (or find it by an unguessable secret).
PUBLIC_ROUTES = {
    "home",
    "favicon",  # a redirect to the app icon
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
    # the preference centre and one-click unsubscribe find organisation and contact by a signed
    # token; a tampered token or one naming another organisation's contact or type is 404
    # (vinculo/messaging/tests/test_preferences.py)
    "unsubscribe:preferences",
    "unsubscribe:one_click",
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
    ("saved_view", "saved_view"),
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
    ("suppressed_address", "suppressed_address"),
    ("integration", "integration"),
    ("webhook_delivery", "webhook_delivery"),
    ("social_profile", "social_profile"),
    ("mailbox", "mailbox"),
    ("email_thread", "email_thread"),
    ("email_message", "email_message"),
    ("email_attachment", "email_attachment"),
    ("outgoing_attachment", "outgoing_attachment"),
    ("outbox_message", "outgoing_message"),
    ("outbox_attachment", "outgoing_attachment"),
    ("notification", "notification"),
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


def one_of_every_kind(membership: Membership, label: str) -> dict[str, Any]:
    """One record of every kind in the member's organisation, their ids by kind (and the invitation's link)."""
    org = membership.organization
    teammate = make_member(org, Role.SALES, full_name=f"{label} Teammate")
    with scope(organization=org):
        tag = tag_create(actor=membership, data={"name": f"{label}-tag", "color": "#ffd700"})
        company = company_create(
            actor=membership, data={"name": f"{label} S.L.", "domain": f"{label.lower()}.example", "tags": [tag.name]}
        )
        contact = contact_create(
            actor=membership,
            data={
                "first_name": label,
                "last_name": "Uno",
                "emails": [f"{label.lower()}@example.com"],
                "company": company.pk,
                "tags": [tag.name],
            },
        )
        note = note_create(actor=membership, contact=contact, body=f"{label} note")
        # shared with the whole organisation, so that only the organisation keeps it from others
        saved_view = saved_view_create(
            actor=membership,
            data={"kind": "contacts", "name": f"{label} view", "sharing": "organization", "filters": {"q": label}},
        )
        team = team_create(actor=membership, name=f"{label} team", member_ids=[teammate.pk])
        token = api_token_create(actor=membership, name=f"{label} token", scope="read_write").token
        invited = invitation_create(actor=membership, email=f"{label.lower()}-invite@example.com", role="sales")
        records = _sales_records(membership, contact, company, label)
        records.update(_touchpoints_records(membership, contact, label))
        records.update(_messaging_records(contact, label))
        records["notification"] = _notification(membership, contact, label)
    return {
        **records,
        "org_slug": org.slug,
        "contact": contact.pk,
        "company": company.pk,
        "note": note.pk,
        "tag": tag.pk,
        "saved_view": saved_view.pk,
        "team": team.pk,
        "api_token": token.pk,
        "invitation": invited.invitation.pk,
        "invitation_url": invited.url,
        "membership": teammate.pk,
    }


def _sales_records(membership: Membership, contact: Contact, company: Company, label: str) -> dict[str, int]:
    """One record of every sales kind, all named with the label."""
    org = membership.organization
    pipeline = make_pipeline(org, f"{label} pipeline")
    stage = pipeline.stages.first()
    deal = make_deal(membership, title=f"{label} deal", contact=contact.pk, company=company.pk, amount="100")
    product = make_product(org, f"{label} product")
    price_list_item = sales.PriceListItem.dangerously_unscoped.get(product=product)
    create = {
        "lost_reason": (sales.LostReason, {"name": f"{label} reason"}),
        "exchange_rate": (sales.ExchangeRate, {"currency": "USD", "rate": "0.9", "valid_from": "2026-01-01"}),
        "zone": (sales.Zone, {"name": f"{label} zone", "countries": ["ES"]}),
        "quote": (
            sales.Quote,
            {"number": f"Q-{label.upper()}", "contact": contact, "currency": "EUR", "notes": label, "deal": deal},
        ),
        "order": (
            sales.Order,
            {
                "number": f"O-{label.upper()}",
                "contact": contact,
                "currency": "EUR",
                "notes": label,
                "placed_at": deal.created_at,
            },
        ),
        "activity": (
            sales.Activity,
            {
                "subject": f"{label} call",
                "due_at": deal.created_at,
                "assignee": membership.user,
                "deal": deal,
                "contact": contact,
            },
        ),
        "follow_up_rule": (sales.FollowUpRule, {"stage": stage, "subject": f"{label} follow-up"}),
        "assignment_rule": (sales.AssignmentRule, {"name": f"{label} rule", "user": membership.user}),
        "out_of_office": (
            sales.OutOfOffice,
            {"user": membership.user, "starts_on": "2026-01-01", "ends_on": "2026-01-02"},
        ),
        "quota": (sales.Quota, {"user": membership.user, "starts_on": "2026-01-01", "amount": "1000"}),
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


def _touchpoints_records(membership: Membership, contact: Contact, label: str) -> dict[str, int]:
    """One record of every touchpoints kind, all named with the label."""
    org = membership.organization
    now = contact.created_at
    site = tp.TrackingSite.dangerously_unscoped.create(organization=org, name=f"{label} site")
    visitor = tp.Visitor.dangerously_unscoped.create(
        organization=org,
        anonymous_id=f"anon-{label.lower()}",
        site=site,
        contact=contact,
        first_seen_at=now,
        last_seen_at=now,
    )
    session = tp.WebSession.dangerously_unscoped.create(
        organization=org, visitor=visitor, contact=contact, started_at=now, last_event_at=now, campaign=label
    )
    other_contact = contact_create(actor=membership, data={"first_name": label, "last_name": "Dos"})
    conflict = tp.IdentityConflict.dangerously_unscoped.create(
        organization=org,
        visitor=visitor,
        contact=contact,
        other_contact=other_contact,
        identifier=f"{label.lower()}@example.com",
    )
    form = tp.WebForm.dangerously_unscoped.create(
        organization=org, name=f"{label} form", fields=[{"name": "email", "label": "E-mail", "type": "email"}]
    )
    submission = tp.FormSubmission.dangerously_unscoped.create(
        organization=org, form=form, contact=contact, data={"email": f"{label.lower()}@example.com", "name": label}
    )
    integration = tp.Integration.dangerously_unscoped.create(
        organization=org, kind=tp.IntegrationKind.SHOPIFY, name=f"{label} shop"
    )
    lead_fetch = tp.LeadFetch.dangerously_unscoped.create(
        organization=org, integration=integration, lead_id=f"{label}-lead-1"
    )
    delivery = tp.WebhookDelivery.dangerously_unscoped.create(
        organization=org, integration=integration, external_id=f"{label.lower()}-1", body={"name": label}
    )
    profile = tp.SocialProfile.dangerously_unscoped.create(
        organization=org, contact=contact, network="linkedin", handle=label.lower()
    )
    mailbox = tp.Mailbox.dangerously_unscoped.create(
        organization=org,
        name=f"{label} inbox",
        email_address=f"{label.lower()}@example.com",
        host="imap.example.com",
        username=f"{label.lower()}",
    )
    thread = tp.EmailThread.dangerously_unscoped.create(
        organization=org, subject=f"{label} thread", last_message_at=now
    )
    thread.contacts.add(contact)
    message = tp.EmailMessage.dangerously_unscoped.create(
        organization=org,
        thread=thread,
        mailbox=mailbox,
        direction="in",
        message_id=f"<{label.lower()}@example.com>",
        from_address=f"{label.lower()}@example.com",
        subject=f"{label} mail",
        text_body=label,
        sent_at=now,
    )
    message.contacts.add(contact)
    attachment = tp.EmailAttachment.dangerously_unscoped.create(
        organization=org,
        message=message,
        filename=f"{label}.pdf",
        content_type="application/pdf",
        size=4,
        file=attachment_store(f"attachments/{org.pk}/email/{message.pk}/1", b"%PDF"),
    )
    return {
        "tracking_site": site.pk,
        "visitor": visitor.pk,
        "web_session": session.pk,
        "identity_conflict": conflict.pk,
        "web_form": form.pk,
        "form_submission": submission.pk,
        "integration": integration.pk,
        "webhook_delivery": delivery.pk,
        "lead_fetch": lead_fetch.pk,
        "social_profile": profile.pk,
        "mailbox": mailbox.pk,
        "email_thread": thread.pk,
        "email_message": message.pk,
        "email_attachment": attachment.pk,
    }


def _messaging_records(contact: Contact, label: str) -> dict[str, int]:
    """A subscription type of the membership organisation, with a consent of its contact; an e-mail
    sent to the contact with a file."""
    subscription_type = make_subscription_type(contact.organization, "newsletter", name=f"{label} news")
    record(contact, subscription_type)
    sent = message_queue(
        organization=contact.organization,
        to=contact.email,
        contact=contact,
        subject=f"{label} quote",
        text=label,
        html=f"<p>{label}</p>",
        attachments=[Attachment(f"{label}.pdf", b"%PDF", "application/pdf")],
    )
    suppressed = suppression_add(
        organization=contact.organization, address=f"{label.lower()}-bounced@example.com", reason="hard_bounce"
    )
    return {
        "subscription_type": subscription_type.pk,
        "suppressed_address": suppressed.pk,
        "outgoing_attachment": sent.attachments.get().pk,
        "outgoing_message": sent.pk,
    }


def _notification(membership: Membership, contact: Contact, label: str) -> int:
    """A notification of the member (a mention by a teammate on the contact), unread."""
    found = notify(
        organization=membership.organization,
        recipient=membership.user,
        kind=MENTIONED,
        key=f"site-map:{label}",
        url=f"/o/{membership.organization.slug}/contacts/{contact.pk}/",
        params={"actor": f"{label} Teammate", "record": str(contact), "detail": f"@{label} note"},
    )
    assert found is not None
    return found.pk
