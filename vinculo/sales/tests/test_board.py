"""The deal board: columns with counts and totals, moves (JSON and plain posts), refusals, filters,
stale deals, "load more", the empty state, and a query count that does not grow with the deals."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from vinculo.accounts.services import team_create
from vinculo.accounts.testing import login_client
from vinculo.core.models import Event
from vinculo.core.testing import count_queries
from vinculo.sales.models import Deal, LostReason, Pipeline
from vinculo.sales.testing import make_deal, make_pipeline, stage_named

JSON = {"Accept": "application/json"}


def board_url(org, query=""):
    return reverse("sales:deal_board", args=[org.slug]) + query


def move_url(org, deal):
    return reverse("sales:deal_move", args=[org.slug, deal.pk])


def column_html(response, stage):
    """The text of one column's summary on the board page."""
    html = response.content.decode()
    start = html.index(f'id="column-summary-{stage.pk}"')
    return html[start : html.index("</div>", start)]


def test_the_board_shows_one_column_per_stage_with_count_total_and_weighted_total(client_in, actor, pipeline):
    make_deal(actor, title="Tents for Aragón", amount="1000.00")
    make_deal(actor, title="Boots", amount="250.50")
    make_deal(actor, title="Kayaks", amount="4000", stage=stage_named(pipeline, "Negotiation").pk)

    response = client_in.get(board_url(actor.organization))

    assert response.status_code == 200
    html = response.content.decode()
    assert [name for name in ("Qualification", "Proposal", "Negotiation", "Won", "Lost") if f">{name}" in html] == [
        "Qualification",
        "Proposal",
        "Negotiation",
        "Won",
        "Lost",
    ]
    qualification = column_html(response, stage_named(pipeline, "Qualification"))
    assert 'data-count="2"' in qualification
    assert "1,250.50 EUR" in qualification
    assert "≈ 125.05 EUR" in qualification
    negotiation = column_html(response, stage_named(pipeline, "Negotiation"))
    assert 'data-count="1"' in negotiation
    assert "4,000.00 EUR" in negotiation
    assert "≈ 2,800.00 EUR" in negotiation
    assert "Tents for Aragón" in html
    assert 'src="/static/vendor/sortablejs/Sortable.min.js"' in html


def test_a_currency_without_a_rate_is_left_out_and_the_column_says_so(client_in, actor, pipeline):
    make_deal(actor, amount="100")
    make_deal(actor, amount="999", currency="JPY")
    response = client_in.get(board_url(actor.organization))
    summary = column_html(response, stage_named(pipeline, "Qualification"))
    assert "100.00 EUR" in summary
    assert "No exchange rate for JPY: not counted." in response.content.decode()


