"""Who did it, for the audit trail and the timeline: `{{ entry.via|describe_via }}` reads
"the web form “Newsletter”" for a write of the system actor (accounts/system_actor.py)."""

from __future__ import annotations

from django import template

from vinculo.accounts.system_actor import describe_via as _describe_via

register = template.Library()


@register.filter
def describe_via(value: str) -> str:
    return _describe_via(value) if value else ""
