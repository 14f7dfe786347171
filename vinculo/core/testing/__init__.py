"""The test kit every app's tests share (ARCHITECTURE.md, "core/testing/").

Only what is generic lives here, so that `core` imports no app above it:

- `queries`: query-count helpers (`assert_max_queries`, `assert_same_queries`), the N+1 guard of
  every list page and list endpoint;
- `scopes`: tests run with django-scopes *enabled*; `in_org_scope` / `org_scope()` enter an
  organisation's scope, `@pytest.mark.scopes_disabled` opts a test out;
- `crud`: `CrudPagesSpec` / `CrudApiSpec` base classes that give a model its list, detail,
  create, edit, delete, API and tenancy tests from declarations (NetBox's `utilities/testing/`,
  as pytest);
- `plugin`: the pytest plugin registering the generic fixtures (loaded from the root conftest.py).

Fixtures that need app models (`org`, `member_factory`, `contact`, `pipeline`, …) and the
factory-boy factories live in each app's `testing.py` / `factories.py`.
"""

from vinculo.core.testing.queries import assert_max_queries, assert_same_queries, count_queries
from vinculo.core.testing.scopes import org_scope

__all__ = ["assert_max_queries", "assert_same_queries", "count_queries", "org_scope"]
