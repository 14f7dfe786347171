"""Every event type the code writes is in the event-type catalogue, and the catalogue lists nothing
that no code writes.

Two ways to find what the code writes: read the source (`ast`) for literal types where events
are made, and run the flows that write many events (the demo data, the website tracker) and look
at the rows. emit() itself refuses an undeclared type in tests (VINCULO_STRICT_EVENT_TYPES), so
every test that goes through a service checks its own events too.
"""

from __future__ import annotations

import ast
import io
import itertools
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django_scopes import scope

from vinculo.accounts.models import Organization
from vinculo.core.event_types import COMMON_PROPERTIES, all_event_types, event_type, is_known
from vinculo.core.models import Event
from vinculo.touchpoints.models import IngestBatch
from vinculo.touchpoints.services.ingest import ingest_batch_process
from vinculo.touchpoints.testing.tracking import identify, make_site, page, post_batch, track

SOURCE_ROOT = Path(__file__).resolve().parent.parent / "vinculo"
NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
EMIT = "emit"  # core.events.emit: `type` is keyword-only
# the source channels of the event log: in a row or a helper's arguments, the type comes right before
SOURCES = {"crm", "web", "email", "form", "social", "support", "survey"}


def _python_files() -> Iterator[Path]:
    for path in sorted(SOURCE_ROOT.rglob("*.py")):
        parts = set(path.relative_to(SOURCE_ROOT).parts)
        if not parts & {"tests", "migrations"} and path.name != "event_types.py":
            yield path