def test_htmx_gets_only_the_board_partial(client_in, actor, pipeline):
    make_deal(actor, title="Boots")
    response = client_in.get(board_url(actor.organization), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="board-filters"' not in html
    assert "data-board" in html
    assert "Boots" in html


def test_moving_a_card_answers_the_new_summaries_and_records_the_move(client_in, actor, pipeline, in_org_scope):
    deal = make_deal(actor, title="Boots", amount="200")
    proposal = stage_named(pipeline, "Proposal")

    response = client_in.post(move_url(actor.organization, deal), {"stage": proposal.pk, "before": ""}, headers=JSON)

    assert response.status_code == 200
    data = response.json()
    assert data["deal"] == {"id": deal.pk, "stage": proposal.pk, "status": "open", "probability": 40}
    assert data["detail"] == "“Boots” moved to Proposal."
    assert sorted(data["columns"]) == sorted(str(s.pk) for s in pipeline.stages.all())
    assert 'data-count="1"' in data["columns"][str(proposal.pk)]
    assert "200.00 EUR" in data["columns"][str(proposal.pk)]
    assert "≈ 80.00 EUR" in data["columns"][str(proposal.pk)]
    assert 'data-count="0"' in data["columns"][str(stage_named(pipeline, "Qualification").pk)]
    deal.refresh_from_db()
    assert (deal.stage_id, deal.probability) == (proposal.pk, 40)
    assert Event.dangerously_unscoped.filter(type="deal.stage_changed").count() == 1


def test_summaries_after_a_move_follow_the_boards_filters(client_in, actor, member, pipeline):
    rep = member(role="manager")
    mine = make_deal(actor, title="Mine", amount="100")
    make_deal(actor, title="Theirs", amount="700", owner=rep.user_id)
    proposal = stage_named(pipeline, "Proposal")
    response = client_in.post(
        move_url(actor.organization, mine), {"stage": proposal.pk, "filters": "owner=me"}, headers=JSON
    )
    columns = response.json()["columns"]
    assert 'data-count="0"' in columns[str(stage_named(pipeline, "Qualification").pk)]  # "Theirs" is filtered out
    assert 'data-count="1"' in columns[str(proposal.pk)]


def test_a_move_within_a_column_puts_the_card_above_another(client_in, actor, pipeline):
    first, _second, third = (make_deal(actor, title=t) for t in ("A", "B", "C"))  # each new deal goes on top
    client_in.post(move_url(actor.organization, first), {"stage": first.stage_id, "before": third.pk}, headers=JSON)
    with scope(organization=actor.organization):
        order = list(
            Deal.objects.filter(stage=first.stage_id).order_by("position", "id").values_list("title", flat=True)
        )
    assert order == ["A", "C", "B"]


def test_two_moves_of_the_same_deal_are_both_recorded(client_in, actor, pipeline):
    deal = make_deal(actor)
    for name in ("Proposal", "Negotiation"):
        response = client_in.post(
            move_url(actor.organization, deal), {"stage": stage_named(pipeline, name).pk}, headers=JSON
        )
        assert response.status_code == 200
    moves = [
        (e["from_stage"], e["to_stage"])
        for e in Event.dangerously_unscoped.filter(type="deal.stage_changed")
        .order_by("id")
        .values_list("properties", flat=True)
    ]
    assert moves == [("Qualification", "Proposal"), ("Proposal", "Negotiation")]
    deal.refresh_from_db()
    assert (deal.stage.name, deal.probability) == ("Negotiation", 70)


def test_moving_to_lost_keeps_the_reason(client_in, actor, pipeline):
    deal = make_deal(actor)
    reason = LostReason.dangerously_unscoped.create(organization=actor.organization, name="Price")
    response = client_in.post(
        move_url(actor.organization, deal),
        {"stage": stage_named(pipeline, "Lost").pk, "lost_reason": reason.pk},
        headers=JSON,
    )
    assert response.json()["deal"]["status"] == "lost"
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason_id, deal.probability) == ("lost", reason.pk, 0)


def test_a_refused_move_answers_json_and_changes_nothing(client_in, actor, other_actor, pipeline):
    deal = make_deal(actor)
    foreign = make_pipeline(other_actor.organization, "Theirs")
    other = make_pipeline(actor.organization, "Partners", default=False)
    for stage, message in (
        ("", "This field is required."),
        (stage_named(other, "Won").pk, "This stage belongs to another pipeline."),
        (stage_named(foreign, "Won").pk, "No such stage."),
        ("abc", "No such stage."),
    ):
        response = client_in.post(move_url(actor.organization, deal), {"stage": stage}, headers=JSON)
        assert response.status_code == 422
        assert response.json() == {"detail": message, "errors": [{"field": "stage", "message": message}]}
    response = client_in.post(
        move_url(actor.organization, deal), {"stage": stage_named(pipeline, "Won").pk, "before": 987654}, headers=JSON
    )
    assert response.json()["errors"] == [{"field": "before", "message": "No such card here."}]
    deal.refresh_from_db()
    assert deal.stage.name == "Qualification"
    assert Event.dangerously_unscoped.filter(type="deal.stage_changed").count() == 0


def test_a_read_only_member_cannot_move(actor, member, pipeline):
    deal = make_deal(actor)
    client = login_client(member(role="read_only"))
    response = client.post(move_url(actor.organization, deal), {"stage": stage_named(pipeline, "Won").pk}, headers=JSON)
    assert response.status_code == 403
    assert response.json() == {"detail": "You are not allowed to change this record.", "errors": []}
    deal.refresh_from_db()
    assert deal.stage.name == "Qualification"
    board = client.get(board_url(actor.organization)).content.decode()
    assert "data-move-menu" not in board
    assert 'id="move-modal"' not in board


