"""Deal pages: the list (filters, sort, HTMX, query count), a deal's page, the forms with their
errors (422), deletion; leads and their conversion; the sales settings page."""

from __future__ import annotations

from django.urls import reverse
from django_scopes import scope

from vinculo.accounts.testing import login_client
from vinculo.contacts.models import Contact
from vinculo.contacts.services import contact_create
from vinculo.core.models import Event
from vinculo.core.testing import count_queries
from vinculo.sales.models import Activity, Deal, ExchangeRate, LostReason, Pipeline, Stage
from vinculo.sales.testing import make_deal, make_pipeline, stage_named


def url(name, org, *args, query=""):
    return reverse(f"sales:{name}", args=[org.slug, *args]) + query


# --- the list ------------------------------------------------------------------------------------


def test_the_list_filters_sorts_and_answers_htmx_with_the_results_only(client_in, actor, pipeline):
    make_deal(actor, title="Tents", amount="300")
    make_deal(actor, title="Boots", amount="900", stage=stage_named(pipeline, "Won").pk)
    make_deal(actor, title="Tent pegs", amount="20")

    def titles(query, **headers):
        html = client_in.get(url("deal_list", actor.organization, query=query), headers=headers).content.decode()
        return [t for t in sorted(("Tents", "Boots", "Tent pegs"), key=html.find) if t in html]

    assert titles("?q=tent") == ["Tent pegs", "Tents"]
    assert titles("?status=won") == ["Boots"]
    assert titles("?sort=-amount") == ["Boots", "Tents", "Tent pegs"]
    assert titles("?sort=amount") == ["Tent pegs", "Tents", "Boots"]
    response = client_in.get(url("deal_list", actor.organization, query="?sort=colour"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html
    assert "Unknown sort. Allowed: created, -created" in html


def test_the_list_query_count_does_not_grow_with_the_deals(client_in, actor, pipeline):
    with scope(organization=actor.organization):
        contact = contact_create(actor=actor, data={"first_name": "Ana"})
    make_deal(actor, contact=contact.pk)

    def count():
        with count_queries() as queries:
            assert client_in.get(url("deal_list", actor.organization)).status_code == 200
        return len(queries)

    count()
    few = count()
    for n in range(10):
        make_deal(actor, title=f"Deal {n}", contact=contact.pk, stage=stage_named(pipeline, "Proposal").pk)
    assert count() == few


# --- a deal's page -------------------------------------------------------------------------------


def test_the_deal_page_shows_fields_reason_timeline_activities_and_history(client_in, actor, pipeline):
    with scope(organization=actor.organization):
        contact = contact_create(actor=actor, data={"first_name": "Ana", "last_name": "García"})
    deal = make_deal(
        actor, title="Kayaks", amount="1500", contact=contact.pk, probability=25, probability_reason="Budget cut"
    )
    client_in.post(url("deal_move", actor.organization, deal.pk), {"stage": stage_named(pipeline, "Proposal").pk})
    Activity.dangerously_unscoped.create(
        organization=actor.organization, subject="Call Ana", due_at=deal.created_at, deal=deal, assignee=actor.user
    )
    html = client_in.get(url("deal_detail", actor.organization, deal.pk)).content.decode()
    assert "Kayaks" in html
    assert "1,500.00 EUR" in html
    assert "Call Ana" in html
    assert "Deal moved" in html
    assert "Deal created" in html
    assert "Ana García" in html
    assert "Stage:</span> <del>Qualification</del>" in html  # the history names the field and both values
    deal.refresh_from_db()
    assert deal.probability == 40  # the move took the stage's probability
    make_deal(actor, title="Override", probability=25, probability_reason="Budget cut")
    other = Deal.dangerously_unscoped.get(title="Override")
    html = client_in.get(url("deal_detail", actor.organization, other.pk)).content.decode()
    assert "Overridden (stage default 10 %): Budget cut" in html


def test_the_create_form_keeps_input_and_shows_errors_with_422(client_in, actor, pipeline):
    data = {
        "title": "",
        "amount": "-5",
        "currency": "EURO",
        "pipeline": pipeline.pk,
        "expected_close_date": "next week",
        "probability": "150",
        "forecast_category": "pipeline",
    }
    response = client_in.post(url("deal_create", actor.organization), data)
    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors == {
        "title": ["This field is required."],
        "amount": ["Cannot be negative."],
        "currency": ["Enter an ISO 4217 currency code, e.g. EUR."],
        "expected_close_date": ["Enter a date as YYYY-MM-DD."],
        "probability": ["Enter a probability between 0 and 100."],
    }
    html = response.content.decode()
    assert 'value="next week"' in html
    assert 'value="EURO"' in html
    assert Deal.dangerously_unscoped.count() == 0


def test_a_deal_is_created_edited_and_deleted_through_the_pages(client_in, actor, pipeline):
    response = client_in.post(
        url("deal_create", actor.organization),
        {
            "title": "Tents",
            "amount": "1200.50",
            "currency": "eur",
            "pipeline": pipeline.pk,
            "stage": stage_named(pipeline, "Proposal").pk,
            "owner": actor.user_id,
            "forecast_category": "commit",
        },
    )
    deal = Deal.dangerously_unscoped.get()
    assert response["Location"] == url("deal_detail", actor.organization, deal.pk)
    assert (deal.title, str(deal.amount), deal.currency, deal.stage.name, deal.probability) == (
        "Tents",
        "1200.50",
        "EUR",
        "Proposal",
        40,
    )
    edit = url("deal_edit", actor.organization, deal.pk)
    form = client_in.get(edit).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"stage": stage_named(pipeline, "Negotiation").pk})
    assert client_in.post(edit, data).status_code == 302
    deal.refresh_from_db()
    assert (deal.stage.name, deal.probability) == ("Negotiation", 70)  # an untouched probability follows the stage
    data.update({"probability": "55", "probability_reason": ""})
    response = client_in.post(edit, data)
    assert response.status_code == 422
    assert response.context["form"].errors == {
        "probability_reason": ["Say why this deal's probability differs from its stage's."]
    }
    delete = url("deal_delete", actor.organization, deal.pk)
    assert "Delete the deal Tents?" in client_in.get(delete).content.decode()
    assert client_in.post(delete)["Location"] == url("deal_list", actor.organization)
    assert Deal.dangerously_unscoped.count() == 0


