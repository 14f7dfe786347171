"""CRUD, API and tenancy tests from declarations (NetBox's `utilities/testing/`, as pytest classes).

A test class subclasses `CrudPagesSpec` and/or `CrudApiSpec` and declares the model, a factory
and the data; the base classes' test methods read those attributes, so every model gets the same
list / detail / create / edit / delete / bad input / query-count / another-organisation tests:

    class TestProductPages(CrudPagesSpec):
        model = Product
        factory = ProductFactory
        url_list = "sales:product_list"
        url_create = "sales:product_create"
        url_detail = "sales:product_detail"
        ...
        create_data = {"name": "Widget", "sku": "W-1", "tax_rate": "21", "is_active": "on"}
        created = {"name": "Widget", "sku": "W-1", "tax_rate": Decimal("21.00")}

A feature a model does not have (no detail page, no edit page on GET) is left as None, and its
tests are not collected. The tests use the fixtures of the kit (`org`, `other_org`, `client_in`,
`api_client`, `member_factory`) and check the database through `dangerously_unscoped` with the
organisation named explicitly, so they need no scope.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from django.db import models
from django.test import Client
from django.urls import reverse

from vinculo.core.testing.queries import assert_same_queries

JSON = "application/json"


def _disable(cls: type, names: list[str]) -> None:
    for name in names:
        setattr(cls, name, None)  # pytest does not collect a test_* attribute that is not callable


def _fields(obj: models.Model, names: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


class _Spec:
    model: ClassVar[type[models.Model]]
    # factory(organization=org, **kwargs) -> a row of `model` (a factory-boy factory or a function)
    factory: ClassVar[Callable[..., Any]]
    # how many rows to add when checking that a list's query count does not grow with its rows
    grow_by: ClassVar[int] = 4
    # the field that names a row: another organisation's rows are named with a marker that must
    # never show up
    name_field: ClassVar[str] = "name"
    marker: ClassVar[str] = "Forastero"

    def make(self, org: Any, **kwargs: Any) -> Any:
        return type(self).factory(organization=org, **kwargs)

    def rows(self, org: Any) -> Any:
        return self.model.dangerously_unscoped.filter(organization=org)  # type: ignore[attr-defined]

    def snapshot(self, obj: models.Model) -> dict[str, Any]:
        """Every concrete field of a row, to show that a refused request changed nothing."""
        fresh = type(obj)._base_manager.get(pk=obj.pk)
        return {field.attname: getattr(fresh, field.attname) for field in type(obj)._meta.concrete_fields}


class CrudPagesSpec(_Spec):
    """The pages of one model: list, create, detail, edit, delete, bad input, roles, tenancy.

    URL names take the organisation's slug first, then the row's pk.
    """

    url_list: ClassVar[str]
    url_create: ClassVar[str | None] = None  # POST creates (may be url_list itself)
    url_create_has_form: ClassVar[bool] = True  # GET url_create shows an empty form
    url_detail: ClassVar[str | None] = None
    url_edit: ClassVar[str | None] = None
    url_edit_has_form: ClassVar[bool] = True  # GET url_edit shows the form (False: POST only)
    url_delete: ClassVar[str | None] = None  # GET confirms, POST deletes

    create_data: ClassVar[dict[str, Any]] = {}
    created: ClassVar[dict[str, Any]] = {}  # field values of the new row (also how it is found)
    created_redirects_to: ClassVar[str] = "detail"  # "detail" or "list"
    bad_create_data: ClassVar[dict[str, Any]] = {}
    bad_create_error: ClassVar[str] = ""  # shown next to the field; the typed values are kept
    update_data: ClassVar[dict[str, Any]] = {}
    updated: ClassVar[dict[str, Any]] = {}
    # the text of a row in the list and on its detail page (default: str(row))
    shown_as: ClassVar[Callable[[Any], str]] = str
    # a role that may not create: its POST answers 403 and saves nothing (None: no such role)
    role_without_write: ClassVar[str | None] = "read_only"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.url_create is None:
            _disable(cls, ["test_create", "test_create_rejects_bad_input", "test_a_role_without_write_cannot_create"])
        if cls.url_create is not None and not cls.bad_create_data:
            _disable(cls, ["test_create_rejects_bad_input"])
        if cls.role_without_write is None:
            _disable(cls, ["test_a_role_without_write_cannot_create"])
        if cls.url_detail is None:
            _disable(cls, ["test_detail"])
        if cls.url_edit is None:
            _disable(cls, ["test_edit"])
        if cls.url_delete is None:
            _disable(cls, ["test_delete"])

    def url(self, name: str, org: Any, *args: Any) -> str:
        return reverse(name, args=[org.slug, *args])

    def test_list_shows_the_organisations_rows_only(self, client_in: Client, org: Any, other_org: Any) -> None:
        ours = self.make(org)
        self.make(other_org, **{self.name_field: self.marker})

        response = client_in.get(self.url(self.url_list, org))

        assert response.status_code == 200
        body = response.content.decode()
        assert type(self).shown_as(ours) in body
        assert self.marker not in body

    def test_list_queries_do_not_grow_with_rows(self, client_in: Client, org: Any) -> None:
        self.make(org)
        response = assert_same_queries(
            lambda: client_in.get(self.url(self.url_list, org)),
            lambda: [self.make(org) for _ in range(self.grow_by)],
        )
        assert response.status_code == 200
        assert self.rows(org).count() == 1 + self.grow_by

    def test_create(self, client_in: Client, org: Any) -> None:
        assert self.url_create is not None
        if self.url_create_has_form:
            assert client_in.get(self.url(self.url_create, org)).status_code == 200

        response = client_in.post(self.url(self.url_create, org), self.create_data)

        assert response.status_code == 302, response.content.decode()[:2000]
        row = self.rows(org).get(**self.created)
        target = self.url(self.url_list, org)
        if self.created_redirects_to == "detail" and self.url_detail:
            target = self.url(self.url_detail, org, row.pk)
        assert response["Location"] == target

    def test_create_rejects_bad_input(self, client_in: Client, org: Any) -> None:
        assert self.url_create is not None

        response = client_in.post(self.url(self.url_create, org), self.bad_create_data)

        assert response.status_code == 422
        body = response.content.decode()
        assert self.bad_create_error in body
        for value in self.bad_create_data.values():
            if isinstance(value, str) and value not in ("on", ""):
                assert f'value="{value}"' in body or f">{value}<" in body
        assert self.rows(org).count() == 0

    def test_a_role_without_write_cannot_create(self, org: Any, member_factory: Any) -> None:
        assert self.url_create is not None
        assert self.role_without_write is not None
        client = Client()
        client.force_login(member_factory(self.role_without_write).user)

        response = client.post(self.url(self.url_create, org), self.create_data)

        assert response.status_code == 403
        assert self.rows(org).count() == 0

    def test_detail(self, client_in: Client, org: Any) -> None:
        assert self.url_detail is not None
        row = self.make(org)

        response = client_in.get(self.url(self.url_detail, org, row.pk))

        assert response.status_code == 200
        assert type(self).shown_as(row) in response.content.decode()

    def test_edit(self, client_in: Client, org: Any) -> None:
        assert self.url_edit is not None
        row = self.make(org)
        if self.url_edit_has_form:
            assert client_in.get(self.url(self.url_edit, org, row.pk)).status_code == 200

        response = client_in.post(self.url(self.url_edit, org, row.pk), self.update_data)

        assert response.status_code == 302, response.content.decode()[:2000]
        row.refresh_from_db()
        assert _fields(row, self.updated) == self.updated

    def test_delete(self, client_in: Client, org: Any) -> None:
        assert self.url_delete is not None
        row = self.make(org)
        assert client_in.get(self.url(self.url_delete, org, row.pk)).status_code == 200
        assert self.rows(org).filter(pk=row.pk).exists()  # a GET only asks

        response = client_in.post(self.url(self.url_delete, org, row.pk))

        assert response.status_code == 302
        assert response["Location"] == self.url(self.url_list, org)
        assert not self.rows(org).filter(pk=row.pk).exists()

    def test_another_organisations_row_is_404_and_unchanged(self, client_in: Client, org: Any, other_org: Any) -> None:
        theirs = self.make(other_org)
        before = self.snapshot(theirs)
        requests: list[tuple[str, str]] = []
        if self.url_detail:
            requests.append(("get", self.url(self.url_detail, org, theirs.pk)))
        if self.url_edit:
            if self.url_edit_has_form:
                requests.append(("get", self.url(self.url_edit, org, theirs.pk)))
            requests.append(("post", self.url(self.url_edit, org, theirs.pk)))
        if self.url_delete:
            requests += [("get", self.url(self.url_delete, org, theirs.pk))]
            requests += [("post", self.url(self.url_delete, org, theirs.pk))]

        for method, path in requests:
            data = self.update_data if method == "post" and "edit" in path else {}
            response = getattr(client_in, method)(path, data)
            assert response.status_code == 404, (method, path, response.status_code)

        assert self.snapshot(theirs) == before


class CrudApiSpec(_Spec):
    """The JSON API of one model: create, get, list, update, delete, bad input, read-only tokens,
    query counts and tenancy, at `api_path` and `api_path/<id>`."""

    api_path: ClassVar[str]
    create_payload: ClassVar[dict[str, Any]] = {}
    created_json: ClassVar[dict[str, Any]] = {}  # keys and values the 201 answer includes
    update_payload: ClassVar[dict[str, Any]] = {}
    updated_json: ClassVar[dict[str, Any]] = {}
    # (payload, field, message): each answers 422 with exactly that error and saves nothing;
    # `existing` is made first (factory kwargs), for uniqueness errors
    bad_payloads: ClassVar[list[tuple[dict[str, Any], str, str]]] = []
    existing: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.bad_payloads:
            _disable(cls, ["test_api_rejects_bad_input_and_saves_nothing"])

    def pytest_generate_tests(self, metafunc: Any) -> None:
        if "bad_payload" in metafunc.fixturenames:
            metafunc.parametrize(
                "bad_payload",
                self.bad_payloads,
                ids=[f"{field}-{i}" for i, (_p, field, _m) in enumerate(self.bad_payloads)],
            )

    def send(self, client: Client, method: str, path: str, payload: Any = None) -> Any:
        if payload is None:
            return getattr(client, method)(path)
        return getattr(client, method)(path, data=json.dumps(payload), content_type=JSON)

    def test_api_create_get_list_update_delete(self, api_client: Client, org: Any) -> None:
        created = self.send(api_client, "post", self.api_path, self.create_payload)
        assert created.status_code == 201, created.content
        body = created.json()
        assert {key: body[key] for key in self.created_json} == self.created_json
        path = f"{self.api_path}/{body['id']}"
        assert self.rows(org).filter(pk=body["id"]).exists()

        assert api_client.get(path).json() == body
        listed = api_client.get(self.api_path).json()
        assert [item["id"] for item in listed["items"]] == [body["id"]]

        updated = self.send(api_client, "patch", path, self.update_payload)
        assert updated.status_code == 200, updated.content
        assert {key: updated.json()[key] for key in self.updated_json} == self.updated_json

        assert api_client.delete(path).status_code == 204
        assert api_client.get(path).status_code == 404
        assert not self.rows(org).filter(pk=body["id"]).exists()

    def test_api_rejects_bad_input_and_saves_nothing(self, api_client: Client, org: Any, bad_payload: Any) -> None:
        payload, field, message = bad_payload
        if self.existing:
            self.make(org, **self.existing)
        before = [self.snapshot(row) for row in self.rows(org)]

        response = self.send(api_client, "post", self.api_path, payload)

        assert response.status_code == 422
        assert response.json()["errors"] == [{"field": field, "message": message}]
        assert [self.snapshot(row) for row in self.rows(org)] == before

    def test_api_read_only_token_cannot_write(self, org: Any, read_only_api_client: Client) -> None:
        client = read_only_api_client
        row = self.make(org)
        before = self.snapshot(row)

        assert self.send(client, "post", self.api_path, self.create_payload).status_code == 403
        assert self.send(client, "patch", f"{self.api_path}/{row.pk}", self.update_payload).status_code == 403
        assert client.delete(f"{self.api_path}/{row.pk}").status_code == 403
        assert client.get(f"{self.api_path}/{row.pk}").status_code == 200
        assert self.snapshot(row) == before
        assert self.rows(org).count() == 1

    def test_api_list_queries_do_not_grow_with_rows(self, api_client: Client, org: Any) -> None:
        self.make(org)
        response = assert_same_queries(
            lambda: api_client.get(self.api_path), lambda: [self.make(org) for _ in range(self.grow_by)]
        )
        assert len(response.json()["items"]) == 1 + self.grow_by

    def test_api_another_organisations_row_is_404_and_unchanged(self, api_client: Client, other_org: Any) -> None:
        theirs = self.make(other_org, **{self.name_field: self.marker})
        before = self.snapshot(theirs)
        path = f"{self.api_path}/{theirs.pk}"

        assert api_client.get(path).status_code == 404
        assert self.send(api_client, "patch", path, self.update_payload).status_code == 404
        assert api_client.delete(path).status_code == 404
        assert self.marker not in api_client.get(self.api_path).content.decode()
        assert self.snapshot(theirs) == before
