"""Contact conditions (vinculo/contacts/conditions.py): every kind of `contacts` and its operators
with the exact contacts it matches, AND/OR nesting, every validation error, tenancy, and the
registry's declarations of what each kind depends on."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_scopes import scope

from vinculo.accounts.testing import make_member
from vinculo.contacts.conditions import (
    MAX_DEPTH,
    MAX_LEAVES,
    compile_definition,
    condition_kinds,
    dependencies,
    validate_definition,
)
from vinculo.contacts.factories import CompanyFactory, ContactFactory, TagFactory
from vinculo.contacts.models import Contact
from vinculo.core.models import Event

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


@pytest.fixture
def people(org: Any, other_org: Any, actor: Any) -> dict[str, Any]:
    """Ana (customer at Acme, Madrid, vip), Luis (lead, Lisbon, newsletter), Eva (prospect at Beta,
    owned by the actor), and Otto of another organisation."""
    acme = CompanyFactory(organization=org, name="Acme S.L.", industry="Software", size="11-50", country="ES")
    beta = CompanyFactory(organization=org, name="Beta", industry="Retail", size="1-10", country="FR")
    vip = TagFactory(organization=org, name="vip")
    newsletter = TagFactory(organization=org, name="newsletter")
    ana = ContactFactory(
        organization=org,
        first_name="Ana",
        last_name="García",
        email="ana@acme.com",
        job_title="CEO",
        city="Madrid",
        country="ES",
        language="es",
        lifecycle_stage="customer",
        source="web",
        company=acme,
        custom={"plan": "gold", "seats": 12},
        created_at=ago(100),
        last_activity_at=ago(2),
    )
    luis = ContactFactory(
        organization=org,
        first_name="Luis",
        last_name="Silva",
        email="luis@example.org",
        job_title="Buyer",
        city="Lisboa",
        country="PT",
        language="pt",
        lifecycle_stage="lead",
        source="form",
        custom={"plan": "silver", "seats": "many"},
        created_at=ago(10),
    )
    eva = ContactFactory(
        organization=org,
        first_name="Eva",
        last_name="Martin",
        lifecycle_stage="prospect",
        source="manual",
        company=beta,
        owner=actor.user,
        custom={"seats": 3.5},
        created_at=ago(40),
        last_activity_at=ago(50),
    )
    ana.tags.add(vip)
    luis.tags.add(newsletter)
    otto = ContactFactory(organization=other_org, first_name="Otto", city="Madrid", lifecycle_stage="customer")

    def event(contact: Any, type: str, days: float, organization: Any = org, **properties: Any) -> None:
        Event.dangerously_unscoped.create(
            organization=organization,
            contact=contact,
            type=type,
            properties=properties,
            occurred_at=ago(days),
        )

    for days in (1, 5, 9):
        event(ana, "page.viewed", days, url="https://acme.test/pricing" if days == 5 else "https://acme.test/")
    event(luis, "page.viewed", 40, url="https://acme.test/pricing")
    event(eva, "contact.created", 1)
    event(otto, "page.viewed", 1, organization=other_org, url="https://other.test/pricing")
    # a row of the other organisation naming Eva must never make her match
    event(eva, "page.viewed", 1, organization=other_org, url="https://other.test/pricing")
    return {"vip": vip, "newsletter": newsletter, "acme": acme}


def names(org: Any, definition: Any) -> list[str]:
    with scope(organization=org):
        return sorted(Contact.objects.filter(compile_definition(definition, org)).values_list("first_name", flat=True))


def one(org: Any, **leaf: Any) -> list[str]:
    return names(org, {"all": [leaf]})


def errors(org: Any, definition: Any) -> dict[str, str]:
    with scope(organization=org):
        return validate_definition(definition, org)


TEXT_CASES = [
    ("first_name", "eq", "ana", ["Ana"]),
    ("first_name", "ne", "ANA", ["Eva", "Luis"]),
    ("last_name", "contains", "ar", ["Ana", "Eva"]),
    ("last_name", "not_contains", "ar", ["Luis"]),
    ("email", "starts_with", "luis@", ["Luis"]),
    ("email", "is_empty", None, ["Eva"]),
    ("email", "is_set", None, ["Ana", "Luis"]),
    ("job_title", "eq", "ceo", ["Ana"]),
    ("city", "contains", "lis", ["Luis"]),
    ("language", "eq", "pt", ["Luis"]),
    ("company_name", "contains", "acme", ["Ana"]),
    ("company_industry", "eq", "retail", ["Eva"]),
    ("company_name", "is_empty", None, ["Luis"]),
]


@pytest.mark.parametrize(("kind", "op", "value", "expected"), TEXT_CASES)
def test_text_fields(org, people, kind, op, value, expected):
    leaf = {"kind": kind, "op": op} | ({} if value is None else {"value": value})
    assert one(org, **leaf) == expected


CHOICE_CASES = [
    ("country", "in", ["ES", "PT"], ["Ana", "Luis"]),
    ("country", "not_in", ["ES"], ["Eva", "Luis"]),
    ("lifecycle_stage", "in", ["customer", "prospect"], ["Ana", "Eva"]),
    ("source", "in", ["form"], ["Luis"]),
    ("company_size", "in", ["1-10"], ["Eva"]),
    ("company_country", "not_in", ["FR"], ["Ana", "Luis"]),
]


@pytest.mark.parametrize(("kind", "op", "value", "expected"), CHOICE_CASES)
def test_choice_fields(org, people, kind, op, value, expected):
    assert one(org, kind=kind, op=op, value=value) == expected


def test_owner(org, people, actor):
    assert one(org, kind="owner", op="in", value=[actor.user_id]) == ["Eva"]
    assert one(org, kind="owner", op="not_in", value=[actor.user_id]) == ["Ana", "Luis"]


def test_tags(org, people):
    assert one(org, kind="tags", op="has_any", value=[people["vip"].pk, people["newsletter"].pk]) == ["Ana", "Luis"]
    assert one(org, kind="tags", op="has_none", value=[people["vip"].pk]) == ["Eva", "Luis"]


DATE_CASES = [
    ("created_at", "in_last", 30, ["Luis"]),
    ("created_at", "more_than_ago", 30, ["Ana", "Eva"]),
    ("last_activity_at", "in_last", 7, ["Ana"]),
    ("last_activity_at", "more_than_ago", 7, ["Eva"]),
    ("last_activity_at", "is_empty", None, ["Luis"]),
    ("last_activity_at", "is_set", None, ["Ana", "Eva"]),
]


@pytest.mark.parametrize(("kind", "op", "value", "expected"), DATE_CASES)
def test_relative_dates(org, people, kind, op, value, expected):
    leaf = {"kind": kind, "op": op} | ({} if value is None else {"value": value})
    assert one(org, **leaf) == expected


def test_absolute_dates(org, people):
    eva_day = timezone.localdate(ago(40))
    assert one(org, kind="created_at", op="on", value=eva_day.isoformat()) == ["Eva"]
    assert one(org, kind="created_at", op="before", value=eva_day.isoformat()) == ["Ana"]
    assert one(org, kind="created_at", op="after", value=eva_day.isoformat()) == ["Luis"]


def test_custom_properties(org, people):
    assert one(org, kind="custom_text", key="plan", op="eq", value="GOLD") == ["Ana"]
    assert one(org, kind="custom_text", key="plan", op="is_empty") == ["Eva"]
    assert one(org, kind="custom_text", key="plan", op="contains", value="l") == ["Ana", "Luis"]
    # Luis's "many" seats is text: never more or less than a number
    assert one(org, kind="custom_number", key="seats", op="gt", value=3) == ["Ana", "Eva"]
    assert one(org, kind="custom_number", key="seats", op="lt", value="10") == ["Eva"]
    assert one(org, kind="custom_number", key="seats", op="eq", value=12) == ["Ana"]
    assert one(org, kind="custom_number", key="seats", op="ne", value=12) == ["Eva"]
    assert one(org, kind="custom_number", key="seats", op="gte", value="3.5") == ["Ana", "Eva"]


EVENT_CASES = [
    ({"op": "did", "days": 30}, ["Ana"]),
    ({"op": "did", "days": 60}, ["Ana", "Luis"]),
    ({"op": "did", "days": 30, "count": 3}, ["Ana"]),
    ({"op": "did", "days": 30, "count": 4}, []),
    ({"op": "did_not", "days": 30}, ["Eva", "Luis"]),
    ({"op": "did", "days": 60, "where": [{"property": "url", "op": "contains", "value": "/PRICING"}]}, ["Ana", "Luis"]),
    ({"op": "did", "days": 30, "where": [{"property": "url", "op": "contains", "value": "/pricing"}]}, ["Ana"]),
    ({"op": "did", "days": 60, "where": [{"property": "url", "op": "eq", "value": "https://acme.test/"}]}, ["Ana"]),
    ({"op": "did", "days": 30, "count": 2, "where": [{"property": "url", "op": "contains", "value": "pricing"}]}, []),
]


@pytest.mark.parametrize(("leaf", "expected"), EVENT_CASES)
def test_event_conditions(org, people, leaf, expected):
    assert one(org, kind="event", value="page.viewed", **leaf) == expected


def test_another_organisations_events_and_contacts_never_match(org, other_org, people):
    # Eva has a page view only in a row of the other organisation; Otto is of the other organisation
    assert one(org, kind="event", value="page.viewed", op="did", days=7) == ["Ana"]
    assert one(org, kind="city", op="eq", value="madrid") == ["Ana"]
    assert names(other_org, {"all": [{"kind": "city", "op": "eq", "value": "madrid"}]}) == ["Otto"]


def test_groups_nest_and_or(org, people):
    customer_or_lead = {
        "any": [
            {"kind": "lifecycle_stage", "op": "in", "value": ["customer"]},
            {"kind": "lifecycle_stage", "op": "in", "value": ["lead"]},
        ]
    }
    assert names(org, {"all": [customer_or_lead, {"kind": "city", "op": "eq", "value": "Lisboa"}]}) == ["Luis"]
    assert names(org, {"any": [customer_or_lead, {"kind": "email", "op": "is_empty"}]}) == ["Ana", "Eva", "Luis"]
    assert names(
        org,
        {
            "all": [
                {
                    "any": [
                        {
                            "all": [
                                {"kind": "country", "op": "in", "value": ["ES"]},
                                {"kind": "tags", "op": "has_any", "value": [people["vip"].pk]},
                            ]
                        },
                        {"kind": "company_size", "op": "in", "value": ["1-10"]},
                    ]
                },
                {"kind": "event", "op": "did_not", "value": "page.viewed", "days": 30},
            ]
        },
    ) == ["Eva"]


def test_empty_groups(org, people):
    assert names(org, {"all": []}) == ["Ana", "Eva", "Luis"]
    assert names(org, {"any": []}) == []
    assert names(org, {"any": [{"all": []}, {"kind": "first_name", "op": "eq", "value": "nobody"}]}) == [
        "Ana",
        "Eva",
        "Luis",
    ]
    assert names(org, {"all": [{"any": []}, {"kind": "first_name", "op": "eq", "value": "Ana"}]}) == []


def _nested(depth: int) -> dict[str, Any]:
    group: dict[str, Any] = {"all": [{"kind": "first_name", "op": "eq", "value": "Ana"}]}
    for _level in range(depth):
        group = {"all": [group]}
    return group


def test_validation_errors(org, other_org, people):
    city_is_x = {"kind": "city", "op": "eq", "value": "x"}
    gt_on_text = {"all": [{"any": [city_is_x, city_is_x, {"kind": "city", "op": "gt", "value": "x"}]}]}
    assert errors(org, gt_on_text) == {
        "conditions.0.any.2.op": "The operator “gt” does not apply to text. "
        "Allowed: eq, ne, contains, not_contains, starts_with, is_empty, is_set."
    }
    other_tag = TagFactory(organization=other_org, name="theirs")
    cases = [
        ([], {"conditions": "A group is an object with one key, “all” or “any”, holding a list of conditions."}),
        ({"all": "x"}, {"conditions": "A group's conditions must be a list."}),
        ({"all": ["x"]}, {"conditions.0": "A condition is an object with a kind, an operator and a value."}),
        ({"all": [{"kind": "shoe_size", "op": "eq", "value": 1}]}, {"conditions.0.kind": None}),
        ({"all": [{"kind": "city", "op": "eq", "value": 5}]}, {"conditions.0.value": "Enter some text."}),
        (
            {"all": [{"kind": "city", "op": "eq", "value": "x" * 201}]},
            {"conditions.0.value": "At most 200 characters."},
        ),
        (
            {"all": [{"kind": "city", "op": "is_empty", "value": "x"}]},
            {"conditions.0.value": "This operator takes no value."},
        ),
        ({"all": [{"kind": "city", "op": "eq", "value": "x", "colour": 1}]}, {"conditions.0": "Unknown key: colour."}),
        (
            {"all": [{"kind": "custom_number", "key": "seats", "op": "gt", "value": "many"}]},
            {"conditions.0.value": "Enter a number."},
        ),
        (
            {"all": [{"kind": "custom_number", "key": "seats", "op": "gt", "value": True}]},
            {"conditions.0.value": "Enter a number."},
        ),
        (
            {"all": [{"kind": "custom_text", "key": "1x", "op": "eq", "value": "a"}]},
            {"conditions.0.key": "Enter a property name (letters, digits and _, starting with a letter)."},
        ),
        (
            {"all": [{"kind": "created_at", "op": "in_last", "value": -1}]},
            {"conditions.0.value": "Enter a number of days from 0 to 36500."},
        ),
        (
            {"all": [{"kind": "created_at", "op": "in_last", "value": "7"}]},
            {"conditions.0.value": "Enter a whole number of days."},
        ),
        (
            {"all": [{"kind": "created_at", "op": "on", "value": "2026-13-01"}]},
            {"conditions.0.value": "Enter a date as YYYY-MM-DD."},
        ),
        ({"all": [{"kind": "country", "op": "in", "value": ["XX"]}]}, {"conditions.0.value": None}),
        ({"all": [{"kind": "country", "op": "in", "value": []}]}, {"conditions.0.value": "Choose at least one value."}),
        (
            {"all": [{"kind": "tags", "op": "has_any", "value": [other_tag.pk]}]},
            {"conditions.0.value": f"No such record: {other_tag.pk}."},
        ),
        (
            {"all": [{"kind": "tags", "op": "has_any", "value": ["vip"]}]},
            {"conditions.0.value": "Choose records by their ids (whole numbers)."},
        ),
        (
            {"all": [{"kind": "event", "op": "did", "value": "page.viewed", "days": -3}]},
            {"conditions.0.days": "Enter a number of days from 0 to 36500."},
        ),
        (
            {"all": [{"kind": "event", "op": "did", "value": "page.viewed", "days": 0}]},
            {"conditions.0.days": "Enter a number of days from 1."},
        ),
        (
            {"all": [{"kind": "event", "op": "did", "value": "page.viewed"}]},
            {"conditions.0.days": "Enter a whole number of days."},
        ),
        (
            {"all": [{"kind": "event", "op": "did", "value": "page.viewed", "days": 3, "count": 0}]},
            {"conditions.0.count": "Enter a whole number of times from 1."},
        ),
        (
            {"all": [{"kind": "event", "op": "did_not", "value": "page.viewed", "days": 3, "count": 2}]},
            {"conditions.0.count": "“Did not” takes no number of times."},
        ),
        (
            {"all": [{"kind": "event", "op": "did", "value": "no.such", "days": 3}]},
            {"conditions.0.value": "Unknown event type “no.such”."},
        ),
        (
            {"all": [{"kind": "event", "op": "did", "value": "web.*", "days": 3}]},
            {"conditions.0.value": "Unknown event type “web.*”."},
        ),
        (
            {
                "all": [
                    {
                        "kind": "event",
                        "op": "did",
                        "value": "page.viewed",
                        "days": 3,
                        "where": [{"property": "url", "op": "gt", "value": "a"}],
                    }
                ]
            },
            {"conditions.0.where": "A property filter's operator is “eq” or “contains”."},
        ),
        (
            {
                "all": [
                    {"kind": "event", "op": "did", "value": "page.viewed", "days": 3, "where": [{"property": "url"}]}
                ]
            },
            {"conditions.0.where": "Each property filter has a property, an operator and a value."},
        ),
        (_nested(MAX_DEPTH + 1), {"conditions" + ".0.all" * MAX_DEPTH + ".0": "Groups nest at most 5 levels deep."}),
        (
            {"any": [{"kind": "city", "op": "eq", "value": "x"}] * (MAX_LEAVES + 1)},
            {f"conditions.{MAX_LEAVES}": "A definition has at most 100 conditions."},
        ),
    ]
    for definition, expected in cases:
        found = errors(org, definition)
        assert set(found) == set(expected), definition
        for path, message in expected.items():
            if message is not None:
                assert found[path] == message, definition
    assert errors(org, {"all": [{"kind": "shoe_size"}]})["conditions.0.kind"].startswith(
        "Unknown condition “shoe_size”. Allowed: "
    )
    assert errors(org, {"all": [{"kind": "country", "op": "in", "value": ["XX"]}]})["conditions.0.value"].startswith(
        "Unknown value: XX. Allowed: "
    )
    assert errors(org, _nested(MAX_DEPTH)) == {}
    with scope(organization=org), pytest.raises(ValidationError) as raised:
        compile_definition({"all": [{"kind": "city", "op": "gt", "value": 1}]}, org)
    assert list(raised.value.message_dict) == ["conditions.0.op"]


def test_an_owner_of_another_organisation_is_refused(org, people):
    stranger = make_member()
    assert errors(org, {"all": [{"kind": "owner", "op": "in", "value": [True]}]})["conditions.0.value"].startswith(
        "Unknown value: True. Allowed: "
    )
    assert errors(org, {"all": [{"kind": "owner", "op": "in", "value": [stranger.user_id]}]}) == {
        "conditions.0.value": f"Unknown value: {stranger.user_id}. Allowed: {org.memberships.get().user_id}."
    }


def test_every_kind_declares_what_it_depends_on():
    kinds = condition_kinds()
    assert {kind.name for kind in kinds} >= {
        "first_name",
        "event",
        "tags",
        "form_submitted",
        "total_spent",
        "open_deal_stage",
    }
    undeclared = [kind.name for kind in kinds if not kind.depends_on]
    assert undeclared == []
    assert dependencies({"all": [{"kind": "city"}, {"any": [{"kind": "tags"}, {"kind": "event"}]}]}) == {
        "contacts.Contact",
        "contacts.Tag",
        "*",
    }
