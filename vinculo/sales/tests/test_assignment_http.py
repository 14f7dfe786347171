"""Assignment pages and API: rules (create, edit, reorder, delete), zones, out of office, the fallback
owner, the rules tester, lead assignment and a manager's override; bad input and roles."""

from __future__ import annotations

import pytest

from vinculo.accounts.models import Team
from vinculo.accounts.testing import api_client_for, login_client
from vinculo.contacts.models import Contact
from vinculo.core.testing import count_queries
from vinculo.sales.models import AssignmentRule, AssignmentSettings, Deal, OutOfOffice, Zone
from vinculo.sales.testing import make_deal, make_pipeline


@pytest.fixture
def reps(member):
    return member(role="sales", full_name="Ana"), member(role="sales", full_name="Luis")


@pytest.fixture
def south(org, reps):
    team = Team.dangerously_unscoped.create(organization=org, name="South")
    team.members.set(reps)
    return team


def names():
    return list(AssignmentRule.dangerously_unscoped.order_by("position", "id").values_list("name", flat=True))


# --- pages ---------------------------------------------------------------------------------------------


def test_a_manager_creates_a_rule_on_the_page(org, member, reps, south):
    manager = member(role="manager")
    client = login_client(manager)
    zone = Zone.dangerously_unscoped.create(organization=org, name="Iberia", countries=["ES", "PT"])
    response = client.post(
        f"/o/{org.slug}/sales/assignment/new/",
        {
            "name": "Iberia",
            "is_active": "on",
            "applies_to": "deals",
            "zone": zone.pk,
            "team": south.pk,
            "capacity": "20",
        },
    )
    assert response.status_code == 302
    rule = AssignmentRule.dangerously_unscoped.get()
    assert (rule.name, rule.zone_id, rule.team_id, rule.capacity, rule.applies_to) == (
        "Iberia",
        zone.pk,
        south.pk,
        20,
        "deals",
    )
    page = client.get(f"/o/{org.slug}/sales/assignment/").content.decode()
    assert "zone Iberia, round robin in team South" in page


