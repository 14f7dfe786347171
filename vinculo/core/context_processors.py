from typing import Any

from django.http import HttpRequest


def vinculo(request: HttpRequest) -> dict[str, Any]:
    """The current organisation and membership, for the layout (navigation, role-aware buttons)."""
    return {
        "org": getattr(request, "org", None),
        "membership": getattr(request, "membership", None),
    }
