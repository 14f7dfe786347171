"""Tags: the pages and the API of the model from declarations (vinculo/core/testing/crud.py).

The HTMX rename, name clashes on edit and who may delete are in test_pages.py and test_api.py.
"""

from __future__ import annotations

from typing import ClassVar

from vinculo.contacts.factories import TagFactory
from vinculo.contacts.models import Tag
from vinculo.core.testing.crud import CrudApiSpec, CrudPagesSpec


class TestTagPages(CrudPagesSpec):
    model = Tag
    factory = TagFactory
    url_list = "contacts:tag_list"
    url_create = "contacts:tag_list"  # the list page has the form of a new tag
    created_redirects_to = "list"
    url_edit = "contacts:tag_edit"
    url_edit_has_form = False  # edited in place on the list (POST only)
    url_delete = "contacts:tag_delete"
    create_data: ClassVar = {"name": "Hot lead", "color": "#FF0000"}
    created: ClassVar = {"name": "Hot lead", "color": "#ff0000"}
    bad_create_data: ClassVar = {"name": "Hot lead", "color": "red"}
    bad_create_error = "Use a colour like #1a2b3c."
    update_data: ClassVar = {"name": "VIP", "color": "#ffd700"}
    updated: ClassVar = {"name": "VIP", "color": "#ffd700"}


class TestTagApi(CrudApiSpec):
    model = Tag
    factory = TagFactory
    api_path = "/api/v1/tags"
    create_payload: ClassVar = {"name": "Hot lead", "color": "#FF0000"}
    created_json: ClassVar = {"name": "Hot lead", "color": "#ff0000"}
    update_payload: ClassVar = {"name": "Warm lead"}
    updated_json: ClassVar = {"name": "Warm lead", "color": "#ff0000"}
    existing: ClassVar = {"name": "VIP"}
    bad_payloads: ClassVar = [
        ({"name": "vip"}, "name", "A tag with this name already exists."),
        ({"name": "New", "color": "red"}, "color", "Use a colour like #1a2b3c."),
        ({"name": "x" * 51}, "name", "At most 50 characters."),
        ({"name": "  "}, "name", "This field is required."),
        ({"name": "New", "icon": "star"}, "icon", "Unknown field."),
        ({"name": None}, "name", "Enter text."),
    ]

    def test_the_answer_is_exactly_the_tag(self, api_client):
        created = api_client.post(
            self.api_path, {"name": "Hot lead", "color": "#FF0000"}, content_type="application/json"
        )
        tag = Tag.dangerously_unscoped.get()
        assert created.json() == {"id": tag.pk, "name": "Hot lead", "color": "#ff0000"}
        assert api_client.get(self.api_path).json() == {
            "items": [{"id": tag.pk, "name": "Hot lead", "color": "#ff0000"}],
            "page": 1,
            "per_page": 50,
            "total": 1,
            "total_capped": False,
            "next": None,
        }


# --- who may rename a tag (issue 9: a sales rep could rename one, deleting needed a manager) -------


def _tag_state(org):
    return list(Tag.dangerously_unscoped.filter(organization=org).values_list("name", "color"))


def test_a_sales_rep_cannot_rename_an_organisation_wide_tag_by_the_api_or_the_page(org, member):
    from vinculo.accounts.testing import login_client

    tag = TagFactory(organization=org, name="VIP", color="#123456")
    rep = member(role="sales")

    response = login_client(rep).patch(
        f"/api/v1/tags/{tag.pk}", data='{"name": "Hacked"}', content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Only managers and admins can rename or recolour tags.", "errors": []}
    page = login_client(rep)
    assert page.post(f"/o/{org.slug}/tags/{tag.pk}/edit/", {"name": "Hacked", "color": "#000000"}).status_code == 403
    listed = page.get(f"/o/{org.slug}/tags/").content.decode()
    assert "tag-edit-form" not in listed  # no form the rep could not use
    assert _tag_state(org) == [("VIP", "#123456")]


def test_a_manager_renames_a_tag(org, member):
    from vinculo.accounts.testing import login_client

    tag = TagFactory(organization=org, name="VIP", color="#123456")

    response = login_client(member(role="manager")).patch(
        f"/api/v1/tags/{tag.pk}", data='{"name": "Key account"}', content_type="application/json"
    )

    assert response.status_code == 200
    assert _tag_state(org) == [("Key account", "#123456")]