def test_a_sales_rep_moves_own_team_and_unowned_deals_only(actor, member, pipeline):
    rep = member(role="sales")
    teammate = member(role="sales")
    stranger = member(role="sales")
    with scope(organization=actor.organization):
        team_create(actor=actor, name="North", member_ids=[rep.pk, teammate.pk])
    own = make_deal(actor, title="Own", owner=rep.user_id)
    team = make_deal(actor, title="Team", owner=teammate.user_id)
    unowned = make_deal(actor, title="Unowned", owner=None)
    hidden = make_deal(actor, title="Hidden", owner=stranger.user_id)
    client = login_client(rep)
    proposal = stage_named(pipeline, "Proposal").pk
    statuses = {
        deal.title: client.post(move_url(actor.organization, deal), {"stage": proposal}, headers=JSON).status_code
        for deal in (own, team, unowned, hidden)
    }
    assert statuses == {"Own": 200, "Team": 200, "Unowned": 200, "Hidden": 404}
    assert Deal.dangerously_unscoped.get(pk=hidden.pk).stage.name == "Qualification"
    board = client.get(board_url(actor.organization)).content.decode()
    assert "Hidden" not in board


def test_a_deleted_deal_answers_404(client_in, actor, pipeline):
    deal = make_deal(actor)
    Deal.dangerously_unscoped.filter(pk=deal.pk).delete()
    response = client_in.post(
        move_url(actor.organization, deal), {"stage": stage_named(pipeline, "Won").pk}, headers=JSON
    )
    assert response.status_code == 404


def test_a_plain_form_post_moves_and_goes_back(client_in, actor, pipeline):
    deal = make_deal(actor)
    detail = reverse("sales:deal_detail", args=[actor.organization.slug, deal.pk])
    response = client_in.post(
        move_url(actor.organization, deal), {"stage": stage_named(pipeline, "Won").pk, "next": detail}
    )
    assert response.status_code == 302
    assert response["Location"] == detail
    deal.refresh_from_db()
    assert deal.status == "won"
    response = client_in.post(move_url(actor.organization, deal), {"stage": "", "next": "https://evil.example/"})
    assert response["Location"] == detail  # an outside `next` is ignored


def test_filters_owner_team_and_close_month(client_in, actor, member, pipeline):
    rep = member(role="sales", full_name="Rita Rep")
    with scope(organization=actor.organization):
        team = team_create(actor=actor, name="South", member_ids=[rep.pk])
    make_deal(actor, title="Mine in March", expected_close_date="2026-03-15")
    make_deal(actor, title="Rita in April", owner=rep.user_id, expected_close_date="2026-04-02")

    def titles(query):
        html = client_in.get(board_url(actor.organization, query)).content.decode()
        return [t for t in ("Mine in March", "Rita in April") if t in html]

    assert titles("") == ["Mine in March", "Rita in April"]
    assert titles("?owner=me") == ["Mine in March"]
    assert titles(f"?owner={rep.user_id}") == ["Rita in April"]
    assert titles(f"?team={team.pk}") == ["Rita in April"]
    assert titles("?close_month=2026-03") == ["Mine in March"]
    response = client_in.get(board_url(actor.organization, "?close_month=March"))
    assert "Enter a month as YYYY-MM." in response.content.decode()


def test_idle_deals_are_marked_as_going_stale(client_in, actor, pipeline):
    old = make_deal(actor, title="Old")
    make_deal(actor, title="Fresh")
    long_ago = timezone.now() - dt.timedelta(days=20)
    Deal.dangerously_unscoped.filter(pk=old.pk).update(updated_at=long_ago)
    html = client_in.get(board_url(actor.organization)).content.decode()
    assert html.count("Going stale") == 1
    assert f'id="deal-card-{old.pk}"' in html.split("is-stale")[1][:200] or f'is-stale" id="deal-card-{old.pk}"' in html
    assert client_in.get(board_url(actor.organization, "?stale_days=30")).content.decode().count("Going stale") == 0
    Deal.dangerously_unscoped.filter(pk=old.pk).update(last_activity_at=timezone.now())
    assert client_in.get(board_url(actor.organization)).content.decode().count("Going stale") == 0


