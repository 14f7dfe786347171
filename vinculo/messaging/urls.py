"""Messaging pages, under /o/<slug>/."""

from django.urls import path

from vinculo.messaging.views import attachments, consent, notifications

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
    path("notifications/", notifications.notification_list_view, name="notification_list"),
    path("notifications/bell/", notifications.notification_bell_view, name="notification_bell"),
    path("notifications/read-all/", notifications.notification_read_all_view, name="notification_read_all"),
    path("notifications/settings/", notifications.notification_settings_view, name="notification_settings"),
    path("notifications/<int:pk>/", notifications.notification_open_view, name="notification_open"),
    path("notifications/<int:pk>/read/", notifications.notification_read_view, name="notification_read"),
]
