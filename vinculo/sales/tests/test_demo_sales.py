"""`manage.py demo` → `demo_sales`: a lively sales area, written fast, with what the services would
write (totals from compute_totals, numbers from the counter, `order.placed` events, customers)."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scope

from vinculo.accounts.models import Membership, Organization, Role, User
from vinculo.contacts.models import Contact, LifecycleStage
from vinculo.core.management.demo_login import DEMO_EMAIL
from vinculo.core.models import Event
from vinculo.sales.models import (
    Activity,
    ActivityKind,
    AssignmentRule,
    AssignmentSettings,
    Deal,
    DealLineItem,
    DealStatus,
    DocumentCounter,
    ExchangeRate,
    FollowUpRule,
    Order,
    OrderChannel,
    OrderLine,
    PriceList,
    PriceListItem,
    Product,
    Quota,
    Quote,
    QuoteLine,
    QuoteStatus,
    Zone,
)
from vinculo.sales.pricing import PricedLine, compute_totals
from vinculo.sales.selectors.forecast import ReportParams, forecast
from vinculo.sales.services.documents import order_create, quote_create

pytestmark = pytest.mark.django_db

SALES_MODELS = (
    Deal,
    DealLineItem,
    Quote,
    QuoteLine,
    Order,
    OrderLine,
    Activity,
    Quota,
    Product,
    PriceList,
    PriceListItem,
    Zone,
    AssignmentRule,
    FollowUpRule,
    ExchangeRate,
    DocumentCounter,
)


def demo(**options: object) -> str:
    out = io.StringIO()
    call_command("demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def built() -> str:
    """A small seeded demo organisation: 150 contacts, so 50 deals."""
    return demo(contacts=150, seed=7)


def priced(lines) -> list[PricedLine]:
    return [
        PricedLine(
            product=line.product,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            tax_rate=line.tax_rate,
        )
        for line in lines
    ]


def totals_of(document) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    return (document.subtotal, document.discount_total, document.tax_total, document.total)


def org() -> Organization:
    return Organization.objects.get(slug="demo")


def test_the_catalogue_settings_and_rules_are_built(built):
    assert "15 products" in built
    with scope(organization=org()):
        assert Product.objects.count() == 15
        assert Counter(Product.objects.values_list("product_line", flat=True)) == {"Software": 8, "Hardware": 7}
        assert set(Product.objects.values_list("tax_rate", flat=True)) == {Decimal("21.00")}
        lists = {(p.name, p.currency, p.is_default, p.items.count()) for p in PriceList.objects.all()}
        assert lists == {("Tarifa general EUR", "EUR", True, 15), ("US list price", "USD", True, 15)}
        assert set(ExchangeRate.objects.values_list("currency", flat=True)) == {"USD", "GBP", "MXN"}
        assert ExchangeRate.objects.filter(currency__in=["USD", "GBP"]).count() == 4
        zones = {z.name: z.countries for z in Zone.objects.all()}
        assert zones["Iberia"] == ["ES", "PT"]
        assert zones["DACH"] == ["DE", "AT", "CH"]
        assert {"US", "MX", "AR"} <= set(zones["Americas"])
        rules = [
            (r.name, r.zone.name if r.zone else None, r.user_id is not None, r.team_id is not None)
            for r in AssignmentRule.objects.all()
        ]
        assert rules == [("Iberia", "Iberia", True, False), ("Americas", "Americas", False, True)]
        assert AssignmentRule.objects.get(name="Iberia").user.email == "carmen.ruiz@vinculo.test"
        assert AssignmentSettings.objects.get().fallback_owner.email == "lucia.fernandez@vinculo.test"
        follow_ups = {(r.stage.name, r.kind, r.subject, r.days_after) for r in FollowUpRule.objects.all()}
        assert follow_ups == {
            ("Proposal", ActivityKind.TASK, "Send the proposal", 1),
            ("Negotiation", ActivityKind.CALL, "Call to close", 2),
        }
        # deals in USD, deals placed in their territory, every lost deal with its reason
        assert Deal.objects.count() == 50
        assert Deal.objects.filter(currency="USD").exists()
        assert Deal.objects.filter(status=DealStatus.LOST, lost_reason=None).count() == 0
        assert Deal.objects.filter(status=DealStatus.LOST).exists()
        zoned = Deal.objects.exclude(zone=None).values_list("contact__country", "zone__countries")
        assert zoned
        for country, countries in zoned:
            assert country in countries


def test_deal_line_items_add_up_to_the_deal_amount(built):
    with scope(organization=org()):
        deals = Deal.objects.filter(line_items__isnull=False).distinct().prefetch_related("line_items")
        assert deals.count() >= 8  # the quoted deals (2 of each status at least) and a third of the open ones
        for deal in deals:
            net = sum((line.net for line in priced(deal.line_items.all())), Decimal(0))
            assert deal.amount == net.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
            assert deal.currency in {"EUR", "USD"}
            assert deal.product_line in {"Software", "Hardware"}
        assert Deal.objects.filter(line_items__isnull=False, status=DealStatus.OPEN).distinct().exists()


def test_quotes_are_totalled_like_the_services_and_numbered_by_the_counter(built):
    organization = org()
    with scope(organization=organization):
        quotes = list(Quote.objects.prefetch_related("lines__product").order_by("number"))
        assert {q.status for q in quotes} == set(QuoteStatus.values)
        assert min(Counter(q.status for q in quotes).values()) >= 2
        assert [q.number for q in quotes] == [f"Q-{k:05d}" for k in range(1, len(quotes) + 1)]
        assert [q.created_at for q in quotes] == sorted(q.created_at for q in quotes)
        for quote in quotes:
            totals = compute_totals(priced(quote.lines.all()))
            assert totals_of(quote) == (totals.subtotal, totals.discount_total, totals.tax_total, totals.total)
            assert quote.deal is not None
            assert quote.contact_id == quote.deal.contact_id
            assert quote.lines.count() == quote.deal.line_items.count()
            expected_deal_status = {
                QuoteStatus.ACCEPTED.value: DealStatus.WON.value,
                QuoteStatus.DECLINED.value: DealStatus.LOST.value,
            }.get(quote.status, DealStatus.OPEN.value)
            assert quote.deal.status == expected_deal_status
            assert (quote.accepted_at is not None) == (quote.status == QuoteStatus.ACCEPTED)
        assert DocumentCounter.objects.get(kind="quote").value == len(quotes)

        owner = Membership.objects.get(organization=organization, role=Role.OWNER)
        contact = Contact.objects.order_by("id")[0]
        new = quote_create(
            actor=owner, data={"contact": contact.pk, "lines": [{"description": "Extra", "unit_price": "10"}]}
        )
        assert new.number == f"Q-{len(quotes) + 1:05d}"
        orders = Order.objects.count()
        order, _created = order_create(
            actor=owner, data={"contact": contact.pk, "lines": [{"description": "Extra", "unit_price": "10"}]}
        )
        assert order.number == f"O-{orders + 1:05d}"


def test_orders_have_their_event_and_make_customers(built):
    organization = org()
    with scope(organization=organization):
        orders = list(Order.objects.prefetch_related("lines").select_related("quote").order_by("number"))
        channels = Counter(o.channel for o in orders)
        accepted = Quote.objects.filter(status=QuoteStatus.ACCEPTED).count()
        # 50 deals: 50 // 10 + 50 // 20 = 7 orders, every third one from a rep; one per accepted quote
        assert channels == {OrderChannel.ECOMMERCE: 5, OrderChannel.SALES_REP: 2, OrderChannel.QUOTE: accepted}
        assert accepted >= 1
        assert [o.number for o in orders] == [f"O-{k:05d}" for k in range(1, len(orders) + 1)]
        assert DocumentCounter.objects.get(kind="order").value == len(orders)
        now = timezone.now()
        for order in orders:
            totals = compute_totals(priced(order.lines.all()))
            assert totals_of(order) == (totals.subtotal, totals.discount_total, totals.tax_total, totals.total)
            assert now - dt.timedelta(days=549) <= order.placed_at <= now
            if order.channel == OrderChannel.QUOTE:
                assert order.quote is not None
                assert order.quote.status == QuoteStatus.ACCEPTED
                assert totals_of(order) == totals_of(order.quote)
                assert order.placed_at == order.quote.accepted_at
            events = Event.objects.filter(type="order.placed", properties__order_id=order.pk)
            assert [(e.contact_id, e.company_id, e.occurred_at, e.source, e.properties) for e in events] == [
                (
                    order.contact_id,
                    order.company_id,
                    order.placed_at,
                    "crm",
                    {
                        "order_id": order.pk,
                        "number": order.number,
                        "total": f"{order.total:.2f}",
                        "currency": order.currency,
                        "channel": order.channel,
                        "lines": order.lines.count(),
                    },
                )
            ]
        assert all(o.contact_id is not None for o in orders)
        # no order event without its order (the contacts demo writes none of its own)
        assert Event.objects.filter(type="order.placed").count() == len(orders)
        buyers = {o.contact_id for o in orders if o.contact_id is not None}
        stages = set(Contact.objects.filter(pk__in=buyers).values_list("lifecycle_stage", flat=True))
        assert stages == {LifecycleStage.CUSTOMER}
        ecommerce = [o.external_id for o in orders if o.channel == OrderChannel.ECOMMERCE]
        assert len(set(ecommerce)) == 5
        assert all(external_id.startswith("SHOP-7-") for external_id in ecommerce)
        assert all(o.external_id == "" for o in orders if o.channel != OrderChannel.ECOMMERCE)


def test_agendas_have_overdue_today_upcoming_and_done_activities(built):
    organization = org()
    now = timezone.now()
    today = now.date()
    with scope(organization=organization):
        activities = list(Activity.objects.all())
        assert len(activities) == 60  # at least 60; one per 5 deals beyond
        reps = set(
            Membership.objects.filter(organization=organization, role__in=["owner", "manager", "sales"]).values_list(
                "user_id", flat=True
            )
        )
        assert {a.assignee_id for a in activities} <= reps
        demo_user = User.objects.get(email=DEMO_EMAIL)
        assert any(a.assignee_id == demo_user.pk for a in activities)
        assert {a.kind for a in activities} == set(ActivityKind.values)
        overdue = [a for a in activities if a.done_at is None and a.due_at < now]
        # the pattern of every 10: 3 done and 2 overdue (1 to 20 days ago), 2 today, 2 this week, 1 later
        assert len(overdue) >= 12
        assert all(a.due_at.date() >= today - dt.timedelta(days=20) for a in overdue)
        assert len([a for a in activities if a.due_at.date() == today]) == 12
        assert len([a for a in activities if today < a.due_at.date() <= today + dt.timedelta(days=6)]) == 12
        done = [a for a in activities if a.done_at is not None]
        assert len(done) >= 18
        assert all(a.outcome and a.done_at is not None and a.done_at <= now for a in done)
        assert all(not a.outcome for a in activities if a.done_at is None)
        reminded = [a for a in activities if a.reminder_minutes is not None]
        assert reminded
        assert all(a.due_at > now for a in reminded)
        linked = [a for a in activities if a.deal_id is not None]
        assert linked
        assert {a.deal.status for a in linked if a.deal is not None} == {DealStatus.OPEN}
        assert any(a.contact_id is not None and a.deal_id is None for a in activities)
        assert all(a.location for a in activities if a.kind == ActivityKind.MEETING)


def test_quotas_cover_six_months_back_and_three_ahead_and_the_forecast_shows_attainment(built):
    organization = org()
    first = timezone.now().date().replace(day=1)
    with scope(organization=organization):
        reps = list(
            Membership.objects.filter(organization=organization, role__in=["owner", "manager", "sales"]).values_list(
                "user_id", flat=True
            )
        )
        assert len(reps) == 4
        assert Quota.objects.count() == 40
        for user_id in reps:
            months = sorted(Quota.objects.filter(user_id=user_id).values_list("starts_on", flat=True))
            assert len(months) == 10
            assert months[6] == first
            assert all(m.day == 1 for m in months)
        assert Quota.objects.filter(amount__lt=16000).count() == 0
        params = ReportParams(
            start=Quota.objects.order_by("starts_on")[0].starts_on, end=first, period="month", group_by="owner"
        )
        result = forecast(organization=organization, params=params)
        assert result.total.quota is not None
        assert result.total.quota > 0
        assert result.total.attainment is not None
        assert result.total.attainment > 0


def test_running_demo_again_with_if_empty_changes_nothing(built):
    organization = org()

    def counts() -> dict[str, int]:
        with scope(organization=organization):
            return {model.__name__: model.objects.count() for model in SALES_MODELS} | {
                "events": Event.objects.count(),
                "customers": Contact.objects.filter(lifecycle_stage=LifecycleStage.CUSTOMER).count(),
            }

    before = counts()
    output = demo(contacts=150, seed=7, if_empty=True)
    assert "already exists; nothing to do" in output
    assert counts() == before


def test_the_sales_demo_is_deterministic_for_a_seed():
    demo(contacts=60, seed=99, org_slug="one")
    demo(contacts=60, seed=99, org_slug="two")

    def sales(slug: str) -> tuple[list[tuple[object, ...]], ...]:
        with scope(organization=Organization.objects.get(slug=slug)):
            return (
                list(Deal.objects.order_by("id").values_list("title", "amount", "currency", "status")),
                list(Quote.objects.order_by("number").values_list("number", "status", "total")),
                list(Order.objects.order_by("number").values_list("number", "channel", "total")),
                list(Activity.objects.order_by("id").values_list("kind", "subject", "outcome")),
            )

    assert sales("one") == sales("two")
