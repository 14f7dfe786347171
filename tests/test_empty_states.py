"""Every main list, when the organisation has nothing in it yet, says what it is for and offers its
first action (to members who may take it); a search that finds nothing says so instead."""

from __future__ import annotations

import pytest
from django.urls import reverse

from vinculo.accounts.models import Role
from vinculo.accounts.testing import login_client

LISTS = [
    (
        "contacts:contact_list",
        "No contacts yet.",
        "Contacts are the people you sell to and talk with",
        "contacts:contact_create",
        "Add your first contact",
    ),
    (
        "contacts:company_list",
        "No companies yet.",
        "Companies group the contacts who work together",
        "contacts:company_create",
        "Add your first company",
    ),
    (
        "sales:deal_list",
        "No deals yet.",
        "Deals are the sales you are working on",
        "sales:deal_create",
        "Create your first deal",
    ),
    (
        "sales:order_list",
        "No orders yet.",
        "Orders are what your customers bought",
        "sales:order_create",
        "Enter your first order",
    ),
    (
        "sales:quote_list",
        "No quotes yet.",
        "Quotes are the offers you send your customers",
        "sales:quote_create",
        "Write your first quote",
    ),
    (
        "sales:product_list",
        "No products yet.",
        "Products are what you sell, with their prices",
        "sales:product_create",
        "Add your first product",
    ),
    (
        "touchpoints:web_form_list",
        "No web forms yet.",
        "Web forms turn the visitors of your website into contacts",
        "touchpoints:web_form_create",
        "Create your first form",
    ),
]


def empty_state(html: str) -> str:
    start = html.index('<div class="empty-state')
    return html[start : html.index("</div>", start)]


@pytest.mark.parametrize(("list_name", "title", "purpose", "create_name", "action"), LISTS)
def test_an_empty_list_says_what_it_is_for_and_offers_the_first_action(
    client_in, org, list_name, title, purpose, create_name, action
):
    html = client_in.get(reverse(list_name, args=[org.slug])).content.decode()

    state = empty_state(html)
    assert f'<p class="fw-semibold mt-2 mb-1 text-body">{title}</p>' in state
    assert purpose in state
    assert f'<a class="btn btn-primary" href="{reverse(create_name, args=[org.slug])}">' in state
    assert action in state


@pytest.mark.parametrize(("list_name", "title", "purpose", "create_name", "action"), LISTS)
def test_a_read_only_member_is_told_what_the_list_is_for_without_an_action(
    org, member_factory, list_name, title, purpose, create_name, action
):
    html = login_client(member_factory(Role.READ_ONLY)).get(reverse(list_name, args=[org.slug])).content.decode()

    state = empty_state(html)
    assert purpose in state
    assert reverse(create_name, args=[org.slug]) not in state


@pytest.mark.parametrize(
    ("list_name", "query", "message"),
    [
        ("contacts:contact_list", "?q=nobody", "No contacts match these filters."),
        ("sales:deal_list", "?q=nothing", "No deals match these filters."),
        ("sales:product_list", "?q=nothing", "No products match this search."),
    ],
)
def test_a_search_that_finds_nothing_says_so_without_the_first_steps(client_in, org, list_name, query, message):
    html = client_in.get(reverse(list_name, args=[org.slug]) + query).content.decode()

    assert message in html
    assert 'class="empty-state' not in html
