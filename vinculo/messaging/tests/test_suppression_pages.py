"""Settings → Suppression list: owners and admins list, add, remove, import and export; exact rows,
every bad input a clear error with nothing saved."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.testing import make_member
from vinculo.messaging.models import SuppressedAddress
from vinculo.messaging.services.suppression import suppression_add


def rows(org) -> list[tuple[str, str, str]]:
    with scope(organization=org):
        return list(SuppressedAddress.objects.order_by("address").values_list("address", "reason", "note"))


@pytest.fixture
def admin_client(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def url(org, name: str = "") -> str:
    return f"/o/{org.slug}/settings/suppression-list/{name}"


def upload(content: bytes) -> dict[str, SimpleUploadedFile]:
    return {"file": SimpleUploadedFile("list.csv", content, content_type="text/csv")}


def test_the_list_shows_reason_and_date_and_an_admin_adds_and_removes(admin_client, org):
    suppression_add(organization=org, address="bounced@example.com", reason="hard_bounce", note="550 no such user")
    page = admin_client.get(url(org)).content.decode()
    assert "bounced@example.com" in page
    assert "hard bounce" in page
    assert "550 no such user" in page
    added = admin_client.post(url(org), {"address": " Ana@Example.com ", "reason": "manual", "note": "Asked by phone"})
    assert added.status_code == 302
    assert rows(org) == [
        ("ana@example.com", "manual", "Asked by phone"),
        ("bounced@example.com", "hard_bounce", "550 no such user"),
    ]
    with scope(organization=org):
        pk = SuppressedAddress.objects.get(address="ana@example.com").pk
    assert admin_client.post(url(org, f"{pk}/remove/")).status_code == 302
    assert rows(org) == [("bounced@example.com", "hard_bounce", "550 no such user")]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"address": "not-an-address", "reason": "manual"}, "address", "Enter a valid e-mail address."),
        ({"address": "ana@example.com", "reason": "bored"}, "reason", "Select a valid choice."),
        ({"address": "", "reason": "manual"}, "address", "This field is required."),
    ],
)
def test_a_bad_manual_entry_is_a_field_error_and_saves_nothing(admin_client, org, data, field, message):
    response = admin_client.post(url(org), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert field in response.context["form"].errors
    assert rows(org) == []


def test_members_cannot_see_or_change_the_list(org):
    member = make_member(org, role=Role.MARKETING)
    client = Client()
    client.force_login(member.user)
    assert client.get(url(org)).status_code == 403
    assert client.post(url(org), {"address": "ana@example.com", "reason": "manual"}).status_code == 403
    assert client.get(url(org, "export/")).status_code == 403
    assert client.post(url(org, "import/"), upload(b"ana@example.com\n")).status_code == 403
    assert rows(org) == []


def test_csv_import_adds_every_row_and_keeps_existing_reasons(admin_client, org):
    suppression_add(organization=org, address="old@example.com", reason="complaint")
    content = "address,reason\nAna@Example.com,unsubscribed\n\nbea@example.com\nold@example.com,manual\nana@example.com,manual\n"
    response = admin_client.post(url(org, "import/"), upload(content.encode()))
    assert response.status_code == 302
    assert rows(org) == [
        ("ana@example.com", "unsubscribed", "Imported"),
        ("bea@example.com", "manual", "Imported"),
        ("old@example.com", "complaint", ""),
    ]


@pytest.mark.parametrize(
    ("content", "messages"),
    [
        (
            b"ana@example.com,manual\nnot-an-address,manual\nbea@example.com,bored\ncarl@example.com,manual,x\n",
            [
                "Line 2: “not-an-address” is not an e-mail address.",
                "Line 3: unknown reason “bored” (use hard_bounce, complaint, unsubscribed, manual).",
                "Line 4: expected two columns, address and reason.",
            ],
        ),
        (b"\xff\xfeana", ["The file is not UTF-8 text."]),
        (b"address,reason\n", ["The file holds no addresses."]),
    ],
)
def test_a_bad_csv_reports_its_lines_and_imports_nothing(admin_client, org, content, messages):
    response = admin_client.post(url(org, "import/"), upload(content))
    assert response.status_code == 422
    assert response.context["import_form"].errors["file"] == messages
    assert rows(org) == []


def test_csv_export_lists_every_address_with_formula_cells_neutralised(admin_client, org):
    suppression_add(organization=org, address="ana@example.com", reason="unsubscribed", note="=HYPERLINK(1)")
    suppression_add(organization=org, address="bea@example.com", reason="hard_bounce")
    response = admin_client.get(url(org, "export/"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert [r[:3] for r in table] == [
        ["address", "reason", "note"],
        ["ana@example.com", "unsubscribed", "'=HYPERLINK(1)"],
        ["bea@example.com", "hard_bounce", ""],
    ]
    assert all(len(r) == 4 and r[3] for r in table)
