"""The forecast: exact figures on a hand-made data set with two currencies and one without a rate,
per rep, team and pipeline and per month or quarter; the page, the API and bad parameters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django_scopes import scope

from vinculo.accounts.models import Team
from vinculo.accounts.testing import api_client_for, login_client
from vinculo.core.testing import count_queries
from vinculo.sales.models import Deal, ExchangeRate, Quota
from vinculo.sales.selectors.forecast import FORECAST_GROUPS, forecast, parse_report_params
from vinculo.sales.testing import make_deal, make_pipeline

Q2 = {"start": "2026-04-01", "end": "2026-06-30"}
D = Decimal


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


def add_deal(
    actor,
    owner,
    amount,
    currency,
    *,
    status="open",
    closed=None,
    expected=None,
    category="pipeline",
    probability=10,
    pipeline=None,
):
    deal = make_deal(
        actor,
        title=f"{owner.user.full_name} {amount} {currency}",
        amount=amount,
        currency=currency,
        owner=owner.user_id,
        **({"pipeline": pipeline.pk} if pipeline else {}),
    )
    Deal.dangerously_unscoped.filter(pk=deal.pk).update(
        status=status,
        closed_at=closed,
        expected_close_date=expected,
        forecast_category=category,
        probability=probability,
    )
    return deal


@pytest.fixture
def data(actor, org, member):
    """Ana and Luis, two pipelines, EUR (base) and USD at 0.90; GBP has no rate."""
    sales = make_pipeline(org, "Sales")
    partners = make_pipeline(org, "Partners", default=False)
    ana = member(role="sales", full_name="Ana")
    luis = member(role="sales", full_name="Luis")
    ExchangeRate.dangerously_unscoped.create(organization=org, currency="USD", rate="0.9", valid_from="2026-01-01")
    # won in Q2
    add_deal(actor, ana, "1000.00", "EUR", status="won", closed=at("2026-04-15"), category="closed", probability=100)
    add_deal(actor, ana, "500.00", "USD", status="won", closed=at("2026-05-10"), category="closed", probability=100)
    add_deal(
        actor,
        luis,
        "200.00",
        "GBP",
        status="won",
        closed=at("2026-06-01"),
        category="closed",
        probability=100,
        pipeline=partners,
    )
    # won just before the quarter, lost in it: not counted
    add_deal(actor, ana, "999.00", "EUR", status="won", closed=at("2026-03-31", 23), category="closed")
    add_deal(actor, ana, "777.00", "EUR", status="lost", closed=at("2026-04-20"), category="omitted", probability=0)
    # open, expected in Q2
    add_deal(actor, ana, "2000.00", "EUR", expected=dt.date(2026, 5, 20), category="commit", probability=70)
    add_deal(
        actor,
        luis,
        "1000.00",
        "USD",
        expected=dt.date(2026, 6, 30),
        category="best_case",
        probability=40,
        pipeline=partners,
    )
    add_deal(actor, luis, "300.00", "EUR", expected=dt.date(2026, 4, 2), category="pipeline", probability=10)
    add_deal(actor, luis, "5000.00", "EUR", expected=dt.date(2026, 4, 10), category="omitted", probability=50)
    # open, expected after Q2
    add_deal(actor, ana, "700.00", "EUR", expected=dt.date(2026, 7, 1), category="commit", probability=90)
    Quota.dangerously_unscoped.create(
        organization=org, user=ana.user, period="quarter", starts_on="2026-04-01", amount="3000"
    )
    for month in ("2026-04-01", "2026-05-01"):
        Quota.dangerously_unscoped.create(
            organization=org, user=luis.user, period="month", starts_on=month, amount="1000"
        )
    return {"ana": ana, "luis": luis, "sales": sales, "partners": partners}


def run(org, **params):
    with scope(organization=org):
        return forecast(
            organization=org, params=parse_report_params(params, groups=FORECAST_GROUPS, default_group="owner")
        )


def figures(f):
    return (f.won, f.commit, f.best_case, f.weighted, f.quota, f.attainment)


def test_forecast_per_rep(org, data):
    result = run(org, **Q2)
    assert [(r.label, figures(r.figures)) for r in result.rows] == [
        ("Ana", (D("1450.00"), D("2000.00"), D("2000.00"), D("1400.00"), D("3000.00"), D("48.3"))),
        ("Luis", (D("0.00"), D("0.00"), D("900.00"), D("390.00"), D("2000.00"), D("0.0"))),
    ]
    assert figures(result.total) == (D("1450.00"), D("2000.00"), D("2900.00"), D("1790.00"), D("5000.00"), D("29.0"))
    assert result.missing_rates == ["GBP"]
    assert result.currency == "EUR"


def test_forecast_per_month_splits_a_quarterly_quota_in_thirds(org, data):
    result = run(org, **Q2)
    assert [(b.label, figures(b.figures)) for b in result.buckets] == [
        ("Apr 2026", (D("1000.00"), D("0.00"), D("0.00"), D("30.00"), D("2000.00"), D("50.0"))),
        ("May 2026", (D("450.00"), D("2000.00"), D("2000.00"), D("1400.00"), D("2000.00"), D("22.5"))),
        ("Jun 2026", (D("0.00"), D("0.00"), D("900.00"), D("360.00"), D("1000.00"), D("0.0"))),
    ]


def test_forecast_by_quarter_sums_monthly_quotas(org, data):
    result = run(org, period="quarter", **Q2)
    assert [(b.label, figures(b.figures)) for b in result.buckets] == [
        ("Q2 2026", (D("1450.00"), D("2000.00"), D("2900.00"), D("1790.00"), D("5000.00"), D("29.0"))),
    ]
    luis = next(r for r in result.rows if r.label == "Luis")
    assert luis.figures.quota == D("2000.00")


def test_forecast_per_pipeline_has_no_quota_per_row(org, data):
    result = run(org, group_by="pipeline", **Q2)
    assert [(r.label, figures(r.figures)) for r in result.rows] == [
        ("Partners", (D("0.00"), D("0.00"), D("900.00"), D("360.00"), None, None)),
        ("Sales", (D("1450.00"), D("2000.00"), D("2000.00"), D("1430.00"), None, None)),
    ]
    assert result.total.quota == D("5000.00")


def test_forecast_per_team_counts_a_rep_in_each_of_their_teams(org, data):
    north = Team.dangerously_unscoped.create(organization=org, name="North")
    south = Team.dangerously_unscoped.create(organization=org, name="South")
    north.members.set([data["ana"], data["luis"]])
    south.members.set([data["ana"]])
    result = run(org, group_by="team", **Q2)
    assert [(r.label, figures(r.figures)) for r in result.rows] == [
        ("North", (D("1450.00"), D("2000.00"), D("2900.00"), D("1790.00"), D("5000.00"), D("29.0"))),
        ("South", (D("1450.00"), D("2000.00"), D("2000.00"), D("1400.00"), D("3000.00"), D("48.3"))),
    ]
    assert result.total.won == D("1450.00")


def test_forecast_defaults_to_this_quarter_by_month():
    params = parse_report_params({}, groups=FORECAST_GROUPS, default_group="owner", today=dt.date(2026, 11, 29))
    assert (params.start, params.end, params.period, params.group_by) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 12, 31),
        "month",
        "owner",
    )


def test_the_range_widens_to_whole_periods():
    params = parse_report_params(
        {"start": "2026-02-15", "end": "2026-05", "period": "quarter"}, groups=FORECAST_GROUPS, default_group="owner"
    )
    assert (params.start, params.end) == (dt.date(2026, 1, 1), dt.date(2026, 6, 30))


# --- the page and the API --------------------------------------------------------------------------


def test_the_forecast_page_shows_the_figures_and_the_missing_rate(actor, org, data):
    response = login_client(actor).get(f"/o/{org.slug}/sales/forecast/", Q2)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<th scope="row" class="fw-normal">Ana</th>' in html
    assert "1,450.00" in html
    assert "48.3 %" in html
    assert "Left out for want of an exchange rate: GBP." in html
    chart = response.context["chart"]
    assert chart["labels"] == ["Apr 2026", "May 2026", "Jun 2026"]
    assert chart["series"][0] == {"key": "won", "label": "Won", "kind": "bar", "data": ["1000.00", "450.00", "0.00"]}
    assert chart["series"][4]["data"] == ["2000.00", "2000.00", "1000.00"]


def test_the_forecast_api_returns_the_same_numbers(actor, org, data):
    response = api_client_for(actor).get("/api/v1/forecast", Q2)
    assert response.status_code == 200
    body = response.json()
    assert body["params"] == {"start": "2026-04-01", "end": "2026-06-30", "period": "month", "group_by": "owner"}
    assert body["rows"][0] == {
        "key": data["ana"].user_id,
        "label": "Ana",
        "figures": {
            "won": "1450.00",
            "commit": "2000.00",
            "best_case": "2000.00",
            "weighted": "1400.00",
            "quota": "3000.00",
            "attainment": "48.3",
        },
    }
    assert body["total"]["best_case"] == "2900.00"
    assert body["missing_rates"] == ["GBP"]
    assert [b["label"] for b in body["buckets"]] == ["Apr 2026", "May 2026", "Jun 2026"]


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"group_by": "region"}, [{"field": "group_by", "message": "Choose one of owner, team, pipeline."}]),
        (
            {"start": "2026-06-01", "end": "2026-05-31"},
            [{"field": "end", "message": "The end of the period cannot be before its start."}],
        ),
        ({"start": "yesterday"}, [{"field": "start", "message": "Enter a date as YYYY-MM-DD."}]),
        ({"period": "week"}, [{"field": "period", "message": "Choose one of month, quarter."}]),
        (
            {"start": "2020-01-01", "end": "2026-12-31"},
            [{"field": "end", "message": "At most 36 months or quarters at once."}],
        ),
    ],
)
def test_bad_parameters_answer_422_with_field_errors(actor, org, params, errors):
    response = api_client_for(actor).get("/api/v1/forecast", params)
    assert response.status_code == 422
    assert response.json() == {"detail": "Some fields are not valid.", "errors": errors}
    page = login_client(actor).get(f"/o/{org.slug}/sales/forecast/", params)
    assert page.status_code == 422
    assert errors[0]["message"] in page.content.decode()


def test_the_page_keeps_the_wrong_input_in_the_form(actor, org):
    page = login_client(actor).get(f"/o/{org.slug}/sales/forecast/", {"start": "2026-06-01", "end": "2026-05-31"})
    html = page.content.decode()
    assert 'name="end" id="report-end" value="2026-05-31"' in html
    assert 'id="report-end_error">The end of the period cannot be before its start.</div>' in html


def test_htmx_gets_only_the_report(actor, org, data):
    response = login_client(actor).get(f"/o/{org.slug}/sales/forecast/", Q2, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="report">')
    assert "<html" not in html


def _queries(client, url):
    with count_queries() as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("group_by", ["owner", "team", "pipeline"])
def test_forecast_page_and_api_queries_do_not_grow_with_deals(actor, org, data, group_by):
    page, api = login_client(actor), api_client_for(actor)
    page_url = f"/o/{org.slug}/sales/forecast/?start=2026-04-01&end=2026-06-30&group_by={group_by}"
    api_url = f"/api/v1/forecast?start=2026-04-01&end=2026-06-30&group_by={group_by}"
    _queries(page, page_url), _queries(api, api_url)  # warm up: session and token bookkeeping
    before = (_queries(page, page_url), _queries(api, api_url))
    for i in range(6):
        add_deal(
            actor,
            data["luis"],
            f"{i + 1}00.00",
            "USD",
            expected=dt.date(2026, 4 + i % 3, 5),
            category="commit",
            pipeline=data["partners"],
        )
        add_deal(actor, data["ana"], "10.00", "EUR", status="won", closed=at(f"2026-0{4 + i % 3}-07"))
    assert (_queries(page, page_url), _queries(api, api_url)) == before


def test_a_read_only_member_sees_the_forecast(org, member, data):
    viewer = member(role="read_only")
    assert login_client(viewer).get(f"/o/{org.slug}/sales/forecast/", Q2).status_code == 200


# --- month boundaries in the organisation's time zone (grouped in SQL) ------------------------------


@pytest.fixture
def madrid(org):
    org.time_zone = "Europe/Madrid"
    org.save(update_fields=["time_zone"])
    make_pipeline(org, "Sales")
    return org


def won_at(actor, owner, amount, closed):
    return add_deal(actor, owner, amount, "EUR", status="won", closed=closed, category="closed", probability=100)


def test_a_deal_won_at_23_30_in_madrid_on_31_march_counts_in_march(actor, madrid, member):
    ana = member(role="sales", full_name="Ana")
    # 2026-03-31 23:30 in Madrid (summer time, UTC+2) is 21:30 UTC; 00:30 on 1 April is 22:30 UTC on 31 March
    won_at(actor, ana, "100.00", dt.datetime(2026, 3, 31, 21, 30, tzinfo=dt.UTC))
    won_at(actor, ana, "20.00", dt.datetime(2026, 3, 31, 22, 30, tzinfo=dt.UTC))
    # 1 January 00:30 in Madrid (winter time, UTC+1) is 23:30 UTC on 31 December: January, not December
    won_at(actor, ana, "3.00", dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.UTC))
    # the last instant before 1 January in Madrid: outside the range
    won_at(actor, ana, "4000.00", dt.datetime(2025, 12, 31, 22, 59, 59, tzinfo=dt.UTC))

    result = run(madrid, start="2026-01-01", end="2026-04-30")

    assert [(b.starts_on, b.figures.won) for b in result.buckets] == [
        (dt.date(2026, 1, 1), D("3.00")),
        (dt.date(2026, 2, 1), D("0.00")),
        (dt.date(2026, 3, 1), D("100.00")),
        (dt.date(2026, 4, 1), D("20.00")),
    ]
    assert result.total.won == D("123.00")


def test_quarters_split_on_the_local_first_day_of_the_quarter(actor, madrid, member):
    ana = member(role="sales", full_name="Ana")
    won_at(actor, ana, "100.00", dt.datetime(2026, 3, 31, 21, 30, tzinfo=dt.UTC))  # Q1 in Madrid
    won_at(actor, ana, "20.00", dt.datetime(2026, 3, 31, 22, 0, tzinfo=dt.UTC))  # 1 April 00:00 in Madrid: Q2
    won_at(actor, ana, "3.00", dt.datetime(2026, 12, 31, 22, 59, tzinfo=dt.UTC))  # 31 Dec 23:59 in Madrid: Q4

    result = run(madrid, start="2026-01-01", end="2026-12-31", period="quarter")

    assert [(b.label, b.figures.won) for b in result.buckets] == [
        ("Q1 2026", D("100.00")),
        ("Q2 2026", D("20.00")),
        ("Q3 2026", D("0.00")),
        ("Q4 2026", D("3.00")),
    ]


def test_open_deals_fall_in_the_month_of_their_expected_close_date(actor, madrid, member):
    ana = member(role="sales", full_name="Ana")
    add_deal(actor, ana, "100.00", "EUR", expected=dt.date(2026, 3, 31), category="commit", probability=50)
    add_deal(actor, ana, "20.00", "EUR", expected=dt.date(2026, 4, 1), category="commit", probability=50)
    add_deal(actor, ana, "3.00", "EUR", expected=dt.date(2026, 4, 30), category="best_case", probability=100)

    result = run(madrid, start="2026-03-01", end="2026-04-30")

    assert [(b.starts_on, b.figures.commit, b.figures.best_case, b.figures.weighted) for b in result.buckets] == [
        (dt.date(2026, 3, 1), D("100.00"), D("100.00"), D("50.00")),
        (dt.date(2026, 4, 1), D("20.00"), D("23.00"), D("13.00")),
    ]
