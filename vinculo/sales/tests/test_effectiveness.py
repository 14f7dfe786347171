"""The sales effectiveness report: exact figures by rep, zone, product line and month, its CSV export,
the API, bad parameters and query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django_scopes import scope

from vinculo.accounts.testing import api_client_for, login_client, make_member
from vinculo.core.testing import count_queries
from vinculo.sales.models import Activity, Deal, ExchangeRate, Zone
from vinculo.sales.selectors.effectiveness import EFFECTIVENESS_GROUPS, effectiveness
from vinculo.sales.selectors.forecast import parse_report_params
from vinculo.sales.testing import make_deal, make_pipeline

Q2 = {"start": "2026-04-01", "end": "2026-06-30"}
D = Decimal


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


def closed_deal(actor, owner, amount, currency, status, *, created, closed, zone=None, line=""):
    deal = make_deal(
        actor,
        title=f"{amount} {currency}",
        amount=amount,
        currency=currency,
        owner=owner.user_id,
        product_line=line,
        **({"zone": zone.pk} if zone else {}),
    )
    Deal.dangerously_unscoped.filter(pk=deal.pk).update(status=status, created_at=at(created), closed_at=at(closed))
    return deal


def activity(org, owner, done, deal=None):
    return Activity.dangerously_unscoped.create(
        organization=org,
        subject="Call",
        due_at=at(done or "2026-05-01"),
        assignee=owner.user,
        deal=deal,
        done_at=at(done) if done else None,
    )


@pytest.fixture
def data(actor, org, member):
    make_pipeline(org)
    ana = member(role="sales", full_name="Ana")
    luis = member(role="sales", full_name="Luis")
    iberia = Zone.dangerously_unscoped.create(organization=org, name="Iberia", countries=["ES", "PT"])
    france = Zone.dangerously_unscoped.create(organization=org, name="France", countries=["FR"])
    ExchangeRate.dangerously_unscoped.create(organization=org, currency="USD", rate="0.9", valid_from="2026-01-01")
    first = closed_deal(
        actor, ana, "1000.00", "EUR", "won", created="2026-04-01", closed="2026-04-11", zone=iberia, line="Cloud"
    )
    closed_deal(
        actor, ana, "500.00", "USD", "won", created="2026-03-02", closed="2026-05-01", zone=iberia, line="Cloud"
    )
    closed_deal(
        actor, ana, "300.00", "EUR", "lost", created="2026-04-01", closed="2026-05-15", zone=france, line="Hardware"
    )
    closed_deal(actor, luis, "200.00", "GBP", "won", created="2026-06-01", closed="2026-06-06", zone=france)
    fifth = closed_deal(actor, luis, "100.00", "EUR", "lost", created="2026-06-01", closed="2026-06-20", line="Cloud")
    closed_deal(actor, luis, "100.00", "EUR", "lost", created="2026-03-01", closed="2026-03-31")  # before Q2
    make_deal(actor, title="still open", amount="5000", owner=ana.user_id)
    activity(org, ana, "2026-04-02", first)
    activity(org, ana, "2026-04-03", first)
    activity(org, ana, "2026-05-05")
    activity(org, luis, "2026-06-10", fifth)
    activity(org, luis, None, fifth)  # not done
    activity(org, luis, "2026-07-01", fifth)  # after Q2
    return {"ana": ana, "luis": luis}


def run(org, group_by):
    params = parse_report_params({**Q2, "group_by": group_by}, groups=EFFECTIVENESS_GROUPS, default_group="owner")
    with scope(organization=org):
        return effectiveness(organization=org, params=params)


def figures(f):
    return (f.won, f.lost, f.win_rate, f.revenue, f.average_deal_size, f.cycle_days, f.activities)


def test_effectiveness_by_rep(org, data):
    report = run(org, "owner")
    assert [(r.label, figures(r.figures)) for r in report.rows] == [
        ("Ana", (2, 1, D("66.7"), D("1450.00"), D("725.00"), D("35.0"), 3)),
        ("Luis", (1, 1, D("50.0"), D("0.00"), None, D("5.0"), 1)),
    ]
    assert figures(report.total) == (3, 2, D("60.0"), D("1450.00"), D("725.00"), D("25.0"), 4)
    assert report.missing_rates == ["GBP"]


def test_effectiveness_by_zone(org, data):
    assert [(r.label, figures(r.figures)) for r in run(org, "zone").rows] == [
        ("France", (1, 1, D("50.0"), D("0.00"), None, D("5.0"), 0)),
        ("Iberia", (2, 0, D("100.0"), D("1450.00"), D("725.00"), D("35.0"), 2)),
        ("No zone", (0, 1, D("0.0"), D("0.00"), None, None, 2)),
    ]


def test_effectiveness_by_product_line(org, data):
    assert [(r.label, figures(r.figures)) for r in run(org, "product_line").rows] == [
        ("Cloud", (2, 1, D("66.7"), D("1450.00"), D("725.00"), D("35.0"), 3)),
        ("Hardware", (0, 1, D("0.0"), D("0.00"), None, None, 0)),
        ("No product line", (1, 0, D("100.0"), D("0.00"), None, D("5.0"), 1)),
    ]


def test_effectiveness_by_month_lists_every_month(org, data):
    assert [(r.label, figures(r.figures)) for r in run(org, "month").rows] == [
        ("Apr 2026", (1, 0, D("100.0"), D("1000.00"), D("1000.00"), D("10.0"), 2)),
        ("May 2026", (1, 1, D("50.0"), D("450.00"), D("450.00"), D("60.0"), 1)),
        ("Jun 2026", (1, 1, D("50.0"), D("0.00"), None, D("5.0"), 1)),
    ]
    assert [r.label for r in run(org, "quarter").rows] == ["Q2 2026"]


CSV_BY_REP = (
    "Rep,Deals won,Deals lost,Win rate (%),Revenue (EUR),Average deal size (EUR),Average sales cycle (days),"
    "Activities done\r\n"
    "Ana,2,1,66.7,1450.00,725.00,35.0,3\r\n"
    "Luis,1,1,50.0,0.00,,5.0,1\r\n"
    "Total,3,2,60.0,1450.00,725.00,25.0,4\r\n"
)


def test_the_csv_export_has_the_exact_content(actor, org, data):
    response = login_client(actor).get(f"/o/{org.slug}/sales/effectiveness.csv", Q2)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="effectiveness-owner-20260401-20260630.csv"'
    assert response.content.decode() == CSV_BY_REP


def test_the_csv_export_writes_a_formula_in_a_reps_name_as_text(actor, org, data):
    """An outside test named a rep `=HYPERLINK(...)`: a spreadsheet must not run it."""
    from vinculo.accounts.models import User

    User.objects.filter(full_name="Ana").update(full_name='=HYPERLINK("http://evil.example","Ana")')

    response = login_client(actor).get(f"/o/{org.slug}/sales/effectiveness.csv", Q2)

    lines = response.content.decode().split("\r\n")
    assert lines[1] == '"\'=HYPERLINK(""http://evil.example"",""Ana"")",2,1,66.7,1450.00,725.00,35.0,3'


def test_the_csv_headers_are_in_spanish_for_a_spanish_user(org, data):
    reader = make_member(org, "manager", language="es")
    response = login_client(reader).get(f"/o/{org.slug}/sales/effectiveness.csv", Q2)
    header = response.content.decode().split("\r\n")[0]
    assert header == (
        "Comercial,Negocios ganados,Negocios perdidos,Tasa de éxito (%),Ingresos (EUR),"
        "Importe medio por negocio (EUR),Ciclo de venta medio (días),Actividades completadas"
    )


def test_the_csv_refuses_bad_parameters(actor, org):
    response = login_client(actor).get(f"/o/{org.slug}/sales/effectiveness.csv", {"group_by": "color"})
    assert response.status_code == 422
    assert response.content.decode() == "group_by: Choose one of owner, zone, product_line, month, quarter."


def test_the_page_shows_the_table_and_links_the_csv(actor, org, data):
    response = login_client(actor).get(f"/o/{org.slug}/sales/effectiveness/", {**Q2, "group_by": "zone"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<th scope="row" class="fw-normal">Iberia</th>' in html
    assert (
        f'href="/o/{org.slug}/sales/effectiveness.csv?start=2026-04-01&amp;end=2026-06-30&amp;period=month&amp;group_by=zone"'
        in html
    )
    assert response.context["chart"]["labels"] == ["France", "Iberia", "No zone"]
    assert response.context["chart"]["series"][0]["data"] == ["0.00", "1450.00", "0.00"]


def test_the_api_returns_the_same_numbers(actor, org, data):
    response = api_client_for(actor).get("/api/v1/effectiveness", {**Q2, "group_by": "month"})
    assert response.status_code == 200
    body = response.json()
    assert body["rows"][1] == {
        "key": "2026-05-01",
        "label": "May 2026",
        "figures": {
            "won": 1,
            "lost": 1,
            "win_rate": "50.0",
            "revenue": "450.00",
            "average_deal_size": "450.00",
            "cycle_days": "60.0",
            "activities": 1,
        },
    }
    assert body["total"]["revenue"] == "1450.00"
    assert body["missing_rates"] == ["GBP"]


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"group_by": "team"},
            [{"field": "group_by", "message": "Choose one of owner, zone, product_line, month, quarter."}],
        ),
        (
            {"start": "2026-06-01", "end": "2026-01-01"},
            [{"field": "end", "message": "The end of the period cannot be before its start."}],
        ),
        ({"end": "2026-13-01"}, [{"field": "end", "message": "Enter a date as YYYY-MM-DD."}]),
    ],
)
def test_bad_parameters_answer_422(actor, org, params, errors):
    response = api_client_for(actor).get("/api/v1/effectiveness", params)
    assert (response.status_code, response.json()) == (422, {"detail": "Some fields are not valid.", "errors": errors})
    page = login_client(actor).get(f"/o/{org.slug}/sales/effectiveness/", params)
    assert page.status_code == 422
    assert errors[0]["message"] in page.content.decode()


def _count(client, url):
    with count_queries() as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("group_by", EFFECTIVENESS_GROUPS)
def test_queries_do_not_grow_with_deals_or_activities(actor, org, data, group_by):
    page, api = login_client(actor), api_client_for(actor)
    urls = [
        (page, f"/o/{org.slug}/sales/effectiveness/?start=2026-04-01&end=2026-06-30&group_by={group_by}"),
        (page, f"/o/{org.slug}/sales/effectiveness.csv?start=2026-04-01&end=2026-06-30&group_by={group_by}"),
        (api, f"/api/v1/effectiveness?start=2026-04-01&end=2026-06-30&group_by={group_by}"),
    ]
    for client, url in urls:
        _count(client, url)  # warm up
    before = [_count(client, url) for client, url in urls]
    zone = Zone.dangerously_unscoped.create(organization=org, name="Benelux", countries=["BE", "NL", "LU"])
    for i in range(5):
        deal = closed_deal(
            actor,
            data["luis"],
            "10.00",
            "USD",
            "won",
            created="2026-04-01",
            closed=f"2026-0{4 + i % 3}-1{i}",
            zone=zone,
            line=f"Line {i}",
        )
        activity(org, data["ana"], f"2026-0{4 + i % 3}-2{i}", deal)
    assert [_count(client, url) for client, url in urls] == before
