"""Lead ads as the networks send them: Facebook's `leadgen` webhook and LinkedIn's `LEAD_ACTION`
notification carry ids only; each lead becomes a fetch job, read from a local stand-in of the
Graph API / LinkedIn API answering the networks' documented bodies (tests/payloads/lead_ads/), and
captured as a contact. Token refusals, rate limits, missing leads and an unreachable API each
lead to what the integration's page and the API show."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import json

import pytest
from django_scopes import scope

from vinculo.accounts.testing import free_port, login_client
from vinculo.contacts.models import Contact
from vinculo.core.models import Event
from vinculo.core.testing import count_queries
from vinculo.messaging.models import Consent
from vinculo.messaging.testing import make_subscription_type
from vinculo.touchpoints import crypto
from vinculo.touchpoints.adapters import facebook, hmac_sha256
from vinculo.touchpoints.models import Integration, LeadFetch, WebhookDelivery
from vinculo.touchpoints.services.lead_fetch import MAX_ATTEMPTS, fetch_due_leads, lead_fetch_run
from vinculo.touchpoints.services.webhooks import delivery_process
from vinculo.touchpoints.testing.webhooks import SECRET, make_integration, payload, post, raw

pytestmark = pytest.mark.django_db

FB_TOKEN = "EAAJZBqQ3ZCsBAPageAccessToken0123456789"
NEW_FB_TOKEN = "EAAJZBqQ3ZCsBANewPageAccessToken987654"
LI_TOKEN = "AQV1-linkedin_access.token-0123456789abcdef"
GRAPH = "/v25.0"
EXPIRED = (
    "Error validating access token: Session has expired on Wednesday, 14-Feb-18 18:00:00 PST. "
    "The current time is Thursday, 15-Feb-18 13:46:35 PST."
)
NOT_FOUND = (
    "Unsupported get request. Object with ID '123123123124' does not exist, cannot be loaded due to missing "
    "permissions, or does not support this operation. Please read the Graph API documentation at "
    "https://developers.facebook.com/docs/graph-api"
)
FACEBOOK_HELP = (
    "Generate a new Page access token for the Page that owns the lead forms (a long-lived or system-user "
    "token, with the permissions leads_retrieval, pages_manage_metadata, pages_show_list, "
    "pages_read_engagement and ads_management) and save it in this integration's settings. The leads "
    "waiting for it are read again at once."
)


def _fb(actor, **data):
    return make_integration(actor, "facebook_leads", name="FB page", access_token=FB_TOKEN, **data)


def _li(actor, **data):
    return make_integration(actor, "linkedin_leads", name="LinkedIn ads", access_token=LI_TOKEN, **data)


def _ping(index: int) -> dict:
    """Meta's documented webhook sample with only its `index`-th leadgen change."""
    body = copy.deepcopy(payload("lead_ads/facebook_leadgen_webhook.json"))
    body["entry"][0]["changes"] = [body["entry"][0]["changes"][index]]
    return body


def _fetches(org):
    return list(LeadFetch.dangerously_unscoped.filter(organization=org).order_by("id"))


def _contact(org, email):
    return Contact.dangerously_unscoped.get(organization=org, email=email)


def _captured(contact):
    return Event.dangerously_unscoped.get(contact=contact, type="lead.captured")


def _queued(integration, body, headers=None) -> LeadFetch:
    """Post a ping and process its delivery, without running the fetch job it queues (no worker)."""
    response = post(integration, body, headers=headers)
    assert response.status_code == 200
    delivery_process(delivery_id=response.json()["delivery_id"])
    [job] = _fetches(integration.organization)
    assert (job.state, job.attempts) == ("queued", 0)
    return job


def _linkedin_headers(body: bytes) -> dict[str, str]:
    """LinkedIn's documented signature: hex HMAC-SHA256 of "hmacsha256=" + the raw body."""
    return {"X-LI-Signature": hmac_sha256(SECRET, b"hmacsha256=" + body).hex()}


# --- Facebook ------------------------------------------------------------------------------------------


