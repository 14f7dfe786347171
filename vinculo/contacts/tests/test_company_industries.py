"""The industries offered by the companies list's filter: each once, in order, only from the
companies the member may see, never another organisation's (selectors.company_industries)."""

from __future__ import annotations

from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.contacts.models import Company
from vinculo.contacts.selectors import company_industries


def test_every_industry_once_in_order_for_a_member_who_sees_all(actor, org, other_org) -> None:
    with scope(organization=org):
        for name, industry in [
            ("A", "Retail"),
            ("B", "Banking"),
            ("C", ""),
            ("D", "Retail"),
            ("E", "Agriculture"),
            ("F", "Banking"),
        ]:
            Company.objects.create(organization=org, name=name, industry=industry)
    with scope(organization=other_org):
        Company.objects.create(organization=other_org, name="Z", industry="Zoology")
    assert company_industries(actor=actor) == ["Agriculture", "Banking", "Retail"]
    assert company_industries(actor=actor, limit=2) == ["Agriculture", "Banking"]
    assert company_industries(actor=actor, limit=1) == ["Agriculture"]


def test_an_organisation_without_industries_offers_none(actor) -> None:
    assert company_industries(actor=actor) == []


def test_a_sales_rep_gets_the_industries_of_the_companies_they_see(actor, org, member) -> None:
    rep = member(Role.SALES)
    other_rep = member(Role.SALES)
    with scope(organization=org):
        Company.objects.create(organization=org, name="Mine", industry="Retail", owner=rep.user)
        Company.objects.create(organization=org, name="Nobody's", industry="Banking")
        Company.objects.create(organization=org, name="Theirs", industry="Mining", owner=other_rep.user)
        assert company_industries(actor=rep) == ["Banking", "Retail"]
        assert company_industries(actor=actor) == ["Banking", "Mining", "Retail"]
