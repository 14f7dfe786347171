"""The tracking page explains itself: the snippet with a copy button, a guide to consent, `track`
and `identify`, and "check installation" with the last event the site sent."""

from __future__ import annotations

import zoneinfo

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import dateformat, timezone

from vinculo.touchpoints.models import IngestBatch
from vinculo.touchpoints.testing.tracking import ORIGIN, make_site, page, post_batch, track

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def test_the_intro_shows_the_closing_body_tag_as_text(client_in, org):
    make_site(org)

    html = client_in.get(reverse("touchpoints:tracking_site_list", args=[org.slug])).content.decode()

    assert "every page of the website, before &lt;/body&gt;. Page views" in html
    assert "before </body>" not in html
    assert "just before the closing &lt;/body&gt; tag." in html  # the guide says it too


def test_each_snippet_has_a_copy_button_run_by_a_static_script(client_in, org):
    site = make_site(org)

    html = client_in.get(reverse("touchpoints:tracking_site_list", args=[org.slug])).content.decode()

    assert '<script src="/static/touchpoints/copy.js" defer></script>' in html
    assert f'data-copy-target="snippet-{site.pk}"' in html
    assert f'id="snippet-{site.pk}" rows="2" readonly>&lt;script async src=&quot;http://testserver/t/vinculo.js' in html
    assert 'data-copied-label="Copied"' in html
    edit = client_in.get(reverse("touchpoints:tracking_site_edit", args=[org.slug, site.pk])).content.decode()
    assert 'data-copy-target="install-snippet"' in edit
    assert 'id="tracker-guide"' in edit


def test_the_guide_explains_consent_track_and_identify_as_the_tracker_does_them(client_in, org):
    make_site(org)

    html = client_in.get(reverse("touchpoints:tracking_site_list", args=[org.slug])).content.decode()

    guide = html[html.index('id="tracker-guide"') :]
    for code in (
        "vinculo.consent(true);\nvinculo.consent(false);",
        'vinculo.track("signed_up", { plan: "pro" });',
        'vinculo.identify("ana@example.com", { name: "Ana García" });',
        'window.vinculo = window.vinculo || [];\nvinculo.push(["consent", true]);',
    ):
        assert code in guide, code
    assert "nothing is sent and no cookie is set until your page calls vinculo.consent(true)." in guide
    assert "vinculo.identify waits for vinculo.consent(true)." in guide
    assert "until the visitor refuses with vinculo.consent(false)." in guide


def test_check_installation_says_nothing_arrived_and_why_in_opt_in_mode(client_in, org):
    site = make_site(org, consent_mode="opt_in")
    check = reverse("touchpoints:tracking_site_check", args=[org.slug, site.pk])

    response = client_in.get(check, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<div class="install-check small')
    assert f'id="install-check-{site.pk}"' in html
    assert "No event received from this site yet." in html
    assert "In this mode nothing is sent until a visitor consents" in html
    assert f'hx-get="{check}"' in html


def test_check_installation_shows_the_last_event_received(client_in, actor, org):
    actor.user.time_zone = "Europe/Madrid"
    actor.user.save(update_fields=["time_zone"])
    site = make_site(org, consent_mode="implied")
    other = make_site(org, name="Blog")
    assert post_batch(site, [page()]).status_code == 202
    assert post_batch(site, [page(), track("signed_up", url=f"{ORIGIN}/pricing")]).status_code == 202
    received = IngestBatch.dangerously_unscoped.order_by("-id").first().received_at
    shown = dateformat.format(timezone.localtime(received, zoneinfo.ZoneInfo("Europe/Madrid")), "c")
    check = reverse("touchpoints:tracking_site_check", args=[org.slug, site.pk])

    html = client_in.get(check, headers={"HX-Request": "true"}).content.decode()

    assert "Installed: events arrive." in html
    assert f'<time datetime="{shown}">' in html
    assert (
        "<strong>event “signed_up”</strong> · "
        '<span class="text-break font-monospace">https://shop.example/pricing</span>' in html
    )
    listing = client_in.get(reverse("touchpoints:tracking_site_list", args=[org.slug])).content.decode()
    assert listing.count("Installed: events arrive.") == 1
    assert f'id="install-check-{other.pk}"' in listing
    assert listing.count("No event received from this site yet.") == 1


def test_check_installation_without_htmx_goes_back_to_the_list(client_in, org):
    site = make_site(org)

    response = client_in.get(reverse("touchpoints:tracking_site_check", args=[org.slug, site.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("touchpoints:tracking_site_list", args=[org.slug]) + f"#site-{site.pk}"


def test_check_installation_of_another_organisations_site_is_404(client_in, org, other_org):
    site = make_site(other_org)

    response = client_in.get(
        reverse("touchpoints:tracking_site_check", args=[org.slug, site.pk]), headers={"HX-Request": "true"}
    )

    assert response.status_code == 404