def test_the_documented_leadgen_webhook_is_answered_200_and_each_lead_read_from_the_graph_api(
    actor, client_in, lead_api, django_capture_on_commit_callbacks
):
    org = actor.organization
    make_subscription_type(org, "my_checkbox_1")
    integration = _fb(actor)
    lead_api.answer(f"{GRAPH}/123123123123", "facebook_graph_lead.json")
    lead_api.answer(f"{GRAPH}/123123123124", "facebook_graph_lead_all_fields.json")
    lead_api.answer(f"{GRAPH}/12312312312", "facebook_graph_form.json")

    with django_capture_on_commit_callbacks(execute=True):
        response = post(integration, raw("lead_ads/facebook_leadgen_webhook.json"))

    delivery = WebhookDelivery.dangerously_unscoped.get(organization=org)
    assert response.status_code == 200
    assert response.json() == {"detail": "Accepted.", "errors": [], "delivery_id": delivery.pk}
    assert (delivery.status, delivery.topic, delivery.external_id) == (
        "processed",
        "leadgen",
        "123123123123,123123123124",
    )
    fetches = _fetches(org)
    assert [(f.lead_id, f.form_id, f.state, f.attempts, f.last_error, f.delivery_id) for f in fetches] == [
        ("123123123123", "12312312312", "done", 1, "", delivery.pk),
        ("123123123124", "12312312312", "done", 1, "", delivery.pk),
    ]
    assert fetches[0].hint == {
        "page_id": "123123123",
        "ad_id": "12312312312",
        "adgroup_id": "12312312312",
        "created_time": "2015-08-21T01:26:24+00:00",
    }
    # the Graph API was asked for each lead and its form, with the Page token and the app secret proof
    assert lead_api.paths() == [
        f"{GRAPH}/123123123123",
        f"{GRAPH}/12312312312",
        f"{GRAPH}/123123123124",
        f"{GRAPH}/12312312312",
    ]
    proof = hmac.new(SECRET.encode(), FB_TOKEN.encode(), hashlib.sha256).hexdigest()
    assert [r.query for r in lead_api.requests] == [
        {"fields": facebook.GRAPH_LEAD_FIELDS, "appsecret_proof": proof},
        {"fields": facebook.GRAPH_FORM_FIELDS, "appsecret_proof": proof},
    ] * 2
    assert facebook.GRAPH_LEAD_FIELDS == (
        "id,created_time,ad_id,ad_name,adset_id,adset_name,campaign_id,campaign_name,form_id,"
        "field_data,custom_disclaimer_responses,is_organic,platform"
    )
    assert {r.headers["authorization"] for r in lead_api.requests} == {f"Bearer {FB_TOKEN}"}
    assert all("access_token" not in r.query for r in lead_api.requests)

    joe = _contact(org, "joe@example.com")
    assert (joe.first_name, joe.last_name, joe.source, joe.lifecycle_stage, joe.custom) == (
        "Joe",
        "Example",
        "social",
        "lead",
        {},
    )
    assert fetches[0].contact_id == joe.pk
    event = _captured(joe)
    assert (event.message_id, event.occurred_at) == (
        "facebook_leads:123123123123",
        dt.datetime(2015, 2, 28, 8, 49, 14, tzinfo=dt.UTC),
    )
    assert event.properties == {
        "network": "facebook",
        "campaign": "",
        "ad_name": "",
        "form_id": "12312312312",
        "lead_id": "123123123123",
        "integration": "FB page",
        "consents": [],
        "form_name": "Test drive request",
        "ad_id": "12312312312",
    }

    lucia = _contact(org, "lucia.fernandez@example.com")
    assert (lucia.first_name, lucia.last_name, lucia.phone, lucia.city, lucia.custom) == (
        "Lucía",
        "Fernández Gómez",
        "+34655443322",
        "Valencia",
        {"campaign": "Spring test drives"},
    )
    page = client_in.get(f"/o/{org.slug}/settings/webhook-deliveries/{delivery.pk}/").content.decode()
    assert f"#lead-fetch-{fetches[1].pk}" in page
    assert "123123123124" in page
    assert _captured(lucia).properties == {
        "network": "facebook",
        "campaign": "Spring test drives",
        "ad_name": "Spring test drive - carousel",
        "form_id": "12312312312",
        "lead_id": "123123123124",
        "integration": "FB page",
        "consents": [
            {"key": "my_checkbox_1", "granted": True, "recorded": True},
            {"key": "my_checkbox_2", "granted": False, "recorded": False},
        ],
        "form_name": "Test drive request",
        "ad_id": "12312312312",
        "adset_id": "23849853425900183",
        "adset_name": "Spain 25-54",
        "campaign_id": "23849853425910183",
        "platform": "fb",
        "is_organic": False,
    }
    consent = Consent.dangerously_unscoped.get(contact=lucia)
    assert (
        consent.subscription_type.key,
        consent.status,
        consent.channel,
        consent.source,
        consent.form_name,
        consent.text,
    ) == ("my_checkbox_1", "granted", "form", "facebook", "Test drive request", "Send me news and offers by e-mail")


