"""Sales pages under /o/<org_slug>/: each area of vinculo/sales/views/ declares its own patterns."""

from vinculo.sales.views import activities, agenda, assignment, deals, documents, pickers, reports

app_name = "sales"
urlpatterns = [
    *deals.urlpatterns,
    *documents.urlpatterns,
    *agenda.urlpatterns,
    *activities.urlpatterns,
    *reports.urlpatterns,
    *assignment.urlpatterns,
    *pickers.urlpatterns,
]
