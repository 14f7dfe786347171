"""The customer-database services: what they save, the audit entries and events they write, the
validation errors they raise (and that nothing is saved then), and the role checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.contacts import services
from vinculo.contacts.models import Company, Contact, ContactEmail, ContactPhone, Note, Tag
from vinculo.core.consumers import register_consumer, unregister_consumer
from vinculo.core.models import AuditEntry, Event


@pytest.fixture
def in_org(org) -> Iterator[None]:
    """Services run inside the organisation's scope, as they do in a request."""
    with scope(organization=org):
        yield


@pytest.fixture
def delivered() -> Iterator[list[int]]:
    """Ids of the events handed to subscribers (after commit)."""
    seen: list[int] = []

    register_consumer(name="test.everything", patterns=["*"], handler=lambda event: seen.append(event.pk))
    yield seen
    unregister_consumer("test.everything")


def audit(instance: Any, pk: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    entries = AuditEntry.dangerously_unscoped.filter(
        object_type=instance._meta.label_lower, object_id=pk or instance.pk
    ).order_by("id")
    return [(e.action, e.changes) for e in entries]


def nothing_saved() -> tuple[int, ...]:
    return (
        Contact.dangerously_unscoped.count(),
        ContactEmail.dangerously_unscoped.count(),
        ContactPhone.dangerously_unscoped.count(),
        Company.dangerously_unscoped.count(),
        Tag.dangerously_unscoped.count(),
        Note.dangerously_unscoped.count(),
        AuditEntry.dangerously_unscoped.count(),
        Event.dangerously_unscoped.count(),
    )


# --- contacts --------------------------------------------------------------------------------


def test_contact_create_saves_normalised_values_audits_and_emits(
    actor, org, in_org, delivered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        contact = services.contact_create(
            actor=actor,
            data={
                "first_name": " Ana ",
                "emails": ["Ana@Example.COM", "ana@example.com", "second@example.com"],
                "phones": ["600 111 222", {"number": "+44 20 7946 0958", "kind": "work"}],
                "country": "es",
                "tags": ["VIP", "vip", "Madrid"],
            },
        )

    assert contact.first_name == "Ana"
    assert contact.owner_id == actor.user_id  # the creator owns it unless told otherwise
    assert contact.email == "ana@example.com"
    assert contact.phone == "+34600111222"
    assert list(contact.emails.values_list("email", "is_primary")) == [
        ("ana@example.com", True),
        ("second@example.com", False),
    ]
    assert list(contact.phones.values_list("number", "kind")) == [("+34600111222", "mobile"), ("+442079460958", "work")]
    assert sorted(contact.tags.values_list("name", flat=True)) == ["Madrid", "VIP"]
    [(action, changes)] = audit(contact)
    assert action == "create"
    assert changes["first_name"] == [None, "Ana"]
    assert changes["emails"] == [None, ["ana@example.com", "second@example.com"]]
    assert changes["owner"] == [None, actor.user.full_name]
    event = Event.dangerously_unscoped.get(type="contact.created")
    assert (event.contact_id, event.actor_id, event.properties) == (
        contact.pk,
        actor.user_id,
        {"name": "Ana", "source": "manual", "owner_id": actor.user_id},
    )
    assert delivered == [event.pk]


def test_contact_create_with_owner_none_leaves_it_unowned(actor, in_org):
    contact = services.contact_create(actor=actor, data={"first_name": "Ana", "owner": None})

    assert contact.owner_id is None


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"first_name": "Ana", "emails": ["nope"]}, {"emails": ["“nope” is not a valid e-mail address."]}),
        ({"first_name": "Ana", "emails": "a@b.com"}, {"emails": ["Give a list of e-mail addresses."]}),
        (
            {"first_name": "Ana", "phones": ["12"]},
            {"phones": ["“12”: start with the country code (e.g. +34) or set the country."]},
        ),
        (
            {"first_name": "Ana", "phones": [{"number": "+34600111222", "kind": "fax"}]},
            {"phones": ["Unknown phone kind “fax”."]},
        ),
        ({"first_name": "A" * 101}, {"first_name": ["Ensure this value has at most 100 characters (it has 101)."]}),
        ({"first_name": "Ana", "lifecycle_stage": "vip"}, {"lifecycle_stage": ["Value 'vip' is not a valid choice."]}),
        ({"first_name": "Ana", "owner": 10**30}, {"owner": ["No such member of this organisation."]}),
        ({"first_name": "Ana", "company": "x"}, {"company": ["No such company."]}),
        (
            {"first_name": "Ana", "custom": {"1bad": 1}},
            {"custom": ["“1bad” is not a valid property name (letters, digits and _, starting with a letter)."]},
        ),
        ({"first_name": "Ana", "custom": {"k": [1]}}, {"custom": ["“k” must be text, a number, true/false or empty."]}),
        ({"first_name": "Ana", "tags": ["", "x"]}, {"tags": ["A tag name cannot be empty."]}),
        ({"first_name": "Ana", "password": "x"}, {"password": ["Unknown field."]}),
        ({"first_name": 5}, {"first_name": ["Enter text."]}),
        ({}, {"first_name": ["Give the contact a name or an e-mail address."]}),
    ],
)
def test_contact_create_rejects_bad_input_and_saves_nothing(actor, in_org, data, errors):
    before = nothing_saved()

    with pytest.raises(ValidationError) as raised:
        services.contact_create(actor=actor, data=data)

    assert raised.value.message_dict == errors
    assert nothing_saved() == before