def test_the_same_ping_twice_is_one_job_and_one_contact(actor, lead_api, django_capture_on_commit_callbacks):
    """The App Dashboard's test ping (string ids), twice; the form cannot be read: the lead is
    captured all the same, without the form's name."""
    org = actor.organization
    integration = _fb(actor)
    lead_api.answer(f"{GRAPH}/444444444444", "facebook_graph_lead.json")
    lead_api.answer(f"{GRAPH}/12312312312", "facebook_error_not_found.json", status=400)

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert post(integration, raw("lead_ads/facebook_leadgen_dashboard_test.json")).status_code == 200

    statuses = sorted(WebhookDelivery.dangerously_unscoped.filter(organization=org).values_list("status", flat=True))
    assert statuses == ["duplicate", "processed"]
    assert [(f.lead_id, f.state, f.attempts) for f in _fetches(org)] == [("444444444444", "done", 1)]
    assert lead_api.paths() == [f"{GRAPH}/444444444444", f"{GRAPH}/12312312312"]
    assert Contact.dangerously_unscoped.filter(organization=org).count() == 1
    event = Event.dangerously_unscoped.get(organization=org, type="lead.captured")
    assert (event.message_id, event.properties["lead_id"], "form_name" in event.properties) == (
        "facebook_leads:444444444444",
        "444444444444",
        False,
    )


