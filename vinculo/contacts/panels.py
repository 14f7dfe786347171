"""Side panels on a contact's or company's page, contributed by the apps above contacts.

`contacts` cannot import `sales` (layering), yet a customer's page should show their deals,
agenda and orders. Apps register a panel in their AppConfig.ready(); the detail views render every
registered panel whose loader returns a context (None hides it, e.g. for a role that cannot see it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.http import HttpRequest

Subject = Literal["contact", "company"]
Loader = Callable[[HttpRequest, Any], dict[str, Any] | None]


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    loader: Loader
    order: int = 100


@dataclass(frozen=True)
class RenderedPanel:
    name: str
    template: str
    context: dict[str, Any]


_panels: dict[Subject, dict[str, Panel]] = {"contact": {}, "company": {}}


def register_panel(subject: Subject, panel: Panel) -> None:
    """Add (or replace, by name) a panel on every `subject` page."""
    _panels[subject][panel.name] = panel


def panels_for(request: HttpRequest, subject: Subject, record: Any) -> list[RenderedPanel]:
    rendered = []
    for panel in sorted(_panels[subject].values(), key=lambda p: (p.order, p.name)):
        context = panel.loader(request, record)
        if context is not None:
            rendered.append(RenderedPanel(name=panel.name, template=panel.template, context=context))
    return rendered
