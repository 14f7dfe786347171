"""Facebook and LinkedIn lead ads become contacts with source social and their campaign; consent
answers to one of the organisation's subscription types are recorded with their text (others stay on
the event); profile links are shown and edited on the contact's page."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django_scopes import scope

from vinculo.accounts.testing import login_client
from vinculo.contacts.models import Contact
from vinculo.contacts.services import contact_create
from vinculo.contacts.testing import make_contact
from vinculo.core.models import Event
from vinculo.core.testing import count_queries
from vinculo.messaging.models import Consent
from vinculo.messaging.testing import make_subscription_type
from vinculo.touchpoints.adapters import Lead, facebook, linkedin
from vinculo.touchpoints.models import LeadFetch, SocialProfile, WebhookDelivery
from vinculo.touchpoints.testing.webhooks import make_integration, payload, post

pytestmark = pytest.mark.django_db


def _contact(org, email):
    return Contact.dangerously_unscoped.get(organization=org, email=email)


def test_the_facebook_sample_gives_one_lead():
    assert facebook.to_leads(payload("facebook_leadgen.json")) == [
        Lead(
            external_id="987654321012345",
            answers={
                "full_name": "Lucía Fernández Gómez",
                "email": "Lucia.Fernandez@example.com",
                "phone_number": "+34 655 44 33 22",
                "company_name": "Fernández Consultores",
                "job_title": "Directora de compras",
                "city": "Valencia",
                "country": "ES",
            },
            occurred_at=dt.datetime(2026, 11, 29, 7, 6, 30, tzinfo=dt.UTC),
            campaign="Black Friday 2026",
            form_id="1234567890123456",
            ad_name="Black Friday carousel",
            consents=[{"key": "newsletter", "text": "", "granted": True}],
            profile_url="",
            details={"ad_id": "23851234567890123"},
        )
    ]


def test_the_linkedin_sample_gives_one_lead():
    [lead] = linkedin.to_leads(payload("linkedin_lead_form_response.json"))
    assert lead.external_id == "a3b0c9d2-0f4e-4e1a-9f7b-2c8d1e6f5a40"
    assert lead.answers == {
        "first_name": "Pedro",
        "last_name": "Martín",
        "email": "pedro.martin@example.com",
        "company_name": "Martín & Hijos",
        "job_title": "Head of Customer Experience",
        "country": "Spain",
        "linkedin_profile_link": "https://www.linkedin.com/in/pedro-martin-cx",
        "team_size": "51-200",
    }
    assert (lead.campaign, lead.profile_url, lead.occurred_at) == (
        "Q4 Webinar CX leaders",
        "https://www.linkedin.com/in/pedro-martin-cx",
        dt.datetime(2026, 11, 29, 7, 6, 40, tzinfo=dt.UTC),
    )
    assert lead.consents == [
        {"key": "linkedin_consent_3", "text": "I agree to receive marketing e-mails from Tienda Sol.", "granted": True}
    ]


def test_a_facebook_lead_becomes_a_social_contact_with_its_campaign(actor, django_capture_on_commit_callbacks):
    make_subscription_type(actor.organization, "newsletter")
    integration = make_integration(actor, "facebook_leads", name="FB page")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(integration, payload("facebook_leadgen.json"))
    assert response.status_code == 202
    contact = _contact(actor.organization, "lucia.fernandez@example.com")
    assert (contact.first_name, contact.last_name, contact.phone, contact.job_title, contact.city) == (
        "Lucía",
        "Fernández Gómez",
        "+34655443322",
        "Directora de compras",
        "Valencia",
    )
    assert (str(contact.country), contact.source, contact.lifecycle_stage) == ("ES", "social", "lead")
    assert contact.custom == {"campaign": "Black Friday 2026"}
    assert contact.company.name == "Fernández Consultores"
    event = Event.dangerously_unscoped.get(organization=actor.organization, type="lead.captured")
    assert (event.contact_id, event.source, event.message_id) == (
        contact.pk,
        "social",
        "facebook_leads:987654321012345",
    )
    assert event.occurred_at == dt.datetime(2026, 11, 29, 7, 6, 30, tzinfo=dt.UTC)
    assert event.properties == {
        "network": "facebook",
        "campaign": "Black Friday 2026",
        "ad_name": "Black Friday carousel",
        "form_id": "1234567890123456",
        "lead_id": "987654321012345",
        "integration": "FB page",
        "consents": [{"key": "newsletter", "granted": True, "recorded": True}],
        "ad_id": "23851234567890123",
    }
    consent = Consent.dangerously_unscoped.get(contact=contact)
    values = (consent.subscription_type.key, consent.status, consent.channel, consent.source, consent.form_name)
    assert values == ("newsletter", "granted", "form", "facebook", "1234567890123456")
    assert consent.text == "(consent text not given by facebook)"


def test_a_linkedin_lead_brings_its_profile_link_and_the_mapped_custom_field(
    actor, client_in, django_capture_on_commit_callbacks
):
    integration = make_integration(
        actor, "linkedin_leads", field_mapping={"team_size": "custom.team_size"}, default_campaign="LinkedIn always-on"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post(integration, payload("linkedin_lead_form_response.json")).status_code == 202
    contact = _contact(actor.organization, "pedro.martin@example.com")
    assert (contact.first_name, contact.last_name, contact.job_title, str(contact.country), contact.source) == (
        "Pedro",
        "Martín",
        "Head of Customer Experience",
        "ES",
        "social",
    )
    assert contact.custom == {"team_size": "51-200", "campaign": "Q4 Webinar CX leaders"}
    profile = SocialProfile.dangerously_unscoped.get(contact=contact)
    assert (profile.network, profile.url) == ("linkedin", "https://www.linkedin.com/in/pedro-martin-cx")
    # no subscription type has the key "linkedin_consent_3": the answer stays on the event only
    assert not Consent.dangerously_unscoped.filter(contact=contact).exists()
    event = Event.dangerously_unscoped.get(contact=contact, type="lead.captured")
    assert event.properties["consents"] == [{"key": "linkedin_consent_3", "granted": True, "recorded": False}]
    page = client_in.get(f"/o/{actor.organization.slug}/contacts/{contact.pk}/").content.decode()
    assert "Social profiles" in page
    assert 'href="https://www.linkedin.com/in/pedro-martin-cx"' in page
    assert "Lead captured from an ad" in page


def test_the_default_campaign_is_used_when_the_lead_names_none(actor, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "facebook_leads", default_campaign="Always-on FB")
    body = copy.deepcopy(payload("facebook_leadgen.json"))
    value = body["entry"][0]["changes"][0]["value"]
    del value["campaign_name"]
    with django_capture_on_commit_callbacks(execute=True):
        post(integration, body)
    contact = _contact(actor.organization, "lucia.fernandez@example.com")
    assert contact.custom == {"campaign": "Always-on FB"}
    assert (
        Event.dangerously_unscoped.get(type="lead.captured", contact=contact).properties["campaign"] == "Always-on FB"
    )


def test_an_existing_contact_is_updated_not_duplicated_and_keeps_its_source(actor, django_capture_on_commit_callbacks):
    with scope(organization=actor.organization):
        known = contact_create(
            actor=actor,
            data={"first_name": "Lucía", "last_name": "F.", "emails": ["lucia.fernandez@example.com"], "source": "web"},
        )
    integration = make_integration(actor, "facebook_leads")
    with django_capture_on_commit_callbacks(execute=True):
        post(integration, payload("facebook_leadgen.json"))
    known.refresh_from_db()
    assert Contact.dangerously_unscoped.filter(organization=actor.organization).count() == 1
    assert (known.last_name, known.source, known.job_title, known.custom) == (
        "F.",
        "web",
        "Directora de compras",
        {"campaign": "Black Friday 2026"},
    )


def test_a_lead_replayed_is_captured_once(actor, django_capture_on_commit_callbacks):
    make_subscription_type(actor.organization, "newsletter")
    integration = make_integration(actor, "facebook_leads")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            post(integration, payload("facebook_leadgen.json"))
    statuses = sorted(
        WebhookDelivery.dangerously_unscoped.filter(organization=actor.organization).values_list("status", flat=True)
    )
    assert statuses == ["duplicate", "duplicate", "processed"]
    assert Event.dangerously_unscoped.filter(organization=actor.organization, type="lead.captured").count() == 1
    assert Consent.dangerously_unscoped.filter(organization=actor.organization).count() == 1


def test_a_leadgen_change_whose_id_is_not_a_graph_id_is_422(actor):
    """A change without its answers is read from the Graph API (test_lead_fetch.py); its id goes into
    the API's address, so one that is not a Graph id is refused before anything is queued."""
    integration = make_integration(actor, "facebook_leads")
    body = copy.deepcopy(payload("facebook_leadgen.json"))
    value = body["entry"][0]["changes"][0]["value"]
    del value["field_data"]
    value["leadgen_id"] = "../me/accounts"
    response = post(integration, body)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "leads.0.leadgen_id", "message": "Not a Facebook lead id."}]
    delivery = WebhookDelivery.dangerously_unscoped.get(organization=actor.organization)
    assert (delivery.status, delivery.last_error) == ("failed", "leads.0.leadgen_id: Not a Facebook lead id.")
    assert not LeadFetch.dangerously_unscoped.filter(organization=actor.organization).exists()