def test_a_relayed_lead_and_then_a_ping_for_it_are_one_capture_without_a_call(
    actor, lead_api, django_capture_on_commit_callbacks
):
    org = actor.organization
    integration = _fb(actor)
    ping = {
        "object": "page",
        "entry": [
            {
                "id": "153125381133",
                "time": 1795936100,
                "changes": [
                    {"field": "leadgen", "value": {"leadgen_id": "987654321012345", "form_id": "1234567890123456"}}
                ],
            }
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert post(integration, payload("facebook_leadgen.json")).status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        assert post(integration, ping).status_code == 200

    lucia = _contact(org, "lucia.fernandez@example.com")
    assert [(f.lead_id, f.state, f.contact_id) for f in _fetches(org)] == [("987654321012345", "done", lucia.pk)]
    assert lead_api.requests == []
    assert Event.dangerously_unscoped.filter(organization=org, type="lead.captured").count() == 1


def test_a_ping_and_then_the_same_lead_relayed_are_one_capture(actor, lead_api, django_capture_on_commit_callbacks):
    org = actor.organization
    integration = _fb(actor)
    lead_api.answer(f"{GRAPH}/123123123123", "facebook_graph_lead.json")
    lead_api.answer(f"{GRAPH}/12312312312", "facebook_graph_form.json")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(integration, _ping(0)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert post(integration, payload("lead_ads/facebook_graph_lead.json")).status_code == 202

    relayed = WebhookDelivery.dangerously_unscoped.filter(organization=org).order_by("id").last()
    assert relayed.status == "duplicate"
    assert Event.dangerously_unscoped.filter(organization=org, type="lead.captured").count() == 1
    assert Contact.dangerously_unscoped.filter(organization=org).count() == 1


def test_batched_pings_wait_for_an_access_token_when_none_is_saved(
    actor, client_in, django_capture_on_commit_callbacks
):
    """RudderStack's batched sample: three leads in two entries (and a change without a value)."""
    org = actor.organization
    integration = make_integration(actor, "facebook_leads")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(integration, raw("lead_ads/facebook_leadgen_batched.json"))
    assert response.status_code == 200
    waiting = "No access token is saved for this integration."
    assert [(f.lead_id, f.form_id, f.state, f.last_error) for f in _fetches(org)] == [
        ("1459076748710713", "1616801872291121", "waiting_token", waiting),
        ("1459076748710714", "1616801872291122", "waiting_token", waiting),
        ("1459076748710715", "1616801872291123", "waiting_token", waiting),
    ]
    page = client_in.get(f"/o/{org.slug}/settings/integrations/{integration.pk}/").content.decode()
    assert "not set" in page
    assert "No access token is saved: the leads the network announces by id wait until one is saved." in page
    assert "1459076748710715" in page


def test_an_expired_token_parks_the_jobs_and_a_new_token_resumes_them(
    actor, client_in, api_client, lead_api, django_capture_on_commit_callbacks
):
    org = actor.organization
    integration = _fb(actor)
    lead_api.answer(f"{GRAPH}/123123123123", "facebook_error_expired_token.json", status=400)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(integration, _ping(0)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert post(integration, _ping(1)).status_code == 200

    # the first job met the refusal; the second waited without calling
    assert [(f.lead_id, f.state, f.attempts, f.last_error) for f in _fetches(org)] == [
        ("123123123123", "waiting_token", 1, EXPIRED),
        ("123123123124", "waiting_token", 1, EXPIRED),
    ]
    assert lead_api.paths() == [f"{GRAPH}/123123123123"]
    assert not Contact.dangerously_unscoped.filter(organization=org).exists()
    integration.refresh_from_db()
    assert integration.token_error == EXPIRED
    assert integration.token_error_at is not None

    detail = api_client.get(f"/api/v1/integrations/{integration.pk}").json()
    assert (detail["token_status"], detail["token_error"], detail["access_token_set"], detail["token_help"]) == (
        "refused",
        EXPIRED,
        True,
        FACEBOOK_HELP,
    )
    page = client_in.get(f"/o/{org.slug}/settings/integrations/{integration.pk}/").content.decode()
    assert "refused the access token" in page
    assert EXPIRED in page
    assert FACEBOOK_HELP.replace("'", "&#x27;") in page
    assert "needs a new token" in client_in.get(f"/o/{org.slug}/settings/integrations/").content.decode()

    lead_api.answer(f"{GRAPH}/123123123123", "facebook_graph_lead.json")
    lead_api.answer(f"{GRAPH}/123123123124", "facebook_graph_lead_all_fields.json")
    lead_api.answer(f"{GRAPH}/12312312312", "facebook_graph_form.json")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.patch(
            f"/api/v1/integrations/{integration.pk}", {"access_token": NEW_FB_TOKEN}, content_type="application/json"
        )
    assert response.status_code == 200
    assert (response.json()["token_status"], response.json()["token_error"]) == ("saved", "")
    assert [(f.state, f.attempts, f.last_error) for f in _fetches(org)] == [("done", 1, ""), ("done", 1, "")]
    assert {r.headers["authorization"] for r in lead_api.requests[1:]} == {f"Bearer {NEW_FB_TOKEN}"}
    assert {c.email for c in Contact.dangerously_unscoped.filter(organization=org)} == {
        "joe@example.com",
        "lucia.fernandez@example.com",
    }


@pytest.mark.parametrize(
    ("fixture", "headers", "wait"),
    [
        (
            "facebook_error_rate_limited.json",
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {
                        "153125381133": [
                            {
                                "type": "pages",
                                "call_count": 100,
                                "total_cputime": 12,
                                "total_time": 14,
                                "estimated_time_to_regain_access": 7,
                            }
                        ]
                    }
                )
            },
            dt.timedelta(minutes=7),
        ),
        ("facebook_error_app_limit.json", {"Retry-After": "90"}, dt.timedelta(seconds=90)),
        ("facebook_error_app_limit.json", {}, dt.timedelta(minutes=1)),  # no wait given: the back-off
    ],
)
def test_a_rate_limited_read_is_retried_after_the_networks_wait(actor, lead_api, fixture, headers, wait):
    org = actor.organization
    integration = _fb(actor)
    lead_api.answer(f"{GRAPH}/123123123123", fixture, status=400, headers=headers)
    lead_api.answer(f"{GRAPH}/123123123123", "facebook_graph_lead.json")
    lead_api.answer(f"{GRAPH}/12312312312", "facebook_graph_form.json")
    job = _queued(integration, _ping(0))
    now = job.next_attempt_at

    lead_fetch_run(fetch_id=job.pk, now=now)
    job.refresh_from_db()
    message = payload(f"lead_ads/{fixture}")["error"]["message"]
    assert (job.state, job.attempts, job.next_attempt_at, job.last_error) == ("queued", 1, now + wait, message)

    lead_fetch_run(fetch_id=job.pk, now=now + wait - dt.timedelta(seconds=1))  # not due yet: no call
    assert len(lead_api.requests) == 1

    LeadFetch.dangerously_unscoped.filter(pk=job.pk).update(next_attempt_at=now - dt.timedelta(minutes=1))
    assert fetch_due_leads.call() == 1
    job.refresh_from_db()
    assert (job.state, job.attempts, job.last_error) == ("done", 2, "")
    assert _contact(org, "joe@example.com").source == "social"


def test_a_lead_not_found_fails_with_the_reason_shown_and_can_be_retried(
    actor, client_in, api_client, lead_api, django_capture_on_commit_callbacks
):
    org = actor.organization
    integration = _fb(actor)
    lead_api.answer(f"{GRAPH}/123123123124", "facebook_error_not_found.json", status=400)
    with django_capture_on_commit_callbacks(execute=True):
        post(integration, _ping(1))
    [job] = _fetches(org)
    assert (job.state, job.attempts, job.last_error) == ("failed", 1, NOT_FOUND)

    page = client_in.get(f"/o/{org.slug}/settings/integrations/{integration.pk}/").content.decode()
    assert NOT_FOUND.replace("'", "&#x27;") in page
    assert f'action="/o/{org.slug}/settings/lead-fetches/{job.pk}/retry/"' in page
    listed = api_client.get(f"/api/v1/integrations/{integration.pk}/lead-fetches?state=failed").json()
    assert [(item["lead_id"], item["state"], item["last_error"]) for item in listed["items"]] == [
        ("123123123124", "failed", NOT_FOUND)
    ]

    lead_api.answer(f"{GRAPH}/123123123124", "facebook_graph_lead_all_fields.json")
    lead_api.answer(f"{GRAPH}/12312312312", "facebook_graph_form.json")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_in.post(f"/o/{org.slug}/settings/lead-fetches/{job.pk}/retry/")
    assert response.status_code == 302
    assert response["Location"] == f"/o/{org.slug}/settings/integrations/{integration.pk}/#lead-fetch-{job.pk}"
    job.refresh_from_db()
    assert (job.state, job.attempts, job.last_error) == ("done", 1, "")
    assert job.contact == _contact(org, "lucia.fernandez@example.com")

    again = api_client.post(f"/api/v1/lead-fetches/{job.pk}/retry")
    assert again.status_code == 422
    assert again.json()["errors"] == [
        {"field": "state", "message": "Only a failed lead, or one waiting for a token, can be retried."}
    ]


def test_the_webhook_answers_200_when_the_api_is_down_and_the_job_backs_off(
    actor, settings, django_capture_on_commit_callbacks
):
    org = actor.organization
    settings.VINCULO_FACEBOOK_GRAPH_URL = f"http://127.0.0.1:{free_port()}/v25.0"  # nobody listens there
    integration = _fb(actor)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(integration, _ping(0))
    assert response.status_code == 200
    [job] = _fetches(org)
    assert (job.state, job.attempts, job.last_error) == ("queued", 1, "Could not connect to Facebook.")
    assert not Contact.dangerously_unscoped.filter(organization=org).exists()

    now = job.next_attempt_at
    lead_fetch_run(fetch_id=job.pk, now=now)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.next_attempt_at) == ("queued", 2, now + dt.timedelta(minutes=5))

    LeadFetch.dangerously_unscoped.filter(pk=job.pk).update(attempts=MAX_ATTEMPTS - 1)
    lead_fetch_run(fetch_id=job.pk, now=job.next_attempt_at)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.last_error) == (
        "failed",
        MAX_ATTEMPTS,
        f"Could not connect to Facebook.\nGave up after {MAX_ATTEMPTS} attempts.",
    )