def test_large_columns_load_more_cards(client_in, actor, pipeline):
    org = actor.organization
    qualification = stage_named(pipeline, "Qualification")
    Deal.dangerously_unscoped.bulk_create(
        Deal(organization=org, pipeline=pipeline, stage=qualification, title=f"Deal {n:03}", currency="EUR", position=n)
        for n in range(60)
    )
    html = client_in.get(board_url(org)).content.decode()
    assert html.count('class="deal-card card') == 50
    assert "Deal 049" in html
    assert "Deal 050" not in html
    more = reverse("sales:stage_cards", args=[org.slug, qualification.pk])
    assert f"{more}?offset=50" in html
    response = client_in.get(f"{more}?offset=50", headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.count('class="deal-card card') == 10
    assert "Deal 050" in page
    assert "Deal 059" in page
    assert "Load more" not in page


def test_no_pipeline_offers_the_default_one(client_in, actor, member, in_org_scope):
    response = client_in.get(board_url(actor.organization))
    assert "Create the default pipeline" in response.content.decode()
    assert "Ask an owner" in login_client(member(role="sales")).get(board_url(actor.organization)).content.decode()
    response = client_in.post(reverse("sales:pipeline_create_default", args=[actor.organization.slug]))
    pipeline = Pipeline.dangerously_unscoped.get()
    assert response["Location"] == board_url(actor.organization, f"?pipeline={pipeline.pk}")
    assert (pipeline.name, pipeline.is_default, pipeline.stages.count()) == ("Sales", True, 5)


def test_another_pipeline_is_chosen_by_query_string(client_in, actor, pipeline):
    other = make_pipeline(
        actor.organization,
        "Partners",
        [("Talk", 20, "open"), ("Signed", 100, "won"), ("Gone", 0, "lost")],
        default=False,
    )
    html = client_in.get(board_url(actor.organization, f"?pipeline={other.pk}")).content.decode()
    assert ">Talk" in html
    assert ">Qualification" not in html
    html = client_in.get(board_url(actor.organization, "?pipeline=987654")).content.decode()
    assert "No such pipeline." in html
    assert ">Qualification" in html


def _board_queries(client, org):
    with count_queries() as queries:
        response = client.get(board_url(org))
    assert response.status_code == 200
    return len(queries)


def test_the_board_query_count_does_not_grow_with_the_deals(client_in, actor, member, pipeline):
    owner = member(role="sales")
    for name in ("Qualification", "Proposal", "Won"):
        make_deal(actor, title=f"{name} 1", stage=stage_named(pipeline, name).pk, owner=owner.user_id)
    _board_queries(client_in, actor.organization)  # the first request of a session also saves it
    few = _board_queries(client_in, actor.organization)
    for n in range(12):
        for name in ("Qualification", "Proposal", "Won"):
            make_deal(
                actor, title=f"{name} {n}", stage=stage_named(pipeline, name).pk, owner=actor.user_id, amount=str(n)
            )
    assert _board_queries(client_in, actor.organization) == few


def test_the_move_query_count_does_not_grow_with_the_deals(client_in, actor, pipeline):
    deal = make_deal(actor)
    proposal = stage_named(pipeline, "Proposal").pk
    qualification = stage_named(pipeline, "Qualification").pk

    def count(stage):
        with count_queries() as queries:
            assert client_in.post(move_url(actor.organization, deal), {"stage": stage}, headers=JSON).status_code == 200
        return len(queries)

    count(proposal)  # the first request of a session also saves it
    few = count(qualification)
    for n in range(15):
        make_deal(actor, title=f"Other {n}")
    assert count(proposal) == few
    assert (
        json.loads(client_in.post(move_url(actor.organization, deal), {"stage": proposal}, headers=JSON).content)[
            "deal"
        ]["stage"]
        == proposal
    )


def test_the_demo_fills_the_board_with_deals_in_every_stage(client, db):
    import io

    from django.core.management import call_command

    from vinculo.accounts.models import Organization
    from vinculo.core.management.demo_login import DEMO_EMAIL, DEMO_PASSWORD

    out = io.StringIO()
    call_command("demo", contacts=90, seed=5, stdout=out)
    assert "Sales: 30 deals over 5 stages, 6 lost reasons" in out.getvalue()
    org = Organization.objects.get(slug="demo")
    deals = Deal.dangerously_unscoped.filter(organization=org)
    assert deals.count() == 30
    assert set(deals.values_list("status", flat=True)) == {"open", "won", "lost"}
    assert not deals.filter(status="lost", lost_reason__isnull=True).exists()
    assert not deals.filter(status="open", closed_at__isnull=False).exists()
    assert all(
        d.probability == d.stage.probability for d in deals.filter(probability_reason="").select_related("stage")
    )
    assert client.login(email=DEMO_EMAIL, password=DEMO_PASSWORD)
    response = client.get(board_url(org, "?closed=all"))  # the demo's deals closed in earlier months too
    assert response.status_code == 200
    assert response.content.decode().count('class="deal-card card') == 30


def test_switching_pipeline_with_htmx_also_updates_the_header_links(client_in, actor, pipeline):
    other = make_pipeline(actor.organization, "Partners", default=False)
    html = client_in.get(
        board_url(actor.organization, f"?pipeline={other.pk}"), headers={"HX-Request": "true"}
    ).content.decode()
    assert 'id="board-header-links" hx-swap-oob="true"' in html
    assert f"/deals/new/?pipeline={other.pk}" in html
    page = client_in.get(board_url(actor.organization)).content.decode()
    assert page.count('id="board-header-links"') == 1
    assert "hx-swap-oob" not in page


# --- won and lost columns: the deals closed in a period (this month by default) ------------------

# 15 April 2026, 12:00 in Madrid: "this month" is April, "last month" March
NOW = dt.datetime(2026, 4, 15, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def closed_deals(actor, pipeline, monkeypatch):
    """A fixed clock and a Madrid organisation with deals closed around the 1 April boundary."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    org = actor.organization
    org.time_zone = "Europe/Madrid"
    org.save(update_fields=["time_zone"])
    won, lost = stage_named(pipeline, "Won"), stage_named(pipeline, "Lost")
    reason = LostReason.dangerously_unscoped.create(organization=org, name="Price")

    def closed(title, stage, amount, at):
        extra = {"lost_reason": reason.pk} if stage == lost else {}
        deal = make_deal(actor, title=title, amount=amount, stage=stage.pk, **extra)
        Deal.dangerously_unscoped.filter(pk=deal.pk).update(closed_at=at)

    make_deal(actor, title="Open tents", amount="50.00")
    closed("Won 2 April", won, "100.00", dt.datetime(2026, 4, 2, 9, 0, tzinfo=dt.UTC))
    # 1 April 00:30 in Madrid (UTC+2) is 31 March 22:30 UTC: April
    closed("Won first minutes of April", won, "20.00", dt.datetime(2026, 3, 31, 22, 30, tzinfo=dt.UTC))
    # 31 March 23:30 in Madrid is 21:30 UTC: March
    closed("Won 31 March late", won, "3.00", dt.datetime(2026, 3, 31, 21, 30, tzinfo=dt.UTC))
    closed("Won in February", won, "4000.00", dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.UTC))
    closed("Won last year", won, "50000.00", dt.datetime(2025, 12, 1, 9, 0, tzinfo=dt.UTC))
    closed("Lost 10 April", lost, "7.00", dt.datetime(2026, 4, 10, 9, 0, tzinfo=dt.UTC))
    closed("Lost 20 March", lost, "900.00", dt.datetime(2026, 3, 20, 9, 0, tzinfo=dt.UTC))
    return {"won": won, "lost": lost, "open": stage_named(pipeline, "Qualification")}


def column_titles(response, stage):
    """The titles of the cards in one column, in order."""
    html = response.content.decode()
    start = html.index(f'<ol class="board-cards list-unstyled mb-0" data-cards data-stage-id="{stage.pk}"')
    column = html[start : html.index("</ol>", start)]
    return re.findall(r'data-title="([^"]*)"', column)


@pytest.mark.parametrize(
    ("query", "won", "lost", "won_total", "selected"),
    [
        ("", ["Won first minutes of April", "Won 2 April"], ["Lost 10 April"], "120.00 EUR", "this_month"),
        ("?closed=last_month", ["Won 31 March late"], ["Lost 20 March"], "3.00 EUR", "last_month"),
        # the second quarter starts on 1 April in Madrid: 31 March 23:30 there is in the first
        (
            "?closed=this_quarter",
            ["Won first minutes of April", "Won 2 April"],
            ["Lost 10 April"],
            "120.00 EUR",
            "this_quarter",
        ),
        (
            "?closed=all",
            ["Won last year", "Won in February", "Won 31 March late", "Won first minutes of April", "Won 2 April"],
            ["Lost 20 March", "Lost 10 April"],
            "54,123.00 EUR",
            "all",
        ),
    ],
)
def test_won_and_lost_columns_show_the_deals_closed_in_the_chosen_period(
    client_in, actor, closed_deals, query, won, lost, won_total, selected
):
    response = client_in.get(board_url(actor.organization, query))

    assert response.status_code == 200
    assert column_titles(response, closed_deals["open"]) == ["Open tents"]
    assert column_titles(response, closed_deals["won"]) == won
    assert column_titles(response, closed_deals["lost"]) == lost
    won_summary = column_html(response, closed_deals["won"])
    assert f'data-count="{len(won)}"' in won_summary
    assert won_total in won_summary
    assert f'data-count="{len(lost)}"' in column_html(response, closed_deals["lost"])
    assert f'<option value="{selected}" selected>' in response.content.decode()


def test_this_year_counts_from_the_first_of_january_in_the_organisations_time_zone(client_in, actor, closed_deals):
    response = client_in.get(board_url(actor.organization, "?closed=this_year"))

    # not "Won last year" (1 December 2025)
    assert column_titles(response, closed_deals["won"]) == [
        "Won in February",
        "Won 31 March late",
        "Won first minutes of April",
        "Won 2 April",
    ]


def test_an_unknown_period_is_reported_and_the_board_shows_this_month(client_in, actor, closed_deals):
    response = client_in.get(board_url(actor.organization, "?closed=forever"))

    assert response.status_code == 200
    assert "Choose one of this_month, last_month, this_quarter, this_year, all." in response.content.decode()
    assert column_titles(response, closed_deals["won"]) == ["Won first minutes of April", "Won 2 April"]


def test_load_more_and_summaries_after_a_move_keep_the_period(client_in, actor, closed_deals):
    org = actor.organization
    cards = client_in.get(
        reverse("sales:stage_cards", args=[org.slug, closed_deals["won"].pk]) + "?closed=last_month&offset=0"
    )
    assert re.findall(r'data-title="([^"]*)"', cards.content.decode()) == ["Won 31 March late"]
    deal = Deal.dangerously_unscoped.get(title="Open tents")

    moved = client_in.post(
        move_url(org, deal), {"stage": closed_deals["won"].pk, "filters": "closed=last_month"}, headers=JSON
    )

    assert moved.status_code == 200
    # closed now (15 April): not in last month's won column, whose count stays at one
    summary = moved.json()["columns"][str(closed_deals["won"].pk)]
    assert 'data-count="1"' in summary
    assert "3.00 EUR" in summary


def test_the_board_api_takes_the_period_and_refuses_an_unknown_one(api_client, actor, pipeline, closed_deals):
    url = f"/api/v1/pipelines/{pipeline.pk}/board"

    default = api_client.get(url).json()
    last_month = api_client.get(url + "?closed=last_month").json()
    wrong = api_client.get(url + "?closed=forever")

    def won_column(board):
        column = next(c for c in board["columns"] if c["stage"]["name"] == "Won")
        return [d["title"] for d in column["deals"]], column["count"], column["total"]

    assert won_column(default) == (["Won first minutes of April", "Won 2 April"], 2, "120.00")
    assert won_column(last_month) == (["Won 31 March late"], 1, "3.00")
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [
        {"field": "closed", "message": "Choose one of this_month, last_month, this_quarter, this_year, all."}
    ]


def test_the_deals_api_lists_deals_closed_between_two_days(api_client, actor, closed_deals):
    response = api_client.get("/api/v1/deals?closed_from=2026-03-31&closed_to=2026-04-01&sort=title")

    assert response.status_code == 200
    # days in Madrid: 31 March 23:30 and 1 April 00:30 are in; 2 April is not
    assert [d["title"] for d in response.json()["items"]] == ["Won 31 March late", "Won first minutes of April"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("closed_from=31-03-2026", "closed_from", "Enter a date as YYYY-MM-DD."),
        (
            "closed_from=2026-04-02&closed_to=2026-04-01",
            "closed_to",
            "The end of the period cannot be before its start.",
        ),
    ],
)
def test_the_deals_api_refuses_bad_closing_days(api_client, actor, closed_deals, query, field, message):
    response = api_client.get(f"/api/v1/deals?{query}")

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": field, "message": message}]
