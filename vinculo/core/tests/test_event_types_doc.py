"""docs/event-types.md, which the webhooks documentation points to, matches the catalogue."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from vinculo.core.event_types import all_event_types
from vinculo.core.management.commands import event_types_doc


def test_the_page_is_what_the_catalogue_generates():
    written = event_types_doc.DOC_PATH.read_text(encoding="utf-8")

    assert written == event_types_doc.render(), "run `python manage.py event_types_doc` and commit the page"


def test_the_page_lists_every_type_with_each_property_and_its_type():
    written = event_types_doc.DOC_PATH.read_text(encoding="utf-8")

    for declared in all_event_types():
        section = written.split(f"\n### `{declared.name}`\n", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
        assert f"emitted by {declared.emitted_by}" in section
        for name, prop_type in declared.properties.items():
            assert f"| `{name}` | {prop_type} |" in section, (declared.name, name)


def test_the_check_fails_on_a_stale_page(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "event-types.md"
    stale.write_text("# Event types\n", encoding="utf-8")
    monkeypatch.setattr(event_types_doc, "DOC_PATH", stale)

    with pytest.raises(CommandError, match=r"event-types\.md is out of date: run `python manage.py event_types_doc`"):
        call_command("event_types_doc", "--check")
    call_command("event_types_doc")
    call_command("event_types_doc", "--check")

    assert stale.read_text(encoding="utf-8") == event_types_doc.render()
    assert capsys.readouterr().out.splitlines()[-1] == "docs/event-types.md is up to date"