def test_a_job_whose_worker_died_while_reading_is_run_again_by_the_sweep(actor, lead_api):
    integration = _fb(actor)
    lead_api.answer(f"{GRAPH}/123123123123", "facebook_graph_lead.json")
    lead_api.answer(f"{GRAPH}/12312312312", "facebook_graph_form.json")
    job = _queued(integration, _ping(0))
    LeadFetch.dangerously_unscoped.filter(pk=job.pk).update(
        state="fetching", attempts=1, next_attempt_at=job.next_attempt_at - dt.timedelta(minutes=3)
    )
    assert fetch_due_leads.call() == 1
    job.refresh_from_db()
    assert (job.state, job.attempts) == ("done", 2)


# --- LinkedIn ------------------------------------------------------------------------------------------


def test_a_linkedin_notification_reads_the_response_and_its_form(actor, lead_api, django_capture_on_commit_callbacks):
    org = actor.organization
    make_subscription_type(org, "linkedin_consent_0")
    integration = _li(
        actor,
        field_mapping={"custom_question_0": "custom.favourite_colour", "custom_question_1": "custom.grew_up_in"},
        default_campaign="LinkedIn Q4",
    )
    lead_api.answer("/rest/leadFormResponses/1a2b3c-4", "linkedin_lead_form_response.json")
    lead_api.answer("/rest/leadForms/7234246", "linkedin_lead_form.json")
    body = raw("lead_ads/linkedin_lead_notification.json")

    with django_capture_on_commit_callbacks(execute=True):
        response = post(integration, body, headers=_linkedin_headers(body))

    assert response.status_code == 200
    delivery = WebhookDelivery.dangerously_unscoped.get(organization=org)
    assert (delivery.status, delivery.topic, delivery.external_id) == ("processed", "lead.created", "1a2b3c-4")
    [job] = _fetches(org)
    assert (job.lead_id, job.form_id, job.state, job.attempts) == ("1a2b3c-4", "1", "done", 1)
    assert job.hint == {
        "form": "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:1, 1)",
        "owner": "urn:li:sponsoredAccount:123",
        "lead_type": "SPONSORED",
        "occurred_at": "2023-06-07T23:59:18.881000+00:00",
    }
    assert lead_api.paths() == ["/rest/leadFormResponses/1a2b3c-4", "/rest/leadForms/7234246"]
    for request in lead_api.requests:
        assert (
            request.headers["authorization"],
            request.headers["linkedin-version"],
            request.headers["x-restli-protocol-version"],
        ) == (f"Bearer {LI_TOKEN}", "202606", "2.0.0")

    kevin = _contact(org, "kevjohonson@email.com")
    assert (kevin.first_name, kevin.last_name, kevin.job_title, kevin.source, kevin.custom) == (
        "Kevin",
        "Johonson",
        "Senior Engineer",
        "social",
        {"favourite_colour": "Rojo", "grew_up_in": "Mexico", "campaign": "LinkedIn Q4"},
    )
    event = _captured(kevin)
    assert (event.message_id, event.occurred_at) == (
        "linkedin_leads:1a2b3c-4",
        dt.datetime(2023, 7, 20, 23, 9, 59, 288000, tzinfo=dt.UTC),
    )
    assert event.properties == {
        "network": "linkedin",
        "campaign": "LinkedIn Q4",
        "ad_name": "",
        "form_id": "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:7234246,1)",
        "lead_id": "1a2b3c-4",
        "integration": "LinkedIn ads",
        "consents": [{"key": "linkedin_consent_0", "granted": True, "recorded": True}],
        "form_name": "Form with written spanish",
        "campaign_id": "urn:li:sponsoredCampaign:198356826",
        "test_lead": True,
    }
    consent = Consent.dangerously_unscoped.get(contact=kevin)
    assert (consent.status, consent.source, consent.form_name, consent.text) == (
        "granted",
        "linkedin",
        "Form with written spanish",
        "marque mi casilla de verificación personalizada!",
    )


