"""Assignment rules: territory, zone and product-line conditions, fixed reps and round robin with
capacity and days out of office, the fallback owner, the reasons given, overrides and leads."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_scopes import scope

from vinculo.accounts.models import Team
from vinculo.contacts.models import Company, Contact
from vinculo.core.models import AuditEntry, Event
from vinculo.sales.models import AssignmentRule, AssignmentSettings, Deal, OutOfOffice, Zone
from vinculo.sales.services.assignment import (
    assignment_preview,
    assignment_rule_create,
    assignment_rule_move,
    assignment_rule_reorder,
    assignment_rule_update,
    assignment_settings_update,
    lead_assign,
    out_of_office_create,
    zone_create,
)
from vinculo.sales.services.deals import deal_reassign
from vinculo.sales.testing import make_deal


@pytest.fixture
def reps(member):
    """Ana, Luis and Marta, sales reps in the team South (round-robin order: by name)."""
    ana = member(role="sales", full_name="Ana")
    luis = member(role="sales", full_name="Luis")
    marta = member(role="sales", full_name="Marta")
    return ana, luis, marta


@pytest.fixture
def south(org, reps):
    team = Team.dangerously_unscoped.create(organization=org, name="South")
    team.members.set(reps)
    return team


@pytest.fixture
def iberia(org):
    return Zone.dangerously_unscoped.create(organization=org, name="Iberia", countries=["ES", "PT"])


def company_in(org, country, region="", name="Acme"):
    return Company.dangerously_unscoped.create(organization=org, name=name, country=country, region=region)


def rule(org, name, **fields):
    position = AssignmentRule.dangerously_unscoped.filter(organization=org).count()
    return AssignmentRule.dangerously_unscoped.create(organization=org, name=name, position=position, **fields)


def owners(deals):
    return [Deal.dangerously_unscoped.get(pk=d.pk).owner.full_name for d in deals]


def test_without_rules_a_deal_belongs_to_its_creator(actor, pipeline):
    deal = make_deal(actor)
    deal.refresh_from_db()
    assert deal.owner_id == actor.user_id
    assert deal.assigned_by_rule_id is None
    assert deal.assignment_reason == (
        f"No rule matched and there is no fallback owner: {actor.user.full_name}, who created it."
    )


def test_the_fallback_owner_takes_what_no_rule_matches(actor, org, pipeline, reps, iberia):
    ana, luis, _marta = reps
    rule(org, "Iberia", zone=iberia, user=ana.user)
    AssignmentSettings.dangerously_unscoped.create(organization=org, fallback_owner=luis.user)
    deal = make_deal(actor, company=company_in(org, "FR").pk)
    assert deal.owner_id == luis.user_id
    assert deal.assignment_reason == "No rule matched: fallback owner Luis."


def test_round_robin_in_a_zone_takes_turns_with_exact_reasons(actor, org, pipeline, south, iberia):
    rule(org, "Iberia", zone=iberia, team=south)
    madrid = company_in(org, "ES", "Madrid")
    deals = [make_deal(actor, title=f"D{i}", company=madrid.pk) for i in range(4)]
    assert owners(deals) == ["Ana", "Luis", "Marta", "Ana"]
    first = Deal.dangerously_unscoped.get(pk=deals[0].pk)
    assert first.assignment_reason == ("Rule “Iberia” (zone Iberia, round robin in team South): Ana is next in turn.")
    assert first.assigned_by_rule is not None
    assert first.assigned_by_rule.name == "Iberia"
    assert AssignmentRule.dangerously_unscoped.get(name="Iberia").last_assigned_user.full_name == "Ana"


def test_round_robin_skips_reps_out_of_office_and_at_capacity(actor, org, pipeline, reps, south, iberia):
    ana, luis, marta = reps
    rule(org, "Iberia", zone=iberia, team=south, capacity=2)
    today = timezone.localdate()
    OutOfOffice.dangerously_unscoped.create(
        organization=org, user=ana.user, starts_on=today - dt.timedelta(days=1), ends_on=today
    )
    for i in range(2):
        make_deal(actor, title=f"Luis {i}", owner=luis.user_id)
    deal = make_deal(actor, company=company_in(org, "PT").pk)
    assert deal.owner_id == marta.user_id
    assert deal.assignment_reason == (
        "Rule “Iberia” (zone Iberia, round robin in team South): Marta is next in turn; "
        "Ana is out of office; Luis is at capacity (2 open deals)."
    )


def test_a_rule_whose_reps_are_all_unavailable_gives_way_to_the_next(actor, org, pipeline, reps, iberia):
    ana, luis, _marta = reps
    today = timezone.localdate()
    OutOfOffice.dangerously_unscoped.create(organization=org, user=ana.user, starts_on=today, ends_on=today)
    rule(org, "Key accounts", user=ana.user)
    rule(org, "Everything else", user=luis.user)
    deal = make_deal(actor)
    assert deal.owner_id == luis.user_id
    assert deal.assignment_reason == (
        "Rule “Key accounts” (fixed rep Ana) skipped: Ana is out of office. "
        "Rule “Everything else” (fixed rep Luis): Luis is the rule's rep."
    )


def test_conditions_country_region_and_product_line(actor, org, pipeline, reps):
    ana, luis, marta = reps
    rule(org, "Madrid cloud", countries=["ES"], regions=["Madrid"], product_line="Cloud", user=ana.user)
    rule(org, "Spain", countries=["ES"], user=luis.user)
    rule(org, "Rest", user=marta.user)
    madrid, sevilla, paris = company_in(org, "ES", "madrid"), company_in(org, "ES", "Sevilla"), company_in(org, "FR")
    cases = [
        (madrid, "Cloud", "Ana"),
        (madrid, "Hardware", "Luis"),
        (sevilla, "Cloud", "Luis"),
        (paris, "Cloud", "Marta"),
    ]
    for company, line, expected in cases:
        deal = make_deal(actor, company=company.pk, product_line=line)
        assert Deal.dangerously_unscoped.get(pk=deal.pk).owner.full_name == expected, (company.region, line)
    assert Deal.dangerously_unscoped.filter(owner=ana.user).get().assignment_reason == (
        "Rule “Madrid cloud” (countries ES, regions Madrid, product line Cloud, fixed rep Ana): Ana is the rule's rep."
    )


def test_the_contacts_country_counts_when_the_company_has_none(actor, org, pipeline, reps, iberia):
    ana, _luis, _marta = reps
    rule(org, "Iberia", zone=iberia, user=ana.user)
    contact = Contact.dangerously_unscoped.create(organization=org, first_name="Rui", country="PT")
    deal = make_deal(actor, contact=contact.pk, company=company_in(org, "").pk)
    assert deal.owner_id == ana.user_id


def test_a_deal_in_a_zone_matches_that_zones_rule_whatever_its_country(actor, org, pipeline, reps, iberia):
    ana, luis, _marta = reps
    other_zone = Zone.dangerously_unscoped.create(organization=org, name="France", countries=["FR"])
    rule(org, "France", zone=other_zone, user=luis.user)
    rule(org, "Iberia", zone=iberia, user=ana.user)
    deal = make_deal(actor, company=company_in(org, "FR").pk, zone=iberia.pk)
    assert deal.owner_id == ana.user_id


def test_rules_for_leads_are_not_used_for_deals(actor, org, pipeline, reps):
    ana, luis, _marta = reps
    rule(org, "Leads", applies_to="leads", user=ana.user)
    rule(org, "Deals", applies_to="deals", user=luis.user)
    assert make_deal(actor).owner_id == luis.user_id


def test_round_robin_reads_the_turn_under_the_lock_not_from_a_stale_copy(
    actor, org, pipeline, reps, south, iberia, monkeypatch
):
    """Another assignment that commits between our read of the rules and our lock of the rule row
    (here: simulated when the rule is matched) must not be overwritten: the turn is re-read under
    the lock and advanced with an UPDATE, so the two deals go to two different reps."""
    from vinculo.sales.services import assignment

    ana = reps[0]
    iberia_rule = rule(org, "Iberia", zone=iberia, team=south)
    real_match = assignment.rule_matches

    def concurrent_assignment_commits_first(rule_, subject):
        AssignmentRule.dangerously_unscoped.filter(pk=iberia_rule.pk).update(last_assigned_user=ana.user)
        return real_match(rule_, subject)

    monkeypatch.setattr(assignment, "rule_matches", concurrent_assignment_commits_first)
    deal = make_deal(actor, company=company_in(org, "ES").pk)
    assert owners([deal]) == ["Luis"]
    assert AssignmentRule.dangerously_unscoped.get(pk=iberia_rule.pk).last_assigned_user.full_name == "Luis"


def test_round_robin_is_fair_over_many_deals(actor, org, pipeline, south):
    rule(org, "All", team=south)
    deals = [make_deal(actor, title=f"D{i}") for i in range(9)]
    names = owners(deals)
    assert {n: names.count(n) for n in set(names)} == {"Ana": 3, "Luis": 3, "Marta": 3}


def test_an_explicit_owner_skips_the_rules(actor, org, pipeline, reps, south):
    _ana, _luis, marta = reps
    rule(org, "All", team=south)
    deal = make_deal(actor, owner=marta.user_id)
    assert (deal.owner_id, deal.assignment_reason) == (marta.user_id, "")
    assert AssignmentRule.dangerously_unscoped.get().last_assigned_user_id is None


def test_a_manager_overrides_the_owner_and_the_reason_says_so(actor, org, pipeline, reps, member):
    ana, luis, _marta = reps
    rule(org, "All", user=ana.user)
    deal = make_deal(actor)
    manager = member(role="manager", full_name="Mona")
    with scope(organization=org):
        deal_reassign(actor=manager, deal=deal, owner=luis.user_id)
    deal.refresh_from_db()
    assert (deal.owner_id, deal.assigned_by_rule_id, deal.assignment_reason) == (
        luis.user_id,
        None,
        "Overridden by Mona.",
    )
    assert Event.dangerously_unscoped.filter(type="deal.owner_changed").count() == 1
    with scope(organization=org), pytest.raises(PermissionDenied):
        deal_reassign(actor=ana, deal=deal, owner=ana.user_id)
    deal.refresh_from_db()
    assert deal.owner_id == luis.user_id


def test_a_new_lead_gets_its_owner_and_the_reason_is_an_event(actor, org, reps):
    _ana, luis, _marta = reps
    rule(org, "Portugal leads", applies_to="leads", countries=["PT"], user=luis.user)
    contact = Contact.dangerously_unscoped.create(organization=org, first_name="Rui", country="PT")
    with scope(organization=org):
        lead_assign(actor=actor, contact=contact)
    contact.refresh_from_db()
    assert contact.owner_id == luis.user_id
    event = Event.dangerously_unscoped.get(type="lead.assigned")
    assert event.contact_id == contact.pk
    assert event.properties == {
        "owner_id": luis.user_id,
        "owner": "Luis",
        "rule_id": AssignmentRule.dangerously_unscoped.get().pk,
        "rule": "Portugal leads",
        "reason": "Rule “Portugal leads” (countries PT, fixed rep Luis): Luis is the rule's rep.",
    }


def test_the_preview_explains_without_advancing_the_turn(actor, org, south, iberia):
    rule(org, "Iberia", zone=iberia, team=south)
    with scope(organization=org):
        first = assignment_preview(actor=actor, data={"country": "es", "region": "", "product_line": ""})
        second = assignment_preview(actor=actor, data={"country": "ES"})
    assert first.user is not None
    assert second.user is not None
    assert (first.user.full_name, second.user.full_name) == ("Ana", "Ana")
    assert first.reason == "Rule “Iberia” (zone Iberia, round robin in team South): Ana is next in turn."
    assert AssignmentRule.dangerously_unscoped.get().last_assigned_user_id is None


def test_the_preview_refuses_unknown_countries_and_foreign_zones(actor, org, other_org):
    foreign = Zone.dangerously_unscoped.create(organization=other_org, name="Theirs", countries=["ES"])
    with scope(organization=org), pytest.raises(ValidationError) as exc:
        assignment_preview(actor=actor, data={"country": "XX", "zone": foreign.pk})
    assert exc.value.message_dict == {"country": ["Unknown country code: XX."], "zone": ["No such zone."]}


# --- configuration writes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": "", "countries": ["ES"]}, {"name": ["This field is required."]}),
        ({"name": "X", "countries": ["ES", "XX", "Spain"]}, {"countries": ["Unknown country codes: XX, Spain."]}),
        ({"name": "X", "countries": []}, {"countries": ["Give at least one country."]}),
        ({"name": "X", "countries": "ES", "colour": 1}, {"colour": ["Unknown field."]}),
        ({"name": "iberia", "countries": ["ES"]}, {"name": ["A zone with this name already exists."]}),
    ],
)
def test_bad_zones_are_refused_and_nothing_is_saved(actor, org, iberia, data, errors):
    with scope(organization=org), pytest.raises(ValidationError) as exc:
        zone_create(actor=actor, data=data)
    assert exc.value.message_dict == errors
    assert list(Zone.dangerously_unscoped.values_list("name", flat=True)) == ["Iberia"]


def test_a_zone_is_created_with_clean_codes_and_audited(actor, org):
    with scope(organization=org):
        zone = zone_create(
            actor=actor, data={"name": " Iberia ", "countries": "es, pt, ES", "regions": "Madrid\nLisboa"}
        )
    assert (zone.name, zone.countries, zone.regions) == ("Iberia", ["ES", "PT"], ["Madrid", "Lisboa"])
    assert AuditEntry.dangerously_unscoped.get(object_type="sales.zone").action == "create"


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": "R"}, {"user": ["Choose a fixed rep or a team for round robin."]}),
        ({"name": "R", "user": "me", "team": None}, {"user": ["No such member of this organisation."]}),
        (
            {"name": "R", "capacity": 0, "team": "south"},
            {"capacity": ["Enter a number between 1 and 100000, or nothing for no limit."]},
        ),
        (
            {"name": "R", "applies_to": "tickets", "team": "south"},
            {"applies_to": ["Choose one of leads, deals, both."]},
        ),
        ({"name": "R", "zone": "foreign", "team": "south"}, {"zone": ["No such zone."]}),
        ({"name": "R", "countries": ["ZZ"], "team": "south"}, {"countries": ["Unknown country codes: ZZ."]}),
        (
            {"name": "R", "user": "ana", "team": "south"},
            {"user": ["Choose either a fixed rep or a team for round robin, not both."]},
        ),
    ],
)
def test_bad_rules_are_refused_and_nothing_is_saved(actor, org, other_org, reps, south, data, errors):
    foreign = Zone.dangerously_unscoped.create(organization=other_org, name="Theirs", countries=["ES"])
    values = {"south": south.pk, "foreign": foreign.pk, "ana": reps[0].user_id}
    data = {k: values.get(v, v) if isinstance(v, str) else v for k, v in data.items()}
    with scope(organization=org), pytest.raises(ValidationError) as exc:
        assignment_rule_create(actor=actor, data=data)
    assert exc.value.message_dict == errors
    assert AssignmentRule.dangerously_unscoped.count() == 0


def test_only_managers_change_rules_zones_and_the_fallback(org, member, reps):
    rep = reps[0]
    for write, data in (
        (assignment_rule_create, {"name": "R", "user": rep.user_id}),
        (zone_create, {"name": "Z", "countries": ["ES"]}),
        (assignment_settings_update, {"fallback_owner": rep.user_id}),
    ):
        with scope(organization=org), pytest.raises(PermissionDenied) as exc:
            write(actor=rep, data=data)
        assert str(exc.value) == "Only owners, admins and managers can do this."
    assert (AssignmentRule.dangerously_unscoped.count(), Zone.dangerously_unscoped.count()) == (0, 0)
    manager = member(role="manager")
    with scope(organization=org):
        assignment_rule_create(actor=manager, data={"name": "R", "user": rep.user_id})
    assert AssignmentRule.dangerously_unscoped.count() == 1


def test_rules_are_reordered_and_moved(actor, org, reps):
    ana = reps[0]
    with scope(organization=org):
        a, b, c = (assignment_rule_create(actor=actor, data={"name": n, "user": ana.user_id}) for n in "ABC")
        assignment_rule_reorder(actor=actor, ids=[c.pk, a.pk, b.pk])
        assert [r.name for r in AssignmentRule.objects.order_by("position")] == ["C", "A", "B"]
        assignment_rule_move(actor=actor, rule=b, direction="up")
        assert [r.name for r in AssignmentRule.objects.order_by("position")] == ["C", "B", "A"]
        with pytest.raises(ValidationError) as exc:
            assignment_rule_reorder(actor=actor, ids=[c.pk, a.pk])
        assert exc.value.message_dict == {"ids": ["Give every rule's id exactly once."]}
        assert [r.name for r in AssignmentRule.objects.order_by("position")] == ["C", "B", "A"]


def test_changing_a_rules_team_restarts_its_turn(actor, org, pipeline, reps, south):
    iberia_rule = rule(org, "All", team=south)
    make_deal(actor)
    other = Team.dangerously_unscoped.create(organization=org, name="North")
    other.members.set(reps[1:])
    with scope(organization=org):
        assignment_rule_update(actor=actor, rule=iberia_rule, data={"team": other.pk})
    assert owners([make_deal(actor)]) == ["Luis"]


def test_out_of_office_end_before_start_is_refused(actor, org, reps):
    with scope(organization=org), pytest.raises(ValidationError) as exc:
        out_of_office_create(
            actor=actor, data={"user": reps[0].user_id, "starts_on": "2026-05-10", "ends_on": "2026-05-09"}
        )
    assert exc.value.message_dict == {"ends_on": ["The last day cannot be before the first."]}
    assert OutOfOffice.dangerously_unscoped.count() == 0


def test_a_rep_sets_only_their_own_days_out_of_office(org, reps):
    ana, luis, _marta = reps
    with scope(organization=org):
        out_of_office_create(actor=ana, data={"user": ana.user_id, "starts_on": "2026-05-01", "ends_on": "2026-05-02"})
        with pytest.raises(PermissionDenied):
            out_of_office_create(
                actor=ana, data={"user": luis.user_id, "starts_on": "2026-05-01", "ends_on": "2026-05-02"}
            )
    assert list(OutOfOffice.dangerously_unscoped.values_list("user_id", flat=True)) == [ana.user_id]
