"""The page forms only parse what was typed into the shapes the services take; these check the
parsing (and its round trip for custom properties), not validation, which is the services'."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict

from vinculo.contacts.forms import (
    BulkForm,
    ContactForm,
    CustomPropertiesField,
    PhoneListField,
    StringListField,
    TagNamesField,
    custom_to_text,
)


def test_custom_properties_parse_types_and_quoted_text():
    field = CustomPropertiesField(required=False)

    parsed = field.clean(
        'plan = gold\nseats = 12\nratio=0.5\nvip = true\nold = false\nnone = null\ncode = "007"\n\nnote = a = b'
    )

    assert parsed == {
        "plan": "gold",
        "seats": 12,
        "ratio": 0.5,
        "vip": True,
        "old": False,
        "none": None,
        "code": "007",
        "note": "a = b",
    }


@pytest.mark.parametrize(
    "value",
    [
        {
            "a": "text",
            "b": 5,
            "c": 1.25,
            "d": True,
            "e": None,
            "f": "5",
            "g": "true",
            "h": "",
            "i": ' "q" ',
            "j": "two\nlines",
        },
        {},
    ],
)
def test_custom_properties_round_trip_exactly(value):
    assert CustomPropertiesField(required=False).clean(custom_to_text(value)) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no equals sign", "Line 1: write “name = value”."),
        ("a = 1\n = 2", "Line 2: write “name = value”."),
        ("a = 1\na = 2", "Line 2: “a” is given twice."),
    ],
)
def test_custom_properties_malformed_lines(text, message):
    with pytest.raises(ValidationError) as raised:
        CustomPropertiesField(required=False).clean(text)

    assert raised.value.messages == [message]


def test_tag_names_split_on_commas_and_drop_blanks_and_repeats():
    assert TagNamesField(required=False).clean(" VIP, madrid ,,vip, Big deal ") == ["VIP", "madrid", "Big deal"]
    assert TagNamesField(required=False).clean("") == []
    assert TagNamesField(required=False).prepare_value(["a", "b"]) == "a, b"


def test_string_list_keeps_order_and_drops_empty_inputs():
    assert StringListField(required=False).clean([" a@x.com ", "", "b@x.com"]) == ["a@x.com", "b@x.com"]


def test_phone_list_pairs_numbers_with_kinds():
    field = PhoneListField(required=False)
    data = QueryDict(mutable=True)
    data.setlist("phones", ["+34 600 111 222", "", "612"])
    data.setlist("phones_kind", ["work", "mobile", "home"])

    value = field.widget.value_from_datadict(data, {}, "phones")

    assert field.clean(value) == [{"number": "+34 600 111 222", "kind": "work"}, {"number": "612", "kind": "home"}]


def test_contact_form_passes_every_field_to_the_service_as_typed():
    data = QueryDict(mutable=True)
    data.update({"first_name": " Ana ", "owner": "42", "company": "7", "tags": "a, b", "custom": "x = 1"})
    data.setlist("emails", ["ana@x.com", ""])
    data.setlist("phones", ["600", ""])
    data.setlist("phones_kind", ["", "mobile"])
    form = ContactForm(data)

    assert form.is_valid()
    service_data = form.service_data()
    assert service_data["first_name"] == "Ana"
    assert service_data["owner"] == "42"  # unknown ids are the service's to refuse
    assert service_data["company"] == "7"
    assert service_data["emails"] == ["ana@x.com"]
    assert service_data["phones"] == [{"number": "600", "kind": "mobile"}]
    assert service_data["tags"] == ["a", "b"]
    assert service_data["custom"] == {"x": 1}
    assert sorted(service_data) == sorted(
        [
            "first_name",
            "last_name",
            "emails",
            "phones",
            "company",
            "job_title",
            "lifecycle_stage",
            "source",
            "owner",
            "tags",
            "street",
            "postal_code",
            "city",
            "region",
            "country",
            "language",
            "time_zone",
            "custom",
        ]
    )


def test_contact_form_maps_service_errors_onto_fields():
    form = ContactForm(QueryDict("first_name=Ana"))
    assert form.is_valid()

    form.apply_service_errors(ValidationError({"emails": ["bad"], "unknown": ["odd"], "__all__": ["whole"]}))

    assert form.errors["emails"] == ["bad"]
    assert form.non_field_errors() == ["odd", "whole"]
    assert "is-invalid" in form.fields["emails"].widget.attrs["class"]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ("action=add_tag&ids=1", {"tag": ["Name the tag."]}),
        ("action=delete", {"__all__": ["Select at least one row."]}),
        ("action=explode&ids=1", {"action": ["Select a valid choice. explode is not one of the available choices."]}),
        ("ids=1", {"action": ["This field is required."]}),
    ],
)
def test_bulk_form_needs_an_action_rows_and_a_tag_name(data, errors):
    form = BulkForm(QueryDict(data))

    assert not form.is_valid()
    assert form.errors == errors


def test_bulk_form_reads_repeated_ids():
    form = BulkForm(QueryDict("action=delete&ids=1&ids=2&confirm=1"))

    assert form.is_valid()
    assert (form.cleaned_data["ids"], form.cleaned_data["confirm"]) == (["1", "2"], True)