def test_linkedin_expired_token_deleted_leads_and_signatures(
    actor, api_client, lead_api, django_capture_on_commit_callbacks
):
    org = actor.organization
    integration = _li(actor)
    lead_api.answer("/rest/leadFormResponses/1a2b3c-4", "linkedin_error_expired_token.json", status=401)
    body = raw("lead_ads/linkedin_lead_notification.json")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(integration, body, headers=_linkedin_headers(body)).status_code == 200
    [job] = _fetches(org)
    assert (job.state, job.last_error) == ("waiting_token", "The token used in the request has expired")
    detail = api_client.get(f"/api/v1/integrations/{integration.pk}").json()
    assert (detail["token_status"], detail["token_error"]) == ("refused", "The token used in the request has expired")
    assert detail["token_help"].startswith("Sign in to LinkedIn again")

    deleted = raw("lead_ads/linkedin_lead_notification_deleted.json")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(integration, deleted, headers=_linkedin_headers(deleted)).status_code == 200
    last = WebhookDelivery.dangerously_unscoped.filter(organization=org).order_by("id").last()
    assert (last.topic, last.status) == ("lead.deleted", "processed")
    assert len(_fetches(org)) == 1

    forged = post(integration, body, headers={"X-LI-Signature": hmac_sha256("another secret!!", body).hex()})
    assert forged.status_code == 401