def test_a_read_only_member_sees_but_cannot_edit(actor, member, pipeline):
    deal = make_deal(actor)
    client = login_client(member(role="read_only"))
    assert client.get(url("deal_detail", actor.organization, deal.pk)).status_code == 200
    assert client.get(url("deal_edit", actor.organization, deal.pk)).status_code == 403
    assert client.get(url("deal_create", actor.organization)).status_code == 403
    assert client.post(url("deal_delete", actor.organization, deal.pk)).status_code == 403
    assert Deal.dangerously_unscoped.count() == 1


# --- leads ---------------------------------------------------------------------------------------


def test_the_lead_list_offers_to_convert_and_the_conversion_opens_a_deal(client_in, actor, pipeline):
    with scope(organization=actor.organization):
        lead = contact_create(actor=actor, data={"first_name": "Lucía", "lifecycle_stage": "lead"})
        contact_create(actor=actor, data={"first_name": "Carla", "lifecycle_stage": "customer"})
    html = client_in.get(url("lead_list", actor.organization)).content.decode()
    assert "Lucía" in html
    assert "Carla" not in html
    convert = url("lead_convert", actor.organization, lead.pk)
    assert convert in html
    assert "Qualify & convert" in html

    response = client_in.post(
        convert,
        {
            "company_name": "Romero",
            "create_deal": "on",
            "deal_title": "",
            "deal_amount": "-1",
            "deal_pipeline": pipeline.pk,
        },
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {
        "deal_title": ["This field is required."],
    }
    assert Contact.dangerously_unscoped.get(pk=lead.pk).lifecycle_stage == "lead"

    response = client_in.post(
        convert,
        {
            "company_name": "Romero",
            "create_deal": "on",
            "deal_title": "First order",
            "deal_amount": "100",
            "deal_pipeline": pipeline.pk,
        },
    )
    deal = Deal.dangerously_unscoped.get()
    assert response["Location"] == url("deal_detail", actor.organization, deal.pk)
    contact = Contact.dangerously_unscoped.select_related("company").get(pk=lead.pk)
    assert contact.company is not None
    assert (contact.lifecycle_stage, contact.company.name, deal.contact_id) == ("prospect", "Romero", lead.pk)
    assert Event.dangerously_unscoped.filter(type="lead.converted", contact=lead).count() == 1


# --- settings ------------------------------------------------------------------------------------


def test_the_settings_page_manages_pipelines_stages_reasons_and_rates(client_in, actor, pipeline, in_org_scope):
    org = actor.organization
    settings = url("sales_settings", org)
    assert client_in.get(settings).status_code == 200

    response = client_in.post(url("pipeline_create", org), {"name": "Sales"})
    assert response.status_code == 422
    assert "Another pipeline already has this name." in response.content.decode()
    assert client_in.post(url("pipeline_create", org), {"name": "Partners"})["Location"] == settings + "#pipelines"
    partners = Pipeline.dangerously_unscoped.get(name="Partners")

    response = client_in.post(url("pipeline_stage_create", org, partners.pk), {"name": "Demo", "probability": "101"})
    assert response.status_code == 422
    assert "Enter a probability between 0 and 100." in response.content.decode()
    client_in.post(
        url("pipeline_stage_create", org, partners.pk), {"name": "Demo", "probability": "50", "kind": "open"}
    )
    demo = Stage.dangerously_unscoped.get(pipeline=partners, name="Demo")
    assert demo.position == 3

    client_in.post(url("stage_edit", org, demo.pk), {"position": "0"})
    assert list(partners.stages.order_by("position").values_list("name", flat=True))[:2] == ["Demo", "Qualification"]
    client_in.post(url("stage_edit", org, demo.pk), {"name": "Live demo", "probability": "60", "kind": "open"})
    demo.refresh_from_db()
    assert (demo.name, demo.probability) == ("Live demo", 60)

    make_deal(actor, title="In demo", pipeline=partners.pk, stage=demo.pk)
    response = client_in.post(url("stage_delete", org, demo.pk))
    assert response.status_code == 422
    assert "This stage has 1 deals: choose the stage to move them to." in response.content.decode()
    target = stage_named(partners, "Proposal")
    client_in.post(url("stage_delete", org, demo.pk), {"move_to": target.pk})
    assert not Stage.dangerously_unscoped.filter(pk=demo.pk).exists()
    assert Deal.dangerously_unscoped.get(title="In demo").stage_id == target.pk

    client_in.post(url("lost_reason_create", org), {"name": "Price", "is_active": "on"})
    reason = LostReason.dangerously_unscoped.get()
    client_in.post(url("lost_reason_edit", org, reason.pk), {"name": "Too expensive", "_present": "1"})
    reason.refresh_from_db()
    assert (reason.name, reason.is_active) == ("Too expensive", False)

    response = client_in.post(
        url("exchange_rate_create", org), {"currency": "EUR", "rate": "1", "valid_from": "2026-01-01"}
    )
    assert response.status_code == 422
    assert "EUR is the base currency: its rate is always 1." in response.content.decode()
    client_in.post(url("exchange_rate_create", org), {"currency": "USD", "rate": "0.9", "valid_from": "2026-01-01"})
    assert list(ExchangeRate.dangerously_unscoped.values_list("currency", flat=True)) == ["USD"]


def test_a_sales_rep_sees_the_settings_but_cannot_change_them(actor, member, pipeline):
    client = login_client(member(role="sales"))
    html = client.get(url("sales_settings", actor.organization)).content.decode()
    assert "Only owners, admins and managers can change the sales settings." in html
    response = client.post(url("pipeline_create", actor.organization), {"name": "Mine"})
    assert response.status_code == 403
    assert Pipeline.dangerously_unscoped.count() == 1


# --- bulk actions --------------------------------------------------------------------------------


def test_bulk_actions_give_an_owner_move_and_delete_with_confirmation(client_in, actor, member, pipeline):
    rep = member(role="sales")
    deals = [make_deal(actor, title=f"Deal {n}") for n in range(3)]
    ids = [str(d.pk) for d in deals[:2]]
    bulk = url("deal_bulk", actor.organization)

    response = client_in.post(bulk, {"action": "assign_owner", "owner": rep.user_id, "ids": ids, "next": "status=open"})
    assert response["Location"] == url("deal_list", actor.organization, query="?status=open")
    assert sorted(Deal.dangerously_unscoped.filter(owner=rep.user).values_list("title", flat=True)) == [
        "Deal 0",
        "Deal 1",
    ]
    assert Event.dangerously_unscoped.filter(type="deal.owner_changed").count() == 2

    client_in.post(bulk, {"action": "move", "stage": stage_named(pipeline, "Won").pk, "ids": ids})
    assert sorted(Deal.dangerously_unscoped.filter(status="won").values_list("title", flat=True)) == [
        "Deal 0",
        "Deal 1",
    ]

    response = client_in.post(bulk, {"action": "delete", "ids": ids})
    assert response.status_code == 200
    assert "Delete these 2 deals?" in response.content.decode()
    assert Deal.dangerously_unscoped.count() == 3
    client_in.post(bulk, {"action": "delete", "ids": ids, "confirm": "1"})
    assert list(Deal.dangerously_unscoped.values_list("title", flat=True)) == ["Deal 2"]


def test_a_refused_bulk_action_changes_nothing_and_says_why(client_in, actor, pipeline):
    other = make_pipeline(actor.organization, "Partners", default=False)
    deals = [make_deal(actor, title="In sales"), make_deal(actor, title="In partners", pipeline=other.pk)]
    bulk = url("deal_bulk", actor.organization)
    response = client_in.post(
        bulk, {"action": "move", "stage": stage_named(pipeline, "Won").pk, "ids": [d.pk for d in deals]}
    )
    assert response.status_code == 422
    assert "This stage belongs to another pipeline." in response.content.decode()
    assert Deal.dangerously_unscoped.filter(status="won").count() == 0  # all or nothing
    for data, message in (
        ({"action": "explode", "ids": [deals[0].pk]}, "Choose what to do with the selected deals."),
        ({"action": "assign_owner", "ids": []}, "Select at least one deal."),
        ({"action": "assign_owner", "ids": ["x"]}, "Deal ids must be whole numbers."),
    ):
        response = client_in.post(bulk, data)
        assert response.status_code == 422
        assert message in response.content.decode()


def test_the_timeline_of_a_deal_without_a_contact_shows_only_its_own_events(client_in, actor, pipeline):
    from vinculo.contacts.services import company_create

    with scope(organization=actor.organization):
        company = company_create(actor=actor, data={"name": "Atlas"})
    mine = make_deal(actor, title="Mine", company=company.pk)
    other = make_deal(actor, title="Other", company=company.pk, amount="5")
    alone = make_deal(actor, title="Alone")
    client_in.post(url("deal_move", actor.organization, mine.pk), {"stage": stage_named(pipeline, "Proposal").pk})
    client_in.post(url("deal_move", actor.organization, other.pk), {"stage": stage_named(pipeline, "Won").pk})

    from vinculo.sales.selectors.deals import deal_events

    with scope(organization=actor.organization):
        assert [(e.type, e.properties["deal_id"]) for e in deal_events(deal=mine)] == [
            ("deal.stage_changed", mine.pk),
            ("deal.created", mine.pk),
        ]
        assert [(e.type, e.properties["deal_id"]) for e in deal_events(deal=alone)] == [("deal.created", alone.pk)]


def test_the_deal_page_links_its_activities_and_offers_a_new_one(actor, member, client_in, pipeline):
    deal = make_deal(actor, title="Renewal")
    activity = Activity.dangerously_unscoped.create(
        organization=actor.organization, subject="Call about renewal", due_at=deal.created_at, deal=deal
    )
    slug = actor.organization.slug

    html = client_in.get(f"/o/{slug}/deals/{deal.pk}/").content.decode()
    reader_html = login_client(member(role="read_only")).get(f"/o/{slug}/deals/{deal.pk}/").content.decode()

    assert f'href="/o/{slug}/activities/new/?deal={deal.pk}" id="deal-activity-create"' in html
    assert f'<a href="/o/{slug}/activities/{activity.pk}/">Call about renewal</a>' in html
    assert 'id="deal-activity-create"' not in reader_html