def test_contact_create_refuses_an_e_mail_of_another_contact(actor, in_org):
    services.contact_create(actor=actor, data={"first_name": "First", "emails": ["taken@example.com"]})
    before = nothing_saved()

    with pytest.raises(ValidationError) as raised:
        services.contact_create(actor=actor, data={"first_name": "Second", "emails": ["TAKEN@example.com"]})

    assert raised.value.message_dict == {"emails": ["taken@example.com already belongs to First."]}
    assert nothing_saved() == before


def test_contact_create_cannot_use_another_organisations_company(actor, org, other_actor):
    with scope(organization=other_actor.organization):
        theirs = services.company_create(actor=other_actor, data={"name": "Theirs"})

    with scope(organization=org), pytest.raises(ValidationError) as raised:
        services.contact_create(actor=actor, data={"first_name": "Ana", "company": theirs.pk})

    assert raised.value.message_dict == {"company": ["No such company."]}


def test_contact_update_records_the_diff_and_emits_it(actor, in_org):
    contact = services.contact_create(
        actor=actor, data={"first_name": "Ana", "emails": ["ana@example.com"], "tags": ["a"]}
    )

    services.contact_update(
        actor=actor, contact=contact, data={"last_name": "López", "emails": ["new@example.com"], "tags": ["a", "b"]}
    )

    contact.refresh_from_db()
    assert (contact.last_name, contact.email) == ("López", "new@example.com")
    assert audit(contact)[-1] == (
        "update",
        {"last_name": ["", "López"], "emails": [["ana@example.com"], ["new@example.com"]], "tags": [["a"], ["a", "b"]]},
    )
    event = Event.dangerously_unscoped.get(type="contact.updated")
    assert event.properties == {"changes": audit(contact)[-1][1]}
    assert "lopez" in contact.search_text  # search keeps up, accent-free


def test_contact_update_without_a_change_writes_nothing(actor, in_org):
    contact = services.contact_create(actor=actor, data={"first_name": "Ana", "custom": {"n": 1}})
    before = nothing_saved()

    services.contact_update(actor=actor, contact=contact, data={"first_name": "Ana", "custom": {"n": 1}})

    assert nothing_saved() == before


def test_contact_update_with_bad_input_changes_nothing(actor, in_org):
    contact = services.contact_create(actor=actor, data={"first_name": "Ana", "emails": ["ana@example.com"]})
    before = nothing_saved()

    with pytest.raises(ValidationError):
        services.contact_update(actor=actor, contact=contact, data={"first_name": "Changed", "emails": ["bad"]})

    contact.refresh_from_db()
    assert (contact.first_name, contact.email) == ("Ana", "ana@example.com")
    assert nothing_saved() == before


def test_contact_delete_audits_and_emits(actor, in_org):
    contact = services.contact_create(actor=actor, data={"first_name": "Ana", "emails": ["ana@example.com"]})
    pk = contact.pk

    services.contact_delete(actor=actor, contact=contact)

    assert not Contact.dangerously_unscoped.filter(pk=pk).exists()
    entry = AuditEntry.dangerously_unscoped.get(object_id=pk, action="delete")
    assert entry.changes["first_name"] == ["Ana", None]
    assert entry.changes["emails"] == [["ana@example.com"], None]
    event = Event.dangerously_unscoped.get(type="contact.deleted")
    assert event.properties == {"contact_id": pk, "name": "Ana"}


