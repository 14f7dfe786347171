"""Contact, company, search and tag pages, under /o/<org_slug>/."""

from django.urls import path

from vinculo.contacts import list_views, views

app_name = "contacts"
urlpatterns = [
    path("contacts/", views.contact_list_view, name="contact_list"),
    path("contacts/new/", views.contact_create_view, name="contact_create"),
    path("contacts/bulk/", views.contact_bulk_view, name="contact_bulk"),
    path("contacts/<int:pk>/", views.contact_detail_view, name="contact_detail"),
    path("contacts/<int:pk>/inline/", list_views.contact_inline_view, name="contact_inline"),
    path("contacts/<int:pk>/edit/", views.contact_edit_view, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete_view, name="contact_delete"),
    path("contacts/<int:pk>/timeline/", views.contact_timeline_view, name="contact_timeline"),
    path("contacts/<int:pk>/history/", views.contact_history_view, name="contact_history"),
    path("contacts/<int:pk>/notes/", views.contact_note_create_view, name="contact_note_create"),
    path("companies/", views.company_list_view, name="company_list"),
    path("companies/new/", views.company_create_view, name="company_create"),
    path("companies/bulk/", views.company_bulk_view, name="company_bulk"),
    path("companies/options/", views.company_options_view, name="company_options"),
    path("companies/<int:pk>/", views.company_detail_view, name="company_detail"),
    path("companies/<int:pk>/inline/", list_views.company_inline_view, name="company_inline"),
    path("companies/<int:pk>/edit/", views.company_edit_view, name="company_edit"),
    path("companies/<int:pk>/delete/", views.company_delete_view, name="company_delete"),
    path("companies/<int:pk>/timeline/", views.company_timeline_view, name="company_timeline"),
    path("companies/<int:pk>/history/", views.company_history_view, name="company_history"),
    path("companies/<int:pk>/notes/", views.company_note_create_view, name="company_note_create"),
    path("notes/<int:pk>/", views.note_detail_view, name="note_detail"),
    path("notes/<int:pk>/edit/", views.note_edit_view, name="note_edit"),
    path("notes/<int:pk>/delete/", views.note_delete_view, name="note_delete"),
    path("search/", views.search_view, name="search"),
    path("tags/", views.tag_list_view, name="tag_list"),
    path("tags/<int:pk>/edit/", views.tag_edit_view, name="tag_edit"),
    path("tags/<int:pk>/delete/", views.tag_delete_view, name="tag_delete"),
    path("views/new/", list_views.saved_view_create_view, name="saved_view_create"),
    path("views/<int:pk>/edit/", list_views.saved_view_edit_view, name="saved_view_edit"),
    path("views/<int:pk>/update/", list_views.saved_view_update_view, name="saved_view_update"),
    path("views/<int:pk>/delete/", list_views.saved_view_delete_view, name="saved_view_delete"),
]
