from django.urls import path

from vinculo.contacts import views

app_name = "contacts"
urlpatterns = [
    path("contacts/", views.contact_list_view, name="contact_list"),
    path("companies/", views.company_list_view, name="company_list"),
    path("search/", views.search_view, name="search"),
]