def test_read_only_cannot_write_anything(org, member, in_org, actor):
    reader = member(Role.READ_ONLY)
    contact = services.contact_create(actor=actor, data={"first_name": "Ana"})
    company = services.company_create(actor=actor, data={"name": "Acme"})
    before = nothing_saved()

    for call in (
        lambda: services.contact_create(actor=reader, data={"first_name": "X"}),
        lambda: services.contact_update(actor=reader, contact=contact, data={"first_name": "X"}),
        lambda: services.contact_delete(actor=reader, contact=contact),
        lambda: services.company_create(actor=reader, data={"name": "X"}),
        lambda: services.company_update(actor=reader, company=company, data={"name": "X"}),
        lambda: services.note_create(actor=reader, contact=contact, body="x"),
        lambda: services.tag_create(actor=reader, data={"name": "x"}),
        lambda: services.contact_bulk_delete(actor=reader, ids=[contact.pk]),
        lambda: services.company_bulk_delete(actor=reader, ids=[company.pk]),
    ):
        with pytest.raises(PermissionDenied):
            call()

    assert nothing_saved() == before


def test_sales_changes_only_own_team_or_unowned_records(org, member, actor, in_org):
    seller = member(Role.SALES)
    own = services.contact_create(actor=seller, data={"first_name": "Own"})
    unowned = services.contact_create(actor=actor, data={"first_name": "Unowned", "owner": None})
    others = services.contact_create(actor=actor, data={"first_name": "Others"})

    services.contact_update(actor=seller, contact=own, data={"job_title": "x"})
    services.contact_update(actor=seller, contact=unowned, data={"job_title": "x"})
    with pytest.raises(PermissionDenied):
        services.contact_update(actor=seller, contact=others, data={"job_title": "x"})


# --- bulk ------------------------------------------------------------------------------------


def test_bulk_assign_owner_and_tags(org, member, actor, in_org):
    colleague = member(Role.SALES)
    a = services.contact_create(actor=actor, data={"first_name": "A", "tags": ["Old"]})
    b = services.contact_create(actor=actor, data={"first_name": "B"})

    assert services.contact_bulk_assign_owner(actor=actor, ids=[a.pk, str(b.pk)], owner=colleague.user_id) == 2
    assert set(Contact.dangerously_unscoped.values_list("owner_id", flat=True)) == {colleague.user_id}
    assert services.contact_bulk_tag(actor=actor, ids=[a.pk, b.pk], tag="Hot") == 2
    assert services.contact_bulk_tag(actor=actor, ids=[a.pk], tag="old", remove=True) == 1
    assert list(a.tags.values_list("name", flat=True)) == ["Hot"]
    assert list(b.tags.values_list("name", flat=True)) == ["Hot"]
    assert [action for action, _changes in audit(a)] == ["create", "update", "update", "update"]


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([], "Select at least one contact."),
        (["x"], "Contact ids must be whole numbers."),
        ([2**63], "Contact ids must be whole numbers."),
        (list(range(1, 502)), "At most 500 contacts at once."),
    ],
)
def test_bulk_rejects_bad_ids(actor, in_org, ids, message):
    with pytest.raises(ValidationError) as raised:
        services.contact_bulk_delete(actor=actor, ids=ids)

    assert raised.value.message_dict == {"ids": [message]}


def test_bulk_delete_is_all_or_nothing(org, member, actor, in_org):
    marketer = member(Role.MARKETING)
    theirs = services.contact_create(actor=marketer, data={"first_name": "Theirs"})
    not_theirs = services.contact_create(actor=actor, data={"first_name": "Not theirs"})

    with pytest.raises(PermissionDenied):
        services.contact_bulk_delete(actor=marketer, ids=[theirs.pk, not_theirs.pk])

    assert Contact.dangerously_unscoped.count() == 2
    assert services.contact_bulk_delete(actor=marketer, ids=[theirs.pk]) == 1


def test_bulk_ignores_ids_the_actor_cannot_see(org, member, actor, other_actor):
    seller = member(Role.SALES)
    with scope(organization=other_actor.organization):
        foreign = services.contact_create(actor=other_actor, data={"first_name": "Foreign"})
    with scope(organization=org):
        hidden = services.contact_create(actor=actor, data={"first_name": "Hidden"})

        assert services.contact_bulk_delete(actor=seller, ids=[foreign.pk, hidden.pk]) == 0

    assert Contact.dangerously_unscoped.count() == 2