def test_a_bad_rule_form_keeps_the_input_and_shows_errors(actor, org, other_org, reps):
    foreign = Zone.dangerously_unscoped.create(organization=other_org, name="Theirs", countries=["ES"])
    response = login_client(actor).post(
        f"/o/{org.slug}/sales/assignment/new/",
        {"name": "Typo", "countries": "ES, XX", "zone": foreign.pk, "user": reps[0].user_id},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_countries_error">Unknown country codes: XX.</div>' in html
    assert 'id="id_zone_error">No such zone.</div>' in html
    assert 'value="Typo"' in html
    assert AssignmentRule.dangerously_unscoped.count() == 0


def test_a_rep_sees_the_rules_but_cannot_change_them(org, reps):
    client = login_client(reps[0])
    assert client.get(f"/o/{org.slug}/sales/assignment/").status_code == 200
    assert client.get(f"/o/{org.slug}/sales/assignment/new/").status_code == 403
    assert (
        client.post(f"/o/{org.slug}/sales/assignment/new/", {"name": "R", "user": reps[0].user_id}).status_code == 403
    )
    assert client.post(f"/o/{org.slug}/sales/zones/new/", {"name": "Z", "countries": "ES"}).status_code == 403
    assert (AssignmentRule.dangerously_unscoped.count(), Zone.dangerously_unscoped.count()) == (0, 0)


def test_rules_move_up_and_reorder_by_drag(actor, org, reps):
    client = login_client(actor)
    for name in ("A", "B", "C"):
        AssignmentRule.dangerously_unscoped.create(
            organization=org, name=name, user=reps[0].user, position=len(names())
        )
    a, b, c = AssignmentRule.dangerously_unscoped.order_by("position")
    assert client.post(f"/o/{org.slug}/sales/assignment/{c.pk}/move/", {"direction": "up"}).status_code == 302
    assert names() == ["A", "C", "B"]
    response = client.post(
        f"/o/{org.slug}/sales/assignment/reorder/", {"ids": [b.pk, a.pk, c.pk]}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert names() == ["B", "A", "C"]
    assert response.content.decode().lstrip().startswith('<div class="card mb-4" id="rules">')
    bad = client.post(f"/o/{org.slug}/sales/assignment/reorder/", {"ids": [b.pk]})
    assert (bad.status_code, bad.content.decode()) == (422, "Give every rule's id exactly once.")
    assert names() == ["B", "A", "C"]


def test_the_rules_page_queries_do_not_grow_with_rules(actor, org, reps, south):
    client = login_client(actor)
    url = f"/o/{org.slug}/sales/assignment/"
    client.get(url)

    def count():
        with count_queries() as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = count()
    zone = Zone.dangerously_unscoped.create(organization=org, name="Iberia", countries=["ES"])
    for i in range(5):
        AssignmentRule.dangerously_unscoped.create(organization=org, name=f"R{i}", zone=zone, team=south, position=i)
        AssignmentRule.dangerously_unscoped.create(organization=org, name=f"U{i}", user=reps[1].user, position=9 + i)
    assert count() == before


def test_the_rules_tester_says_who_and_why(actor, org, reps):
    AssignmentRule.dangerously_unscoped.create(organization=org, name="Spain", countries=["ES"], user=reps[1].user)
    client = login_client(actor)
    response = client.get(
        f"/o/{org.slug}/sales/assignment/test/",
        {"applies_to": "deals", "country": "ES"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>Luis</strong> — Rule “Spain” (countries ES, fixed rep Luis): Luis is the rule&#x27;s rep." in html
    bad = client.get(f"/o/{org.slug}/sales/assignment/test/", {"country": "QQ"})
    assert bad.status_code == 422
    assert 'id="id_country_error">Unknown country code: QQ.</div>' in bad.content.decode()


def test_the_fallback_owner_is_set_on_the_page(actor, org, reps):
    client = login_client(actor)
    assert (
        client.post(f"/o/{org.slug}/sales/assignment/settings/", {"fallback_owner": reps[0].user_id}).status_code == 302
    )
    assert AssignmentSettings.dangerously_unscoped.get().fallback_owner_id == reps[0].user_id
    bad = client.post(f"/o/{org.slug}/sales/assignment/settings/", {"fallback_owner": "999999"})
    assert bad.status_code == 422
    assert "No such member of this organisation." in bad.content.decode()
    assert AssignmentSettings.dangerously_unscoped.get().fallback_owner_id == reps[0].user_id


def test_zones_on_the_pages(actor, org):
    client = login_client(actor)
    bad = client.post(f"/o/{org.slug}/sales/zones/new/", {"name": "Iberia", "countries": "ES, Spain"})
    assert bad.status_code == 422
    assert 'id="id_countries_error">Unknown country codes: Spain.</div>' in bad.content.decode()
    assert Zone.dangerously_unscoped.count() == 0
    assert client.post(f"/o/{org.slug}/sales/zones/new/", {"name": "Iberia", "countries": "es, pt"}).status_code == 302
    zone = Zone.dangerously_unscoped.get()
    assert zone.countries == ["ES", "PT"]
    assert (
        client.post(f"/o/{org.slug}/sales/zones/{zone.pk}/", {"name": "Iberia", "countries": "ES"}).status_code == 302
    )
    assert "Iberia" in client.get(f"/o/{org.slug}/sales/zones/").content.decode()
    assert client.post(f"/o/{org.slug}/sales/zones/{zone.pk}/delete/").status_code == 302
    assert Zone.dangerously_unscoped.count() == 0


def test_out_of_office_on_the_pages(org, reps):
    ana, luis = reps
    client = login_client(ana)
    bad = client.post(
        f"/o/{org.slug}/sales/out-of-office/new/",
        {"user": ana.user_id, "starts_on": "2026-05-10", "ends_on": "2026-05-01"},
    )
    assert bad.status_code == 422
    assert 'id="id_ends_on_error">The last day cannot be before the first.</div>' in bad.content.decode()
    ok = client.post(
        f"/o/{org.slug}/sales/out-of-office/new/",
        {"user": ana.user_id, "starts_on": "2026-05-01", "ends_on": "2026-05-10"},
    )
    assert ok.status_code == 302
    forbidden = client.post(
        f"/o/{org.slug}/sales/out-of-office/new/",
        {"user": luis.user_id, "starts_on": "2026-05-01", "ends_on": "2026-05-02"},
    )
    assert forbidden.status_code == 403
    assert list(OutOfOffice.dangerously_unscoped.values_list("user_id", flat=True)) == [ana.user_id]


# --- API -----------------------------------------------------------------------------------------------


def test_rules_through_the_api(actor, org, reps, south):
    api = api_client_for(actor)
    zone = api.post("/api/v1/zones", {"name": "Iberia", "countries": ["ES", "PT"]}, content_type="application/json")
    assert zone.status_code == 201
    created = api.post(
        "/api/v1/assignment-rules",
        {"name": "Iberia", "zone": zone.json()["id"], "team": south.pk, "capacity": 10},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["description"] == "zone Iberia, round robin in team South"
    rule_id = created.json()["id"]
    second = api.post(
        "/api/v1/assignment-rules", {"name": "Rest", "user": reps[0].user_id}, content_type="application/json"
    ).json()["id"]
    order = api.post("/api/v1/assignment-rules/order", {"ids": [second, rule_id]}, content_type="application/json")
    assert [r["name"] for r in order.json()] == ["Rest", "Iberia"]
    patched = api.patch(f"/api/v1/assignment-rules/{rule_id}", {"is_active": False}, content_type="application/json")
    assert patched.json()["is_active"] is False
    preview = api.post("/api/v1/assignment-preview", {"country": "ES"}, content_type="application/json").json()
    assert preview == {
        "user": {"id": reps[0].user_id, "name": "Ana", "email": reps[0].user.email},
        "rule": {"id": second, "name": "Rest"},
        "reason": "Rule “Rest” (fixed rep Ana): Ana is the rule's rep.",
    }
    assert api.delete(f"/api/v1/assignment-rules/{rule_id}").status_code == 204
    assert names() == ["Rest"]


@pytest.mark.parametrize(
    ("path", "body", "errors"),
    [
        (
            "/api/v1/zones",
            {"name": "X", "countries": ["ES", "XX"]},
            [{"field": "countries", "message": "Unknown country codes: XX."}],
        ),
        (
            "/api/v1/zones",
            {"name": "X", "countries": []},
            [{"field": "countries", "message": "Give at least one country."}],
        ),
        (
            "/api/v1/assignment-rules",
            {"name": "X", "zone": "foreign", "user": "ana"},
            [{"field": "zone", "message": "No such zone."}],
        ),
        (
            "/api/v1/assignment-rules",
            {"name": "X", "user": "ana", "capacity": -3},
            [{"field": "capacity", "message": "Enter a number between 1 and 100000, or nothing for no limit."}],
        ),
        (
            "/api/v1/assignment-rules",
            {"name": "X", "user": "ana", "colour": "red"},
            [{"field": "colour", "message": "Unknown field."}],
        ),
        (
            "/api/v1/out-of-office",
            {"user": "ana", "starts_on": "2026-02-02", "ends_on": "2026-02-01"},
            [{"field": "ends_on", "message": "The last day cannot be before the first."}],
        ),
    ],
)
def test_bad_api_input_is_422_and_saves_nothing(actor, org, other_org, reps, path, body, errors):
    foreign = Zone.dangerously_unscoped.create(organization=other_org, name="Theirs", countries=["ES"])
    values = {"foreign": foreign.pk, "ana": reps[0].user_id}
    body = {k: values.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = api_client_for(actor).post(path, body, content_type="application/json")
    assert response.status_code == 422
    assert response.json() == {"detail": "Some fields are not valid.", "errors": errors}
    assert (
        Zone.dangerously_unscoped.filter(organization=org).count(),
        AssignmentRule.dangerously_unscoped.count(),
    ) == (0, 0)
    assert OutOfOffice.dangerously_unscoped.count() == 0


def test_a_lead_is_assigned_through_the_api(actor, org, reps):
    AssignmentRule.dangerously_unscoped.create(organization=org, name="Leads", applies_to="leads", user=reps[1].user)
    contact = Contact.dangerously_unscoped.create(organization=org, first_name="Rui")
    response = api_client_for(actor).post(f"/api/v1/leads/{contact.pk}/assign")
    assert response.status_code == 200
    assert response.json()["reason"] == "Rule “Leads” (fixed rep Luis): Luis is the rule's rep."
    contact.refresh_from_db()
    assert contact.owner_id == reps[1].user_id


def test_a_manager_overrides_a_deals_owner_through_the_api(actor, org, reps):
    make_pipeline(org)
    deal = make_deal(actor)
    api = api_client_for(actor)
    missing = api.post(f"/api/v1/deals/{deal.pk}/reassign", {}, content_type="application/json")
    assert missing.json()["errors"] == [{"field": "owner", "message": "This field is required."}]
    response = api.post(
        f"/api/v1/deals/{deal.pk}/reassign", {"owner": reps[0].user_id}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["assignment_reason"] == f"Overridden by {actor.user.full_name}."
    assert Deal.dangerously_unscoped.get().owner_id == reps[0].user_id
