"""Where a form may send the browser afterwards: a path of this site, nothing else."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from vinculo.core.views import local_url, safe_next


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/o/acme/contacts/?q=a", "/o/acme/contacts/?q=a"),
        ("/", "/"),
        ("", None),
        (None, None),
        ("//evil.example.com/x", None),
        ("https://evil.example.com/", None),
        ("http://testserver/o/acme/", None),  # absolute, even to this host: only paths
        ("javascript:alert(1)", None),
        ("/\\evil.example.com", None),
        ("o/acme/", None),
    ],
)
def test_local_url_keeps_only_paths_of_this_site(target: str | None, expected: str | None) -> None:
    assert local_url(RequestFactory().get("/"), target) == expected


def test_safe_next_prefers_the_post_then_the_query_then_the_fallback() -> None:
    factory = RequestFactory()
    assert safe_next(factory.post("/?next=/b/", {"next": "/a/"}), "/z/") == "/a/"
    assert safe_next(factory.post("/?next=/b/", {}), "/z/") == "/b/"
    assert safe_next(factory.post("/?next=/b/", {"next": "https://evil.example.com/"}), "/z/") == "/z/"
    assert safe_next(factory.get("/"), "/z/") == "/z/"
    assert safe_next(factory.get("/")) == ""
