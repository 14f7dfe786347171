"""The forecast and the assignment rules in a real browser: the Chart.js chart draws, the filters
swap the report in with HTMX, a rule is dragged into a new order, and the forecast fits a phone."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.sales.models import AssignmentRule, Deal
from vinculo.sales.testing import make_deal, make_pipeline

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_the_forecast_chart_draws_and_the_filters_swap_the_report(browser_page: Page):
    page = browser_page
    owner = make_member(full_name="Olga Owner")
    org = owner.organization
    make_pipeline(org)
    deal = make_deal(owner, title="Big one", amount="1200.00", owner=owner.user_id)
    Deal.dangerously_unscoped.filter(pk=deal.pk).update(
        expected_close_date=dt.date.today(), forecast_category="commit", probability=50
    )
    log_in(page, owner.user.email)
    page.goto(f"/o/{org.slug}/sales/forecast/")
    expect(page.get_by_role("heading", name="Forecast")).to_be_visible()
    expect(page.locator("#forecast-total td").nth(1)).to_have_text("1,200.00 EUR")  # commit
    page.wait_for_function("() => !!document.querySelector('canvas[data-report-chart]')._chart")
    assert page.evaluate("document.querySelector('canvas[data-report-chart]')._chart.data.datasets.length") == 5

    page.locator("#report-group").select_option("pipeline")
    expect(page.locator("#forecast-table thead th").first).to_have_text("Pipeline")
    expect(page.locator("#forecast-table tbody th").first).to_have_text("Sales")
    assert "group_by=pipeline" in page.url
    page.wait_for_function("() => !!document.querySelector('canvas[data-report-chart]')._chart")

    page.locator("#report-end").fill("2000-01-01")
    page.locator("#report-end").dispatch_event("change")
    expect(page.locator("#report-end_error")).to_have_text("The end of the period cannot be before its start.")


CHART_TEXTS = """(() => {
  const options = document.querySelector("canvas[data-report-chart]")._chart.config.options;
  const label = options.plugins.tooltip.callbacks.label;
  return [
    options.scales.y.ticks.callback(12000),
    label({ parsed: { y: 11250 }, dataset: { label: "Commit", yAxisID: "y" } }),
    label({ parsed: { y: 62.5 }, dataset: { label: "Win rate", yAxisID: "percent" } }),
  ];
})()"""


@pytest.mark.parametrize(
    ("language", "cell", "texts"),
    [
        ("en", "11,250.00 EUR", ["12,000", "Commit: 11,250.00 EUR", "Win rate: 62.5 %"]),
        ("es", "11\xa0250,00 EUR", ["12\xa0000", "Commit: 11\xa0250,00 EUR", "Win rate: 62,5 %"]),
    ],
)
def test_the_chart_writes_amounts_as_the_table_does_in_the_pages_language(browser_page: Page, language, cell, texts):
    page = browser_page
    owner = make_member(full_name="Olga Owner", language=language)
    make_pipeline(owner.organization)
    deal = make_deal(owner, title="Big one", amount="11250.00", owner=owner.user_id)
    Deal.dangerously_unscoped.filter(pk=deal.pk).update(
        expected_close_date=dt.date.today(), forecast_category="commit", probability=50
    )
    log_in(page, owner.user.email)
    page.goto(f"/o/{owner.organization.slug}/sales/forecast/")
    expect(page.locator("#forecast-total td").nth(1)).to_have_text(cell)
    page.wait_for_function("() => !!document.querySelector('canvas[data-report-chart]')._chart")

    assert page.evaluate(CHART_TEXTS) == texts


def test_a_rule_is_dragged_to_the_top(browser_page: Page):
    page = browser_page
    owner = make_member(full_name="Olga Owner")
    org = owner.organization
    for position, name in enumerate(("First", "Second", "Third")):
        AssignmentRule.dangerously_unscoped.create(organization=org, name=name, user=owner.user, position=position)
    log_in(page, owner.user.email)
    page.goto(f"/o/{org.slug}/sales/assignment/")
    third = AssignmentRule.dangerously_unscoped.get(name="Third")
    with page.expect_response(lambda response: "/assignment/reorder/" in response.url) as answer:
        page.locator(f"#rule-{third.pk} .rule-handle").drag_to(page.locator("#rule-rows li").first)
    assert answer.value.status == 200
    expect(page.locator("#rule-rows li .fw-semibold").first).to_have_text("Third")
    names = list(AssignmentRule.dangerously_unscoped.order_by("position").values_list("name", flat=True))
    assert names == ["Third", "First", "Second"]
    page.reload()
    expect(page.locator("#rule-rows li .fw-semibold").first).to_have_text("Third")


def test_the_forecast_fits_a_phone(browser_page: Page):
    page = browser_page
    owner = make_member(full_name="Olga Owner")
    make_pipeline(owner.organization)
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, owner.user.email)
    page.goto(f"/o/{owner.organization.slug}/sales/forecast/")
    expect(page.get_by_role("heading", name="Forecast")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
