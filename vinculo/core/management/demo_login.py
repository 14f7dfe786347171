"""The demo login that `manage.py demo` creates and `manage.py serve` prints.

Fixed and public on purpose: it exists only in demo data (README.md, docs/deployment.md say so).
Never load demo data into a production database.
"""

DEMO_EMAIL = "demo@vinculo.test"
DEMO_PASSWORD = "vinculo-demo"
DEMO_ORG_SLUG = "demo"
