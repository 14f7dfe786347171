"""The OpenAPI document is valid, and a client generated from it works.

The second test does what an integrator does: generate a Python client with openapi-python-client
from /api/v1/openapi.json (failing on any warning, such as a schema the generator cannot read and
drops with its endpoints), import it, and create, read, update and delete a contact, a company and
a deal on the live test server with an API token.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.test import Client
from django_scopes import scope
from openapi_spec_validator import validate

from vinculo.accounts.services import api_token_create
from vinculo.accounts.testing import make_member
from vinculo.sales.testing import make_pipeline

API = "/api/v1"
CLIENT_PACKAGE = "vinculo_generated_client"


def test_openapi_document_validates(db):
    response = Client().get(f"{API}/openapi.json")

    assert response.status_code == 200
    validate(response.json())  # raises with the first problem found


def test_the_tracker_preflight_is_not_an_operation_of_the_document(db):
    paths = Client().get(f"{API}/openapi.json").json()["paths"]

    assert list(paths[f"{API}/track/batch"]) == ["post"]
    assert paths[f"{API}/track/batch"]["post"]["operationId"] == "track_batch"


@pytest.fixture
def generated_client(live_server: Any, tmp_path: Path) -> Iterator[ModuleType]:
    """The client package generated from the live server's document, importable for the test."""
    spec = tmp_path / "openapi.json"
    spec.write_bytes(Client().get(f"{API}/openapi.json").content)
    config = tmp_path / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run on the generated code
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(tmp_path / CLIENT_PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(CLIENT_PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == CLIENT_PACKAGE or n.startswith(f"{CLIENT_PACKAGE}.")]:
            del sys.modules[name]


def _module(name: str) -> Any:
    return importlib.import_module(f"{CLIENT_PACKAGE}.{name}")


def test_a_generated_client_creates_reads_updates_and_deletes_contacts_companies_and_deals(
    live_server: Any, generated_client: ModuleType
):
    owner = make_member(full_name="Ana Ruiz", email="ana@probe-co.test")
    pipeline = make_pipeline(owner.organization)
    with scope(organization=owner.organization):
        token = api_token_create(actor=owner, name="generated client", scope="read_write").secret
        first_stage = pipeline.stages.order_by("position").first()
    assert first_stage is not None
    client = generated_client.AuthenticatedClient(base_url=live_server.url, token=token)
    models = _module("models")

    # a company
    company_api = {op: _module(f"api.companies.company_{op}") for op in ("create", "get", "update", "delete")}
    created = company_api["create"].sync_detailed(
        client=client,
        body=models.CompanyIn(
            name="Acme Ibérica",
            domain="acme-iberica.test",
            address=models.AddressIn(city="Madrid", postal_code="28001"),
        ),
    )
    assert created.status_code == 201
    company = created.parsed
    assert (company.name, company.domain, company.address.city, company.address.postal_code) == (
        "Acme Ibérica",
        "acme-iberica.test",
        "Madrid",
        "28001",
    )
    updated = company_api["update"].sync_detailed(
        company.id, client=client, body=models.CompanyPatch(industry="Software")
    )
    assert updated.status_code == 200
    read = company_api["get"].sync_detailed(company.id, client=client)
    assert (read.status_code, read.parsed.name, read.parsed.industry) == (200, "Acme Ibérica", "Software")

    # a contact of that company
    contact_api = {op: _module(f"api.contacts.contact_{op}") for op in ("create", "get", "update", "delete")}
    created = contact_api["create"].sync_detailed(
        client=client,
        body=models.ContactIn(
            first_name="Lucía", last_name="Gómez", emails=["lucia@acme-iberica.test"], company=company.id
        ),
    )
    assert created.status_code == 201
    contact = created.parsed
    assert (contact.first_name, contact.last_name, contact.emails, contact.company.id) == (
        "Lucía",
        "Gómez",
        ["lucia@acme-iberica.test"],
        company.id,
    )
    assert contact.address.city == ""
    updated = contact_api["update"].sync_detailed(
        contact.id, client=client, body=models.ContactPatch(job_title="CTO", address=models.AddressIn(city="Sevilla"))
    )
    assert updated.status_code == 200
    read = contact_api["get"].sync_detailed(contact.id, client=client)
    assert (read.status_code, read.parsed.job_title, read.parsed.address.city) == (200, "CTO", "Sevilla")

    # a deal for both
    deal_api = {op: _module(f"api.sales.deal_{op}") for op in ("create", "get", "update", "delete")}
    created = deal_api["create"].sync_detailed(
        client=client,
        body=models.DealIn(
            title="Acme 50 seats", amount="12500.00", currency="EUR", contact=contact.id, company=company.id
        ),
    )
    assert created.status_code == 201
    deal = created.parsed
    assert (deal.title, deal.amount, deal.currency, deal.contact.id, deal.company.id, deal.stage.id) == (
        "Acme 50 seats",
        "12500.00",
        "EUR",
        contact.id,
        company.id,
        first_stage.pk,
    )
    updated = deal_api["update"].sync_detailed(deal.id, client=client, body=models.DealPatch(amount="11250.00"))
    assert updated.status_code == 200
    read = deal_api["get"].sync_detailed(deal.id, client=client)
    assert (read.status_code, read.parsed.title, read.parsed.amount) == (200, "Acme 50 seats", "11250.00")

    # and away again, each answering 404 afterwards
    for api, record in ((deal_api, deal), (contact_api, contact), (company_api, company)):
        assert api["delete"].sync_detailed(record.id, client=client).status_code == 204
        gone = api["get"].sync_detailed(record.id, client=client)
        assert gone.status_code == 404