@pytest.mark.parametrize(
    ("email", "message"),
    [(None, "The lead has no e-mail address."), ("not-an-address", "“not-an-address” is not a valid e-mail address.")],
)
def test_a_lead_without_a_usable_email_is_422(actor, email, message):
    integration = make_integration(actor, "facebook_leads")
    body = copy.deepcopy(payload("facebook_leadgen.json"))
    fields = body["entry"][0]["changes"][0]["value"]["field_data"]
    fields[:] = [f for f in fields if f["name"] != "email"]
    if email:
        fields.append({"name": "email", "values": [email]})
    response = post(integration, body)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "leads.0.email", "message": message}]
    assert Contact.dangerously_unscoped.filter(organization=actor.organization).count() == 0


def test_a_graph_api_lead_object_posted_as_is_is_accepted(actor, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "facebook_leads")
    body = {
        "id": "555000111",
        "created_time": "2026-11-29T08:00:00+0000",
        "field_data": [{"name": "email", "values": ["graph@example.com"]}, {"name": "first_name", "values": ["Gra"]}],
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert post(integration, body).status_code == 202
    assert _contact(actor.organization, "graph@example.com").first_name == "Gra"


# --- social profiles by hand ------------------------------------------------------------------------


@pytest.fixture
def contact(actor):
    """Ana, with an e-mail address (the shared `contact` has none)."""
    return make_contact(actor, first_name="Ana", emails=["ana@example.com"])


def test_staff_add_edit_and_remove_a_profile(actor, client_in, contact):
    base = f"/o/{actor.organization.slug}"
    assert client_in.get(f"{base}/contacts/{contact.pk}/social-profiles/new/").status_code == 200
    response = client_in.post(
        f"{base}/contacts/{contact.pk}/social-profiles/new/",
        {"network": "x", "url": "https://x.com/ana", "handle": "@ana"},
    )
    assert response.status_code == 302
    profile = SocialProfile.dangerously_unscoped.get(contact=contact)
    assert (profile.network, profile.url, profile.handle) == ("x", "https://x.com/ana", "ana")
    page = client_in.get(f"{base}/contacts/{contact.pk}/").content.decode()
    assert 'href="https://x.com/ana"' in page
    response = client_in.post(
        f"{base}/social-profiles/{profile.pk}/edit/", {"network": "x", "url": "", "handle": "ana2"}
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.url, profile.handle) == ("", "ana2")
    assert client_in.post(f"{base}/social-profiles/{profile.pk}/delete/").status_code == 302
    assert not SocialProfile.dangerously_unscoped.filter(contact=contact).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"network": "myspace", "url": "https://myspace.com/ana"},
            "Choose one of linkedin, facebook, instagram, x, tiktok, youtube, github, other.",
        ),
        ({"network": "linkedin", "url": "javascript:alert(1)"}, "Enter a web address starting with https://."),
        ({"network": "linkedin", "url": "", "handle": ""}, "Give the profile&#x27;s address or user name."),
    ],
)
def test_a_bad_profile_is_refused_with_422_and_nothing_saved(actor, client_in, contact, data, message):
    response = client_in.post(f"/o/{actor.organization.slug}/contacts/{contact.pk}/social-profiles/new/", data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not SocialProfile.dangerously_unscoped.filter(contact=contact).exists()


def test_a_second_profile_on_the_same_network_is_refused(actor, client_in, contact):
    url = f"/o/{actor.organization.slug}/contacts/{contact.pk}/social-profiles/new/"
    client_in.post(url, {"network": "linkedin", "url": "https://www.linkedin.com/in/ana"})
    response = client_in.post(url, {"network": "linkedin", "url": "https://www.linkedin.com/in/ana-2"})
    assert response.status_code == 422
    assert "This contact already has a linkedin profile." in response.content.decode()
    assert SocialProfile.dangerously_unscoped.filter(contact=contact).count() == 1


def test_a_read_only_member_sees_profiles_but_cannot_change_them(actor, member, contact):
    with scope(organization=actor.organization):
        SocialProfile.objects.create(organization=actor.organization, contact=contact, network="github", handle="ana")
    reader = login_client(member(role="read_only"))
    page = reader.get(f"/o/{actor.organization.slug}/contacts/{contact.pk}/").content.decode()
    assert "Social profiles" in page
    assert "social-profiles/new/" not in page
    response = reader.post(
        f"/o/{actor.organization.slug}/contacts/{contact.pk}/social-profiles/new/", {"network": "x", "handle": "a"}
    )
    assert response.status_code == 403
    assert SocialProfile.dangerously_unscoped.filter(contact=contact).count() == 1


def test_the_api_lists_creates_updates_and_deletes_profiles(actor, api_client, contact):
    response = api_client.post(
        f"/api/v1/contacts/{contact.pk}/social-profiles",
        {"network": "linkedin", "url": "https://www.linkedin.com/in/ana"},
        content_type="application/json",
    )
    assert response.status_code == 201
    profile_id = response.json()["id"]
    assert response.json() == {
        "id": profile_id,
        "contact_id": contact.pk,
        "network": "linkedin",
        "url": "https://www.linkedin.com/in/ana",
        "handle": "",
    }
    assert api_client.get(f"/api/v1/contacts/{contact.pk}/social-profiles").json() == [response.json()]
    bad = api_client.patch(f"/api/v1/social-profiles/{profile_id}", {"url": "ftp://x"}, content_type="application/json")
    assert bad.status_code == 422
    assert bad.json()["errors"] == [{"field": "url", "message": "Enter a web address starting with https://."}]
    ok = api_client.patch(f"/api/v1/social-profiles/{profile_id}", {"handle": "ana"}, content_type="application/json")
    assert ok.json()["handle"] == "ana"
    assert api_client.delete(f"/api/v1/social-profiles/{profile_id}").status_code == 204
    assert not SocialProfile.dangerously_unscoped.filter(contact=contact).exists()


def test_the_api_refuses_a_profile_without_a_network_and_another_organisations_contact(
    actor, other_actor, api_client, contact
):
    response = api_client.post(
        f"/api/v1/contacts/{contact.pk}/social-profiles", {"handle": "ana"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "network",
            "message": "Choose one of linkedin, facebook, instagram, x, tiktok, youtube, github, other.",
        }
    ]
    with scope(organization=other_actor.organization):
        theirs = contact_create(actor=other_actor, data={"first_name": "Otra"})
    response = api_client.post(
        f"/api/v1/contacts/{theirs.pk}/social-profiles",
        {"network": "x", "handle": "a"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not SocialProfile.dangerously_unscoped.exists()


def test_profiles_cost_the_same_queries_whatever_their_number(actor, client_in, api_client, contact):

    def count(client, url):
        client.get(url)  # the first request of a session may write it
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    page, api = f"/o/{actor.organization.slug}/contacts/{contact.pk}/", f"/api/v1/contacts/{contact.pk}/social-profiles"
    with scope(organization=actor.organization):
        SocialProfile.objects.create(organization=actor.organization, contact=contact, network="x", handle="a")
    before = (count(client_in, page), count(api_client, api))
    with scope(organization=actor.organization):
        for network in ("linkedin", "facebook", "github", "youtube"):
            SocialProfile.objects.create(organization=actor.organization, contact=contact, network=network, handle="a")
    assert (count(client_in, page), count(api_client, api)) == before