def test_company_bulk_assign_tag_and_delete(org, member, actor, in_org):
    manager = member(Role.MANAGER)
    acme = services.company_create(actor=actor, data={"name": "Acme", "tags": ["x"]})
    beta = services.company_create(actor=actor, data={"name": "Beta"})

    assert services.company_bulk_assign_owner(actor=actor, ids=[acme.pk, beta.pk], owner=manager.user_id) == 2
    assert set(Company.dangerously_unscoped.values_list("owner_id", flat=True)) == {manager.user_id}
    assert services.company_bulk_tag(actor=actor, ids=[acme.pk, beta.pk], tag="Partner") == 2
    assert services.company_bulk_tag(actor=actor, ids=[acme.pk], tag="X", remove=True) == 1
    assert list(acme.tags.values_list("name", flat=True)) == ["Partner"]
    assert audit(acme)[-1] == ("update", {"tags": [["Partner", "x"], ["Partner"]]})
    assert services.company_bulk_delete(actor=actor, ids=[acme.pk]) == 1
    assert list(Company.dangerously_unscoped.values_list("name", flat=True)) == ["Beta"]
    with pytest.raises(ValidationError) as raised:
        services.company_bulk_delete(actor=actor, ids=[])
    assert raised.value.message_dict == {"ids": ["Select at least one company."]}


# --- companies -------------------------------------------------------------------------------


def test_company_create_normalises_domain_and_phone_and_audits(actor, in_org):
    company = services.company_create(
        actor=actor,
        data={"name": "Acme", "domain": "https://www.Acme.com/about", "phone": "910 000 000", "country": "ES"},
    )

    assert (company.domain, company.phone, company.owner_id) == ("acme.com", "+34910000000", actor.user_id)
    assert audit(company)[0][0] == "create"
    assert Event.dangerously_unscoped.get(type="company.created").company_id == company.pk


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": ""}, {"name": ["This field cannot be blank."]}),
        ({"name": "A" * 201}, {"name": ["Ensure this value has at most 200 characters (it has 201)."]}),
        ({"name": "Acme", "domain": "nope"}, {"domain": ["Enter a web domain such as example.com."]}),
        ({"name": "Acme", "size": "huge"}, {"size": ["Value 'huge' is not a valid choice."]}),
        ({"name": "Acme", "phone": "12", "country": "ES"}, {"phone": ["“12” is not a valid phone number."]}),
        (
            {"name": "Acme", "phone": "12"},
            {"phone": ["“12”: start with the country code (e.g. +34) or set the country."]},
        ),
    ],
)
def test_company_create_rejects_bad_input(actor, in_org, data, errors):
    before = nothing_saved()

    with pytest.raises(ValidationError) as raised:
        services.company_create(actor=actor, data=data)

    assert raised.value.message_dict == errors
    assert nothing_saved() == before


def test_company_domain_is_unique_in_the_organisation_only(actor, org, other_actor):
    with scope(organization=other_actor.organization):
        services.company_create(actor=other_actor, data={"name": "Theirs", "domain": "acme.com"})
    with scope(organization=org):
        services.company_create(actor=actor, data={"name": "Mine", "domain": "acme.com"})
        with pytest.raises(ValidationError) as raised:
            services.company_create(actor=actor, data={"name": "Copy", "domain": "www.acme.com"})

    assert raised.value.message_dict == {"domain": ["acme.com is already the domain of Mine."]}


def test_company_delete_keeps_contacts_and_audits(actor, in_org):
    company = services.company_create(actor=actor, data={"name": "Acme"})
    contact = services.contact_create(actor=actor, data={"first_name": "Ana", "company": company.pk})

    pk = company.pk
    services.company_delete(actor=actor, company=company)

    contact.refresh_from_db()
    assert contact.company_id is None
    assert audit(company, pk)[-1] == ("delete", {"name": ["Acme", None], "owner": [actor.user.full_name, None]})
    assert Event.dangerously_unscoped.filter(type="company.deleted").count() == 1


# --- notes -----------------------------------------------------------------------------------