def _strings(node: ast.AST) -> Iterator[ast.Constant | ast.JoinedStr]:
    """The literal strings a value can be: itself, or each branch of `a if c else b`."""
    if isinstance(node, ast.IfExp):
        yield from _strings(node.body)
        yield from _strings(node.orelse)
    elif (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(node, ast.JoinedStr):
        yield node


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _emitters(tree: ast.Module) -> dict[str, int]:
    """Functions of a module that pass one of their parameters on as an event type, directly or
    through another such function: {name: index of that parameter}. E.g. sales' `_emit(deal,
    actor, type, properties)` → {"_emit": 2}, and `_set_quote_status(…, event)` that calls it."""
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    found: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for function in functions:
            params = [a.arg for a in function.args.posonlyargs + function.args.args]
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                name = _call_name(call)
                passed: list[ast.AST] = [k.value for k in call.keywords if k.arg == "type" and name == EMIT]
                if name in found and found[name] < len(call.args):
                    passed.append(call.args[found[name]])
                for value in passed:
                    if isinstance(value, ast.Name) and value.id in params and function.name not in found:
                        found[function.name] = params.index(value.id)
                        changed = True
    return found


def literal_event_types() -> dict[str, set[str]]:
    """{literal: {"file:line", …}} of the event types written in the source: `type=` of emit() and
    of queries, `"type": …` of event rows, the type argument of functions that pass it on to
    emit(), what `*event_type*` functions return, and a literal followed by its source channel (the
    demo data's rows). An f-string counts by its constant head (`web.` of `f"web.{name}"`)."""
    found: dict[str, set[str]] = {}

    def add(node: ast.Constant | ast.JoinedStr, path: Path) -> None:
        if isinstance(node, ast.JoinedStr):
            head = node.values[0] if node.values else None
            if not (isinstance(head, ast.Constant) and isinstance(head.value, str) and head.value.endswith(".")):
                return
            value = head.value + "*"
        else:
            value = node.value
            if not NAME.match(value):
                return
        found.setdefault(value, set()).add(f"{path.relative_to(SOURCE_ROOT.parent)}:{node.lineno}")

    for path in _python_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        emitters = _emitters(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "type":
                        for value in _strings(keyword.value):
                            add(value, path)
                index = emitters.get(_call_name(node))
                if index is not None and index < len(node.args):
                    for value in _strings(node.args[index]):
                        add(value, path)
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "type":
                        for string in _strings(value):
                            add(string, path)
            if isinstance(node, ast.FunctionDef) and "event_type" in node.name:
                for ret in (n for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None):
                    for string in _strings(ret.value):
                        add(string, path)
            if isinstance(node, ast.Call | ast.Tuple | ast.List):
                items = node.args if isinstance(node, ast.Call) else node.elts
                for item, after in itertools.pairwise(items):
                    if isinstance(after, ast.Constant) and after.value in SOURCES:
                        for string in _strings(item):
                            add(string, path)
    return found


def _declared(name: str) -> bool:
    """A literal type is declared; a family `web.*` is a declared pattern."""
    if name.endswith(".*"):
        return any(t.name == name for t in all_event_types())
    return is_known(name)


def test_every_literal_event_type_in_the_source_is_declared():
    found = literal_event_types()

    undeclared = {name: sorted(where) for name, where in found.items() if not _declared(name)}

    assert undeclared == {}, "declare these types in the emitting app's event_types.py"


def test_the_walker_finds_types_in_every_way_the_code_writes_them():
    found = literal_event_types()

    assert any(w.startswith("vinculo/contacts/services.py:") for w in found["contact.created"])  # emit(type=…)
    assert any(w.startswith("vinculo/sales/services/documents.py") for w in found["quote.sent"])  # passed on twice
    assert any(
        w.startswith("vinculo/touchpoints/services/mail_in.py") for w in found["email.received"]
    )  # a if c else b
    assert any(w.startswith("vinculo/touchpoints/services/sessions.py") for w in found["session.started"])  # a row
    assert any(w.startswith("vinculo/touchpoints/services/ingest.py") for w in found["page.viewed"])  # _event_type
    assert any(w.startswith("vinculo/touchpoints/services/ingest.py") for w in found["web.*"])  # f"web.{name}"
    assert any(w.startswith("vinculo/contacts/management/commands/demo.py") for w in found["ticket.closed"])
    assert any(w.startswith("vinculo/sales/management/commands/demo_sales.py") for w in found["order.placed"])


def test_the_catalogue_lists_only_types_the_code_writes():
    found = set(literal_event_types())

    declared = {t.name for t in all_event_types()}

    assert declared - found == set()


def test_the_walker_fails_on_an_undeclared_literal(tmp_path, monkeypatch):
    package = tmp_path / "vinculo" / "loyalty"
    package.mkdir(parents=True)
    (package / "services.py").write_text(
        "def _emit(contact, kind):\n"
        "    emit(organization=contact.organization, type=kind, contact=contact)\n"
        "\n"
        "def reward(contact):\n"
        '    _emit(contact, "points.earned")\n'
    )
    monkeypatch.setattr(sys.modules[__name__], "SOURCE_ROOT", tmp_path / "vinculo")

    found = literal_event_types()

    assert found == {"points.earned": {"vinculo/loyalty/services.py:5"}}
    assert not _declared("points.earned")


# --- the flows that write the most events -----------------------------------------------------------


def _stored_types_fit_the_catalogue(organization: Organization) -> set[str]:
    """The types stored for an organisation, after checking that each is declared and that an
    exactly declared type carries only its declared properties."""
    with scope(organization=organization):
        rows = Event.objects.values_list("type", "properties")
        seen = set()
        for type_name, properties in rows.iterator():
            declared = event_type(type_name)  # raises UnknownEventType
            if not declared.is_pattern:  # a website's own events carry what the site sends
                assert set(properties) <= {*declared.properties, *COMMON_PROPERTIES}, (type_name, sorted(properties))
            seen.add(type_name)
    return seen


@pytest.mark.django_db
def test_the_demo_data_writes_only_declared_types_with_their_properties():
    call_command("demo", stdout=io.StringIO(), contacts=150, seed=11)

    seen = _stored_types_fit_the_catalogue(Organization.objects.get(slug="demo"))

    assert {"contact.created", "page.viewed", "deal.stage_changed", "order.placed", "email.opened"} <= seen


@pytest.mark.django_db
def test_the_website_tracker_writes_only_declared_types_with_their_properties(org, actor):
    cache.clear()
    site = make_site(org)
    batches = [
        [page(), track("added_to_cart", properties={"sku": "A-1"})],
        [identify("ana@example.com", traits={"first_name": "Ana"})],
    ]
    for events in batches:
        assert post_batch(site, events).status_code == 202
        ingest_batch_process(batch_id=IngestBatch.dangerously_unscoped.latest("id").pk)

    seen = _stored_types_fit_the_catalogue(org)

    assert seen == {"page.viewed", "session.started", "web.added_to_cart", "visitor.identified", "contact.created"}
    cache.clear()
