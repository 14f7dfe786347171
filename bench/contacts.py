"""Issue 2 (Foundation): the customer database at scale, server time through the whole Django
stack (Client: middleware, URL routing, view, template or API schema), median and p95, and beside
each figure the raw SQL of its main query on a cursor, measured in the same run.

- contacts.list: the contact list page filtered by stage, newest first, 50 a page;
- api.contacts.list: GET /api/v1/contacts with the same filter and sort;
- search.word / search.substring: the global search page for a common surname and a fragment;
- contacts.detail: the page of a contact with a 10,000-event timeline;
- contacts.saved_view: the contact list opened from a saved view of three filters (stage,
  country, created after) and eight columns (e-mail, phone, company, stage, owner, tags, country,
  created), newest first: the related rows of the columns are read in one query each per page.
Target at 1,000,000 contacts on SQLite: ≤ 50 ms median each.
"""

from __future__ import annotations

from django.test import Client
from django_scopes import scope

from bench.dataset import BUSY_CONTACT_EVENTS
from bench.harness import Context, bench_member, note


def run(ctx: Context) -> None:
    from vinculo.contacts.models import Contact
    from vinculo.core.models import Event

    org, actor = bench_member()
    with scope(organization=org):
        busy = Contact.objects.order_by("id").first()
        assert busy is not None
        events = Event.objects.filter(contact=busy).count()
        total = Contact.objects.count()
    if events < BUSY_CONTACT_EVENTS:
        note(f"contact #{busy.pk} has only {events} events")
    note(f"organisation {org.slug}: {total:,} contacts; contact #{busy.pk} has {events:,} events")

    page = Client()
    page.force_login(actor.user)
    base = f"/o/{org.slug}"

    ctx.request(
        "contacts.list",
        page,
        f"{base}/contacts/?stage=customer&sort=-created&per_page=50",
        main_query=lambda sql: 'FROM "contacts_contact"' in sql and "LIMIT 50" in sql,
    )
    api = _api_client(actor)
    if api is None:
        note("api.contacts.list skipped: the API (vinculo/contacts/api.py) is not there yet")
    else:
        ctx.request(
            "api.contacts.list",
            api,
            "/api/v1/contacts?stage=customer&sort=-created&per_page=50",
            main_query=lambda sql: 'FROM "contacts_contact"' in sql and "LIMIT 50" in sql,
        )
    for name, query in (("search.word", "garcia"), ("search.substring", "ernand")):
        ctx.request(
            name,
            page,
            f"{base}/search/?q={query}",
            # the query that finds the contacts (selectors.global_search: at most 200 candidates)
            main_query=lambda sql: 'FROM "contacts_contact"' in sql and "LIMIT 200" in sql,
        )
    view_id = _saved_view(actor)
    ctx.request(
        "contacts.saved_view",
        page,
        f"{base}/contacts/?view={view_id}",
        main_query=lambda sql: 'FROM "contacts_contact"' in sql and "LIMIT" in sql,
    )
    ctx.request(
        "contacts.detail",
        page,
        f"{base}/contacts/{busy.pk}/",
        main_query=lambda sql: 'FROM "core_event"' in sql and "LIMIT" in sql,
    )


SAVED_VIEW = {
    "kind": "contacts",
    "name": "Bench: Spanish customers since 2020",
    "filters": {"stage": "customer", "country": "ES", "created_after": "2020-01-01"},
    "sort": "-created",
    "columns": ["email", "phone", "company", "stage", "owner", "tags", "country", "created"],
}


def _saved_view(actor: object) -> int:
    """The bench member's saved view (made once, kept in the data set like any member's view)."""
    from vinculo.contacts.models import SavedView
    from vinculo.contacts.saved_views import saved_view_create, saved_view_update

    with scope(organization=actor.organization):  # type: ignore[attr-defined]
        view = SavedView.objects.filter(owner=actor, kind="contacts", name=SAVED_VIEW["name"]).first()
        if view is None:
            view = saved_view_create(actor=actor, data=SAVED_VIEW)  # type: ignore[arg-type]
        else:
            saved_view_update(actor=actor, view=view, data={k: SAVED_VIEW[k] for k in ("filters", "sort", "columns")})  # type: ignore[arg-type]
    return view.pk


def _api_client(actor: object) -> Client | None:
    try:
        from vinculo.accounts.services import api_token_create
        from vinculo.contacts import api as _contacts_api  # noqa: F401 - is the API there?
    except ImportError:
        return None
    with scope(organization=actor.organization):  # type: ignore[attr-defined]
        issued = api_token_create(actor=actor, name="bench", scope="read")  # type: ignore[arg-type]
    return Client(headers={"Authorization": f"Bearer {issued.secret}"})