def test_note_create_updates_last_activity_audits_and_emits(actor, in_org):
    contact = services.contact_create(actor=actor, data={"first_name": "Ana"})

    note = services.note_create(actor=actor, contact=contact, body="  Call back  ")

    contact.refresh_from_db()
    assert note.body == "Call back"
    assert contact.last_activity_at == note.created_at
    assert audit(note) == [("create", {"body": [None, "Call back"]})]
    event = Event.dangerously_unscoped.get(type="note.added")
    assert (event.contact_id, event.properties) == (contact.pk, {"note_id": note.pk, "excerpt": "Call back"})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write something in the note."),
        ("   ", "Write something in the note."),
        (None, "Write something in the note."),
        ("x" * 10001, "A note has at most 10,000 characters."),
    ],
)
def test_note_create_rejects_bad_bodies(actor, in_org, body, message):
    contact = services.contact_create(actor=actor, data={"first_name": "Ana"})
    before = nothing_saved()

    with pytest.raises(ValidationError) as raised:
        services.note_create(actor=actor, contact=contact, body=body)

    assert raised.value.message_dict == {"body": [message]}
    assert nothing_saved() == before


def test_note_needs_exactly_one_subject(actor, in_org):
    contact = services.contact_create(actor=actor, data={"first_name": "Ana"})
    company = services.company_create(actor=actor, data={"name": "Acme"})

    with pytest.raises(ValidationError):
        services.note_create(actor=actor, body="x")
    with pytest.raises(ValidationError):
        services.note_create(actor=actor, body="x", contact=contact, company=company)


def test_note_update_and_delete_by_author_or_manager_only(org, member, actor, in_org):
    author, other, manager = member(Role.SALES), member(Role.SALES), member(Role.MANAGER)
    contact = services.contact_create(actor=actor, data={"first_name": "Ana", "owner": None})
    note = services.note_create(actor=author, contact=contact, body="Mine")

    with pytest.raises(PermissionDenied):
        services.note_update(actor=other, note=note, body="Theirs")
    services.note_update(actor=author, note=note, body="Edited")
    services.note_update(actor=manager, note=note, body="Managed")
    assert [changes for _action, changes in audit(note)[1:]] == [
        {"body": ["Mine", "Edited"]},
        {"body": ["Edited", "Managed"]},
    ]
    with pytest.raises(PermissionDenied):
        services.note_delete(actor=other, note=note)
    pk = note.pk
    services.note_delete(actor=author, note=note)
    assert audit(note, pk)[-1] == ("delete", {"body": ["Managed", None]})
    assert Note.dangerously_unscoped.count() == 0


# --- tags ------------------------------------------------------------------------------------


def test_tag_create_rename_recolour_and_delete(actor, in_org):
    tag = services.tag_create(actor=actor, data={"name": " Hot ", "color": "#FF0000"})
    assert (tag.name, tag.color) == ("Hot", "#ff0000")

    services.tag_update(actor=actor, tag=tag, data={"name": "Very hot", "color": "#00ff00"})
    tag.refresh_from_db()
    assert (tag.name, tag.color) == ("Very hot", "#00ff00")
    assert audit(tag)[-1] == ("update", {"name": ["Hot", "Very hot"], "color": ["#ff0000", "#00ff00"]})

    services.tag_delete(actor=actor, tag=tag)
    assert Tag.dangerously_unscoped.count() == 0


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, {"name": ["This field is required."]}),
        ({"name": ""}, {"name": ["This field is required."]}),
        ({"name": "x" * 51}, {"name": ["A tag name has at most 50 characters."]}),
        ({"name": "vip"}, {"name": ["A tag with this name already exists."]}),
        ({"name": "new", "color": "red"}, {"color": ["Use a colour like #1a2b3c."]}),
        ({"name": "new", "size": 1}, {"size": ["Unknown field."]}),
    ],
)
def test_tag_create_rejects_bad_input(actor, in_org, data, errors):
    services.tag_create(actor=actor, data={"name": "VIP"})
    before = nothing_saved()

    with pytest.raises(ValidationError) as raised:
        services.tag_create(actor=actor, data=data)

    assert raised.value.message_dict == errors
    assert nothing_saved() == before


def test_tag_delete_is_for_managers(org, member, actor, in_org):
    tag = services.tag_create(actor=actor, data={"name": "vip"})

    with pytest.raises(PermissionDenied):
        services.tag_delete(actor=member(Role.SALES), tag=tag)
    services.tag_delete(actor=member(Role.MANAGER), tag=tag)

    assert Tag.dangerously_unscoped.count() == 0
