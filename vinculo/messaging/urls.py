"""Messaging pages, under /o/<slug>/."""

from django.urls import path

from vinculo.messaging.views import attachments, consent

app_name = "messaging"
urlpatterns = [
    path("settings/subscription-types/", consent.subscription_types_view, name="subscription_types"),
    path("settings/subscription-types/<int:pk>/", consent.subscription_type_edit_view, name="subscription_type_edit"),
    path(
        "settings/subscription-types/<int:pk>/delete/",
        consent.subscription_type_delete_view,
        name="subscription_type_delete",
    ),
    path("contacts/<int:pk>/consents/", consent.contact_consent_record_view, name="contact_consent_record"),
    path(
        "sent-files/<int:pk>/",
        attachments.outgoing_attachment_download_view,
        name="outgoing_attachment_download",
    ),
]
