"""Quotas: set per rep and month or quarter (an upsert), the grid page, the API, bad input, roles."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_scopes import scope

from vinculo.accounts.testing import api_client_for, login_client
from vinculo.core.models import AuditEntry
from vinculo.core.testing import count_queries
from vinculo.sales.models import Quota
from vinculo.sales.services.quotas import quota_set


@pytest.fixture
def rep(member):
    return member(role="sales", full_name="Ana")


def quotas():
    return sorted(Quota.dangerously_unscoped.values_list("user__full_name", "period", "starts_on", "amount"))


def test_setting_a_quota_twice_changes_its_amount(actor, org, rep):
    with scope(organization=org):
        quota_set(
            actor=actor, data={"user": rep.user_id, "period": "quarter", "starts_on": "2026-04-01", "amount": "9000"}
        )
        quota_set(
            actor=actor, data={"user": rep.user_id, "period": "quarter", "starts_on": "2026-04-01", "amount": "9500.50"}
        )
    assert quotas() == [("Ana", "quarter", dt.date(2026, 4, 1), Decimal("9500.50"))]
    assert list(
        AuditEntry.dangerously_unscoped.filter(object_type="sales.quota")
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "create",
        "update",
    ]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"amount": "-1"}, {"amount": ["Cannot be negative."]}),
        ({"amount": "1.005"}, {"amount": ["At most two decimal places."]}),
        (
            {"starts_on": "2026-05-01", "period": "quarter"},
            {"starts_on": ["A quarter starts on 1 January, April, July or October."]},
        ),
        ({"starts_on": "2026-05-02"}, {"starts_on": ["A month starts on its first day."]}),
        ({"period": "year"}, {"period": ["Choose one of month, quarter."]}),
        ({"user": 987654321}, {"user": ["No such member of this organisation."]}),
        ({"starts_on": "May"}, {"starts_on": ["Enter a date as YYYY-MM-DD."]}),
    ],
)
def test_bad_quotas_are_refused_and_nothing_is_saved(actor, org, rep, data, errors):
    values = {"user": rep.user_id, "period": "month", "starts_on": "2026-05-01", "amount": "1000", **data}
    with scope(organization=org), pytest.raises(ValidationError) as exc:
        quota_set(actor=actor, data=values)
    assert exc.value.message_dict == errors
    assert quotas() == []


def test_a_member_of_another_organisation_cannot_get_a_quota(actor, org, other_actor):
    with scope(organization=org), pytest.raises(ValidationError) as exc:
        quota_set(actor=actor, data={"user": other_actor.user_id, "starts_on": "2026-05-01", "amount": "1"})
    assert exc.value.message_dict == {"user": ["No such member of this organisation."]}


def test_only_managers_set_quotas(org, rep):
    with scope(organization=org), pytest.raises(PermissionDenied):
        quota_set(actor=rep, data={"user": rep.user_id, "starts_on": "2026-05-01", "amount": "1000000"})
    assert quotas() == []


# --- the grid page -------------------------------------------------------------------------------------


def test_the_grid_saves_every_cell_and_clears_empty_ones(actor, org, rep):
    Quota.dangerously_unscoped.create(organization=org, user=rep.user, starts_on="2026-03-01", amount="5")
    client = login_client(actor)
    url = f"/o/{org.slug}/sales/quotas/?year=2026&period=month"
    response = client.post(
        url,
        {
            f"q-{rep.user_id}-2026-01-01": "1000",
            f"q-{rep.user_id}-2026-02-01": " 1200.50 ",
            f"q-{rep.user_id}-2026-03-01": "",
        },
    )
    assert response.status_code == 302
    assert quotas() == [
        ("Ana", "month", dt.date(2026, 1, 1), Decimal("1000.00")),
        ("Ana", "month", dt.date(2026, 2, 1), Decimal("1200.50")),
    ]
    page = client.get(url).content.decode()
    assert f'name="q-{rep.user_id}-2026-02-01" id="q-{rep.user_id}-2026-02-01" value="1200.50"' in page


def test_a_bad_cell_saves_nothing_and_shows_the_error_next_to_it(actor, org, rep):
    client = login_client(actor)
    url = f"/o/{org.slug}/sales/quotas/?year=2026&period=quarter"
    response = client.post(url, {f"q-{rep.user_id}-2026-01-01": "3000", f"q-{rep.user_id}-2026-04-01": "-5"})
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="q-{rep.user_id}-2026-04-01_error">Cannot be negative.</div>' in html
    assert 'value="3000"' in html  # what was typed is kept
    assert quotas() == []


def test_a_rep_sees_the_grid_read_only_and_cannot_post(org, rep):
    client = login_client(rep)
    page = client.get(f"/o/{org.slug}/sales/quotas/")
    assert page.status_code == 200
    assert "Only owners, admins and managers can change quotas." in page.content.decode()
    assert client.post(f"/o/{org.slug}/sales/quotas/", {f"q-{rep.user_id}-2026-01-01": "1"}).status_code == 403
    assert quotas() == []


def test_the_grid_queries_do_not_grow_with_reps_or_quotas(actor, org, member):
    client = login_client(actor)
    url = f"/o/{org.slug}/sales/quotas/?year=2026"
    client.get(url)

    def count():
        with count_queries() as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = count()
    for i in range(4):
        rep = member(role="sales")
        Quota.dangerously_unscoped.create(organization=org, user=rep.user, starts_on=f"2026-0{i + 1}-01", amount="10")
    assert count() == before


# --- API -------------------------------------------------------------------------------------------------


def test_quota_api_create_update_list_delete(actor, org, rep):
    api = api_client_for(actor)
    body = {"user": rep.user_id, "period": "month", "starts_on": "2026-05-01", "amount": "1000.00"}
    created = api.post("/api/v1/quotas", body, content_type="application/json")
    assert created.status_code == 201
    quota_id = created.json()["id"]
    assert created.json()["amount"] == "1000.00"
    again = api.post("/api/v1/quotas", {**body, "amount": 1500}, content_type="application/json")
    assert (again.status_code, again.json()["id"], again.json()["amount"]) == (200, quota_id, "1500.00")
    patched = api.patch(f"/api/v1/quotas/{quota_id}", {"amount": "1750.25"}, content_type="application/json")
    assert patched.json()["amount"] == "1750.25"
    listed = api.get("/api/v1/quotas", {"year": 2026}).json()
    assert [(q["user"]["name"], q["starts_on"], q["amount"]) for q in listed["items"]] == [
        ("Ana", "2026-05-01", "1750.25")
    ]
    assert api.delete(f"/api/v1/quotas/{quota_id}").status_code == 204
    assert quotas() == []


def test_quota_api_refuses_a_negative_amount(actor, org, rep):
    response = api_client_for(actor).post(
        "/api/v1/quotas",
        {"user": rep.user_id, "period": "month", "starts_on": "2026-05-01", "amount": "-10"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Some fields are not valid.",
        "errors": [{"field": "amount", "message": "Cannot be negative."}],
    }
    assert quotas() == []


def test_quota_api_answers_403_to_a_rep(org, rep):
    response = login_client(rep).post(
        "/api/v1/quotas",
        {"user": rep.user_id, "period": "month", "starts_on": "2026-05-01", "amount": "10"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert quotas() == []