def test_a_linkedin_daily_quota_waits_until_midnight_utc(actor, lead_api):
    integration = _li(actor)
    lead_api.answer("/rest/leadFormResponses/1a2b3c-4", "linkedin_error_throttled.json", status=429)
    body = raw("lead_ads/linkedin_lead_notification.json")
    job = _queued(integration, body, headers=_linkedin_headers(body))
    now = dt.datetime(2026, 12, 7, 22, 30, tzinfo=dt.UTC)
    LeadFetch.dangerously_unscoped.filter(pk=job.pk).update(next_attempt_at=now)
    lead_fetch_run(fetch_id=job.pk, now=now)
    job.refresh_from_db()
    assert (job.state, job.next_attempt_at, job.last_error) == (
        "queued",
        dt.datetime(2026, 12, 8, 0, 1, tzinfo=dt.UTC),
        "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
    )


# --- the access token: write-only, checked ----------------------------------------------------------


def test_the_access_token_is_write_only_and_stored_encrypted(actor, api_client, client_in):
    response = api_client.post(
        "/api/v1/integrations",
        {"kind": "facebook_leads", "name": "FB", "secret": SECRET, "access_token": FB_TOKEN},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert "access_token" not in body
    assert (body["access_token_set"], body["token_status"], body["token_error"], body["token_help"]) == (
        True,
        "saved",
        "",
        "",
    )
    integration = Integration.dangerously_unscoped.get(pk=body["id"])
    assert FB_TOKEN not in integration.access_token_encrypted
    assert crypto.decrypt(integration.access_token_encrypted) == FB_TOKEN
    base = f"/o/{actor.organization.slug}/settings/integrations/{integration.pk}"
    assert FB_TOKEN not in client_in.get(f"{base}/").content.decode()
    edit = client_in.get(f"{base}/edit/").content.decode()
    assert FB_TOKEN not in edit
    assert "An access token is saved." in edit

    response = client_in.post(f"{base}/edit/", {"name": "FB", "access_token": NEW_FB_TOKEN, "is_active": "on"})
    assert response.status_code == 302
    integration.refresh_from_db()
    assert crypto.decrypt(integration.access_token_encrypted) == NEW_FB_TOKEN
    # an empty field keeps the saved token
    client_in.post(f"{base}/edit/", {"name": "FB page", "access_token": "", "is_active": "on"})
    integration.refresh_from_db()
    assert (integration.name, crypto.decrypt(integration.access_token_encrypted)) == ("FB page", NEW_FB_TOKEN)


TOKEN_RULE = "Paste the access token as the network shows it: 20 to 2000 characters, without spaces."


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("short", TOKEN_RULE),
        ("EAAJZBqQ3ZCsBA with spaces inside it", TOKEN_RULE),
        ("EAAJZBqQ3ZCsBAPageAccessTökén0123456789", TOKEN_RULE),
        (["EAAJZBqQ3ZCsBAPageAccessToken0123456789"], None),
        ("E" * 2001, None),
    ],
)
def test_a_bad_access_token_is_422_on_its_field_and_nothing_is_saved(actor, api_client, token, message):
    integration = _fb(actor)
    response = api_client.patch(
        f"/api/v1/integrations/{integration.pk}", {"access_token": token}, content_type="application/json"
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["access_token"]
    if message:
        assert errors[0]["message"] == message
    integration.refresh_from_db()
    assert crypto.decrypt(integration.access_token_encrypted) == FB_TOKEN


def test_an_access_token_on_a_shop_or_a_bad_one_on_the_page_is_422(actor, api_client, client_in):
    response = api_client.post(
        "/api/v1/integrations",
        {"kind": "shopify", "name": "Shop", "access_token": FB_TOKEN},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "access_token", "message": "Only Facebook and LinkedIn lead integrations use an access token."}
    ]
    assert not Integration.dangerously_unscoped.filter(organization=actor.organization).exists()

    integration = _fb(actor)
    base = f"/o/{actor.organization.slug}/settings/integrations/{integration.pk}"
    response = client_in.post(f"{base}/edit/", {"name": "Renamed", "access_token": "short", "is_active": "on"})
    assert response.status_code == 422
    assert TOKEN_RULE in response.content.decode()
    integration.refresh_from_db()
    assert (integration.name, crypto.decrypt(integration.access_token_encrypted)) == ("FB page", FB_TOKEN)


