"""The deals API: CRUD with money as decimal strings, list filters and sort, every bad input (422 with
the field and message, nothing changed), moves, the board, settings resources and lead conversion."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django_scopes import scope

from vinculo.accounts.testing import api_client_for, login_client
from vinculo.contacts.services import contact_create
from vinculo.core.models import Event
from vinculo.core.testing import count_queries
from vinculo.core.testing.fuzz import fuzz_api
from vinculo.sales.models import Deal, DealLineItem, ExchangeRate, LostReason, Pipeline, Stage
from vinculo.sales.testing import make_deal, make_pipeline, stage_named


def post(client, path, data):
    return client.post(f"/api/v1{path}", data=json.dumps(data), content_type="application/json")


def patch(client, path, data):
    return client.patch(f"/api/v1{path}", data=json.dumps(data), content_type="application/json")


def errors_of(response):
    return {(e["field"], e["message"]) for e in response.json()["errors"]}


def test_a_deal_is_created_read_changed_and_deleted(api_client, actor, pipeline):
    with scope(organization=actor.organization):
        contact = contact_create(actor=actor, data={"first_name": "Ana"})
    response = post(
        api_client,
        "/deals",
        {
            "title": "Tents",
            "amount": "1200.50",
            "currency": "usd",
            "contact": contact.pk,
            "expected_close_date": "2026-06-30",
            "stage": stage_named(pipeline, "Proposal").pk,
        },
    )
    assert response.status_code == 201
    body = response.json()
    deal_id = body["id"]
    assert {k: body[k] for k in ("title", "amount", "currency", "weighted_amount", "probability", "status")} == {
        "title": "Tents",
        "amount": "1200.50",
        "currency": "USD",
        "weighted_amount": "480.20",
        "probability": 40,
        "status": "open",
    }
    assert body["stage"] == {"id": stage_named(pipeline, "Proposal").pk, "name": "Proposal"}
    assert body["contact"] == {"id": contact.pk, "name": "Ana"}
    assert body["owner"]["id"] == actor.user_id
    assert api_client.get(f"/api/v1/deals/{deal_id}").json()["expected_close_date"] == "2026-06-30"

    response = patch(
        api_client, f"/deals/{deal_id}", {"amount": "99.99", "probability": 55, "probability_reason": "LOI"}
    )
    assert response.status_code == 200
    assert (response.json()["amount"], response.json()["probability"], response.json()["probability_reason"]) == (
        "99.99",
        55,
        "LOI",
    )
    assert api_client.delete(f"/api/v1/deals/{deal_id}").status_code == 204
    assert Deal.dangerously_unscoped.count() == 0


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"title": "x", "amount": "-1"}, {("amount", "Cannot be negative.")}),
        ({"title": "x", "amount": "12.345"}, {("amount", "At most two decimal places.")}),
        ({"title": "x", "amount": 12.5}, {("amount", "Enter text.")}),
        ({"title": "x", "currency": "XYZ"}, {("currency", "Enter an ISO 4217 currency code, e.g. EUR.")}),
        (
            {"title": "x", "probability": 101, "probability_reason": "r"},
            {("probability", "Enter a probability between 0 and 100.")},
        ),
        (
            {"title": "x", "probability": -1, "probability_reason": "r"},
            {("probability", "Enter a probability between 0 and 100.")},
        ),
        (
            {"title": "x", "expected_close_date": "next friday"},
            {("expected_close_date", "Enter a date as YYYY-MM-DD.")},
        ),
        ({"title": "x", "stage": "2"}, {("stage", "Enter a whole number.")}),
        ({"title": "x", "colour": "red"}, {("colour", "Unknown field.")}),
        ({"amount": "1"}, {("title", "This field is required.")}),
        (
            {"title": "x", "forecast_category": "maybe"},
            {("forecast_category", "Choose one of 'pipeline', 'best_case', 'commit', 'closed' or 'omitted'.")},
        ),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_changes(api_client, pipeline, data, errors):
    response = post(api_client, "/deals", data)
    assert response.status_code == 422
    assert errors_of(response) == errors
    assert Deal.dangerously_unscoped.count() == 0


def test_a_stage_of_another_pipeline_or_organisation_is_refused(api_client, actor, other_actor, pipeline):
    other = make_pipeline(actor.organization, "Partners", default=False)
    foreign = make_pipeline(other_actor.organization, "Theirs")
    for stage, message in (
        (stage_named(other, "Won").pk, "This stage belongs to another pipeline."),
        (stage_named(foreign, "Won").pk, "No such stage."),
    ):
        response = post(api_client, "/deals", {"title": "x", "pipeline": pipeline.pk, "stage": stage})
        assert response.status_code == 422
        assert errors_of(response) == {("stage", message)}
    response = post(api_client, "/deals", {"title": "x", "pipeline": foreign.pk})
    assert errors_of(response) == {("pipeline", "No such pipeline.")}
    assert Deal.dangerously_unscoped.count() == 0


def test_the_currency_cannot_change_under_priced_line_items(api_client, actor, pipeline):
    deal = make_deal(actor, amount="100")
    DealLineItem.dangerously_unscoped.create(
        organization=actor.organization, deal=deal, description="Tent", unit_price=Decimal("100")
    )
    response = patch(api_client, f"/deals/{deal.pk}", {"currency": "USD"})
    assert response.status_code == 422
    assert errors_of(response) == {
        ("currency", "This deal's line items are priced in EUR: change or remove them first.")
    }
    deal.refresh_from_db()
    assert deal.currency == "EUR"


def test_the_list_filters_sorts_pages_and_refuses_unknown_parameters(api_client, actor, member, pipeline):
    rep = member(role="sales")
    make_deal(actor, title="Tents", amount="300", expected_close_date="2026-03-01")
    make_deal(actor, title="Boots", amount="900", owner=rep.user_id, expected_close_date="2026-05-01")
    make_deal(actor, title="Kayak", amount="50", stage=stage_named(pipeline, "Lost").pk)

    def titles(query):
        response = api_client.get(f"/api/v1/deals{query}")
        assert response.status_code == 200, response.content
        return [d["title"] for d in response.json()["items"]]

    assert titles("?sort=-amount") == ["Boots", "Tents", "Kayak"]
    assert titles("?status=lost") == ["Kayak"]
    assert titles(f"?owner={rep.user_id}") == ["Boots"]
    assert titles("?close_after=2026-04-01") == ["Boots"]
    assert titles("?close_before=2026-04-01&sort=title") == ["Tents"]
    assert titles(f"?stage={stage_named(pipeline, 'Qualification').pk}&sort=title") == ["Boots", "Tents"]
    assert titles(f"?pipeline={pipeline.pk}&q=boo") == ["Boots"]
    page = api_client.get("/api/v1/deals?per_page=2&sort=title").json()
    assert (page["total"], [d["title"] for d in page["items"]]) == (3, ["Boots", "Kayak"])
    assert page["next"].endswith("per_page=2&sort=title&page=2")
    for query, field, message in (
        (
            "?sort=colour",
            "sort",
            "Unknown sort. Allowed: created, -created, updated, -updated, title, -title, amount, -amount, close, -close, probability, -probability, position.",
        ),
        ("?close_after=soon", "close_after", "Enter a date as YYYY-MM-DD."),
        ("?status=maybe", "status", "Choose one of open, won, lost."),
        ("?colour=red", "colour", None),
    ):
        response = api_client.get(f"/api/v1/deals{query}")
        assert response.status_code == 422
        ((got_field, got_message),) = errors_of(response)
        assert got_field == field
        if message:
            assert got_message == message


def test_the_list_query_count_does_not_grow_with_the_deals(api_client, actor, pipeline):
    with scope(organization=actor.organization):
        contact = contact_create(actor=actor, data={"first_name": "Ana"})
    make_deal(actor, contact=contact.pk)

    def count():
        with count_queries() as queries:
            assert api_client.get("/api/v1/deals").status_code == 200
        return len(queries)

    count()
    few = count()
    for n in range(10):
        make_deal(actor, title=f"Deal {n}", contact=contact.pk)
    assert count() == few


def test_moving_through_the_api(api_client, actor, pipeline):
    deal = make_deal(actor)
    reason = LostReason.dangerously_unscoped.create(organization=actor.organization, name="Price")
    response = post(
        api_client, f"/deals/{deal.pk}/move", {"stage": stage_named(pipeline, "Lost").pk, "lost_reason": reason.pk}
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["lost_reason"]) == ("lost", {"id": reason.pk, "name": "Price"})
    response = post(api_client, f"/deals/{deal.pk}/move", {})
    assert response.status_code == 422
    assert errors_of(response) == {("stage", "This field is required.")}
    response = post(api_client, f"/deals/{deal.pk}/move", {"stage": stage_named(pipeline, "Won").pk, "sideways": 1})
    assert errors_of(response) == {("sideways", "Unknown field.")}
    assert Event.dangerously_unscoped.filter(type="deal.stage_changed").count() == 1


def test_read_only_members_and_tokens_cannot_move(actor, member, pipeline):
    deal = make_deal(actor)
    won = stage_named(pipeline, "Won").pk
    response = post(login_client(member(role="read_only")), f"/deals/{deal.pk}/move", {"stage": won})
    assert (response.status_code, response.json()["detail"]) == (403, "You are not allowed to change this record.")
    response = post(api_client_for(actor, "read"), f"/deals/{deal.pk}/move", {"stage": won})
    assert (response.status_code, response.json()["detail"]) == (403, "This API token is read-only.")
    deal.refresh_from_db()
    assert deal.stage.name == "Qualification"


def test_the_board_endpoint(api_client, actor, pipeline):
    make_deal(actor, title="A", amount="100")
    make_deal(actor, title="B", amount="50", currency="USD")
    with scope(organization=actor.organization):
        ExchangeRate.objects.create(
            organization=actor.organization, currency="USD", rate="0.5", valid_from="2020-01-01"
        )
    response = api_client.get(f"/api/v1/pipelines/{pipeline.pk}/board")
    assert response.status_code == 200
    board = response.json()
    assert (board["pipeline"]["name"], board["base_currency"], board["stale_days"]) == ("Sales", "EUR", 14)
    first = board["columns"][0]
    assert {k: first[k] for k in ("count", "total", "weighted_total", "missing_rates", "has_more")} == {
        "count": 2,
        "total": "125.00",
        "weighted_total": "12.50",
        "missing_rates": [],
        "has_more": False,
    }
    assert [d["title"] for d in first["deals"]] == ["B", "A"]
    assert [c["stage"]["name"] for c in board["columns"]] == ["Qualification", "Proposal", "Negotiation", "Won", "Lost"]
    response = api_client.get(f"/api/v1/pipelines/{pipeline.pk}/board?close_month=13-2026")
    assert errors_of(response) == {("close_month", "Enter a month as YYYY-MM.")}


def test_pipelines_and_stages_through_the_api(api_client, actor):
    response = post(
        api_client,
        "/pipelines",
        {"name": "Partners", "stages": [{"name": "Talk", "probability": 20}, {"name": "Signed", "kind": "won"}]},
    )
    assert response.status_code == 422
    assert errors_of(response) == {("stages", "A pipeline needs at least one won and one lost stage.")}
    response = post(api_client, "/pipelines", {"name": "Sales"})
    assert response.status_code == 201
    pipeline_id = response.json()["id"]
    assert [(s["name"], s["probability"], s["kind"]) for s in response.json()["stages"]][:2] == [
        ("Qualification", 10, "open"),
        ("Proposal", 40, "open"),
    ]
    response = post(api_client, "/stages", {"pipeline": pipeline_id, "name": "Demo", "probability": 55})
    assert (response.status_code, response.json()["position"]) == (201, 3)
    stage_id = response.json()["id"]
    assert patch(api_client, f"/stages/{stage_id}", {"probability": 500}).json()["errors"] == [
        {"field": "probability", "message": "Enter a probability between 0 and 100."}
    ]
    ids = [s["id"] for s in api_client.get(f"/api/v1/pipelines/{pipeline_id}").json()["stages"]]
    response = patch(api_client, f"/pipelines/{pipeline_id}", {"stage_order": list(reversed(ids))})
    assert [s["name"] for s in response.json()["stages"]] == [
        "Lost",
        "Won",
        "Demo",
        "Negotiation",
        "Proposal",
        "Qualification",
    ]
    assert api_client.delete(f"/api/v1/stages/{stage_id}").status_code == 204
    assert api_client.get("/api/v1/pipelines").json()["total"] == 1
    assert api_client.delete(f"/api/v1/pipelines/{pipeline_id}").status_code == 204
    assert Pipeline.dangerously_unscoped.count() == 0
    assert Stage.dangerously_unscoped.count() == 0


def test_lost_reasons_and_exchange_rates_through_the_api(api_client):
    response = post(api_client, "/lost-reasons", {"name": "Price"})
    assert response.status_code == 201
    reason_id = response.json()["id"]
    assert errors_of(post(api_client, "/lost-reasons", {"name": "price"})) == {
        ("name", "This reason is already in the list.")
    }
    assert patch(api_client, f"/lost-reasons/{reason_id}", {"is_active": False}).json() == {
        "id": reason_id,
        "name": "Price",
        "is_active": False,
    }
    assert api_client.delete(f"/api/v1/lost-reasons/{reason_id}").status_code == 204

    response = post(api_client, "/exchange-rates", {"currency": "USD", "rate": "0.92", "valid_from": "2026-01-01"})
    assert response.status_code == 201
    assert {k: response.json()[k] for k in ("currency", "rate", "valid_from")} == {
        "currency": "USD",
        "rate": "0.92",
        "valid_from": "2026-01-01",
    }
    for data, errors in (
        (
            {"currency": "EUR", "rate": "1", "valid_from": "2026-01-01"},
            {("currency", "EUR is the base currency: its rate is always 1.")},
        ),
        (
            {"currency": "ZZZ", "rate": "1", "valid_from": "2026-01-01"},
            {("currency", "Enter an ISO 4217 currency code, e.g. EUR.")},
        ),
        ({"currency": "USD", "rate": "-2", "valid_from": "2026-02-01"}, {("rate", "Must be at least 1E-8.")}),
        ({"currency": "USD", "rate": "1", "valid_from": "yesterday"}, {("valid_from", "Enter a date as YYYY-MM-DD.")}),
    ):
        response = post(api_client, "/exchange-rates", data)
        assert (response.status_code, errors_of(response)) == (422, errors)
    assert ExchangeRate.dangerously_unscoped.count() == 1
    assert api_client.get("/api/v1/exchange-rates").json()["items"][0]["rate"] == "0.92"


def test_converting_a_lead_through_the_api(api_client, actor, pipeline):
    with scope(organization=actor.organization):
        lead = contact_create(actor=actor, data={"first_name": "Lucía"})
    response = post(api_client, f"/leads/{lead.pk}/convert", {"company_name": "Romero", "deal": {"amount": "5"}})
    assert response.status_code == 422
    assert errors_of(response) == {("deal.title", "This field is required.")}
    response = post(
        api_client,
        f"/leads/{lead.pk}/convert",
        {"company_name": "Romero", "deal": {"title": "First order", "amount": "5"}},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["contact"]["id"], body["company"]["name"], body["deal"]["title"], body["deal"]["amount"]) == (
        lead.pk,
        "Romero",
        "First order",
        "5.00",
    )


@pytest.mark.fuzz
def test_fuzzing_the_deals_api_finds_no_server_error_and_no_schema_violation(actor, pipeline):

    with scope(organization=actor.organization):
        lead = contact_create(actor=actor, data={"first_name": "Lucía"})
    deal = make_deal(actor, title="Tents", amount="100")
    reason = LostReason.dangerously_unscoped.create(organization=actor.organization, name="Price")
    rate = ExchangeRate.dangerously_unscoped.create(
        organization=actor.organization, currency="USD", rate=Decimal("0.9"), valid_from="2026-01-01"
    )
    headers = {"Authorization": api_client_for(actor).defaults["HTTP_AUTHORIZATION"]}
    known_ids = {
        "deal_id": deal.pk,
        "pipeline_id": pipeline.pk,
        "stage_id": stage_named(pipeline, "Proposal").pk,
        "lost_reason_id": reason.pk,
        "exchange_rate_id": rate.pk,
        "lead_id": lead.pk,
    }
    fuzz_api(
        headers,
        r"^/api/v1/(deals(/\{deal_id\}(/move)?)?$|pipelines|stages|lost-reasons|exchange-rates|leads/\{lead_id\}/convert)",
        max_examples=6,
        known_ids=known_ids,
    )
