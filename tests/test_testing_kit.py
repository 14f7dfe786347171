"""The test kit itself (vinculo/core/testing/): scopes are enabled in tests, the opt-outs work,
factories need no scope, the query-count helpers fail when they should, tasks run unscoped."""

from __future__ import annotations

import pytest
from django_scopes import get_scope
from django_scopes.exceptions import ScopeError
from django_tasks import task

from vinculo.accounts.factories import MembershipFactory, OrganizationFactory
from vinculo.accounts.models import Role
from vinculo.contacts.factories import CompanyFactory, ContactFactory, NoteFactory, TagFactory
from vinculo.contacts.models import Contact
from vinculo.core.testing import assert_max_queries, assert_same_queries, count_queries, org_scope
from vinculo.sales.factories import (
    ActivityFactory,
    DealFactory,
    OrderFactory,
    PipelineFactory,
    ProductFactory,
    QuoteFactory,
)
from vinculo.sales.models import PriceListItem, Stage
from vinculo.touchpoints.factories import IntegrationFactory, MailboxFactory, TrackingSiteFactory, WebFormFactory


def test_a_query_outside_a_scope_raises_in_tests_as_in_production(org):
    with pytest.raises(ScopeError):
        Contact.objects.count()


def test_org_scope_and_in_org_scope_see_one_organisations_rows(org, other_org, in_org_scope):
    ContactFactory(organization=org)
    ContactFactory(organization=other_org)

    assert in_org_scope == org
    assert Contact.objects.count() == 1
    with org_scope(other_org):
        assert Contact.objects.get().organization == other_org


@pytest.mark.scopes_disabled
def test_the_marker_opts_a_test_out(org, other_org):
    ContactFactory(organization=org)
    ContactFactory(organization=other_org)

    assert Contact.objects.count() == 2


def test_factories_make_rows_with_no_scope_active(org):
    assert get_scope() == {}
    pipeline = PipelineFactory(organization=org)
    deal = DealFactory(organization=org, pipeline=pipeline)
    contact = ContactFactory(organization=org)
    product = ProductFactory(organization=org, price="12.50", price__currency="USD")
    rows = [
        TagFactory(organization=org),
        CompanyFactory(organization=org),
        NoteFactory(contact=contact),
        QuoteFactory(organization=org, contact=contact),
        OrderFactory(organization=org, contact=contact),
        ActivityFactory(organization=org, deal=deal),
        TrackingSiteFactory(organization=org),
        WebFormFactory(organization=org),
        MailboxFactory(organization=org),
        IntegrationFactory(organization=org),
    ]

    assert all(row.organization == org for row in rows)
    assert list(Stage.dangerously_unscoped.filter(pipeline=pipeline).values_list("name", flat=True)) == [
        "Qualification",
        "Proposal",
        "Negotiation",
        "Won",
        "Lost",
    ]
    assert (deal.stage.name, deal.probability, deal.organization) == ("Qualification", 10, org)
    item = PriceListItem.dangerously_unscoped.get(product=product)
    assert (str(item.unit_price), item.price_list.currency) == ("12.50", "USD")


def test_membership_factory_and_member_fixtures(db, owner, admin, manager, sales_rep, read_only, org):
    membership = MembershipFactory(role=Role.SUPPORT)

    assert membership.organization != org
    assert membership.user.check_password("a long test password 42")
    assert [m.role for m in (owner, admin, manager, sales_rep, read_only)] == [
        "owner",
        "admin",
        "manager",
        "sales",
        "read_only",
    ]
    assert {m.organization for m in (owner, admin, manager, sales_rep, read_only)} == {org}
    assert OrganizationFactory().slug != org.slug


def test_assert_max_queries_counts_and_fails_over_the_baseline(org):
    with assert_max_queries(2) as captured:
        list(Contact.dangerously_unscoped.all())
    assert len(captured) == 1

    def two_queries() -> None:
        with assert_max_queries(1):
            list(Contact.dangerously_unscoped.all())
            list(Contact.dangerously_unscoped.all())

    with pytest.raises(AssertionError, match="2 queries, expected at most 1"):
        two_queries()


def test_assert_same_queries_catches_a_query_per_row(org):
    ContactFactory(organization=org)

    def one_query() -> list[Contact]:
        return list(Contact.dangerously_unscoped.filter(organization=org))

    def a_query_per_row() -> list[str]:
        return [c.organization.name for c in Contact.dangerously_unscoped.filter(organization=org)]

    assert len(assert_same_queries(one_query, lambda: ContactFactory(organization=org))) == 2
    with pytest.raises(AssertionError, match="queries before and"):
        assert_same_queries(a_query_per_row, lambda: ContactFactory(organization=org))
    with count_queries() as captured:
        one_query()
    assert len(captured) == 1


_seen_scopes: list[dict] = []


@task()
def remember_the_scope() -> None:
    _seen_scopes.append(dict(get_scope()))


def test_tasks_run_with_no_scope_active_as_in_a_worker(settings, org):
    assert settings.TASKS["default"]["BACKEND"] == "vinculo.core.testing.tasks.WorkerLikeImmediateBackend"
    _seen_scopes.clear()

    with org_scope(org):
        remember_the_scope.enqueue()
        assert get_scope()["organization"] == org

    assert _seen_scopes == [{}]