# --- tenancy, roles, query counts ----------------------------------------------------------------------


def test_another_organisations_lead_fetches_are_404(actor, other_actor, api_client, client_in):
    theirs = make_integration(other_actor, "facebook_leads", access_token=FB_TOKEN)
    with scope(organization=other_actor.organization):
        fetch = LeadFetch.objects.create(
            organization=other_actor.organization, integration=theirs, lead_id="123", state="failed"
        )
    assert api_client.get(f"/api/v1/integrations/{theirs.pk}/lead-fetches").status_code == 404
    assert api_client.get(f"/api/v1/lead-fetches/{fetch.pk}").status_code == 404
    assert api_client.post(f"/api/v1/lead-fetches/{fetch.pk}/retry").status_code == 404
    patched = api_client.patch(
        f"/api/v1/integrations/{theirs.pk}", {"access_token": NEW_FB_TOKEN}, content_type="application/json"
    )
    assert patched.status_code == 404
    assert client_in.post(f"/o/{actor.organization.slug}/settings/lead-fetches/{fetch.pk}/retry/").status_code == 404
    fetch.refresh_from_db()
    theirs.refresh_from_db()
    assert (fetch.state, crypto.decrypt(theirs.access_token_encrypted)) == ("failed", FB_TOKEN)


def test_only_owners_and_admins_retry_a_lead(actor, member):
    integration = _fb(actor)
    with scope(organization=actor.organization):
        fetch = LeadFetch.objects.create(
            organization=actor.organization, integration=integration, lead_id="123", state="failed"
        )
    sales = login_client(member(role="sales"))
    assert sales.post(f"/o/{actor.organization.slug}/settings/lead-fetches/{fetch.pk}/retry/").status_code == 403
    fetch.refresh_from_db()
    assert fetch.state == "failed"


def test_the_integration_page_and_the_list_cost_the_same_queries_whatever_the_number_of_leads(
    actor, client_in, api_client
):
    org = actor.organization
    integration = _fb(actor)
    page, api = (
        f"/o/{org.slug}/settings/integrations/{integration.pk}/",
        f"/api/v1/integrations/{integration.pk}/lead-fetches",
    )

    def count(client, url):
        client.get(url)
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def add(lead_id):
        with scope(organization=org):
            contact = Contact.objects.create(organization=org, first_name=lead_id, email=f"{lead_id}@example.com")
            LeadFetch.objects.create(
                organization=org, integration=integration, lead_id=lead_id, state="done", contact=contact
            )

    add("1")
    before = (count(client_in, page), count(api_client, api))
    for lead_id in ("2", "3", "4", "5"):
        add(lead_id)
    assert (count(client_in, page), count(api_client, api)) == before
