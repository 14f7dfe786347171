"""Messaging pages, under /o/<slug>/."""

from django.urls import path

from vinculo.messaging.views import attachments, consent, notifications, outbox, sending_settings, suppression

app_name = "messaging"
urlpatterns = [
    path("settings/subscription-types/", consent.subscription_types_view, name="subscription_types"),
    path("settings/subscription-types/<int:pk>/", consent.subscription_type_edit_view, name="subscription_type_edit"),
    path(
        "settings/subscription-types/<int:pk>/delete/",
        consent.subscription_type_delete_view,
        name="subscription_type_delete",
    ),
    path("settings/email-sending/", sending_settings.email_sending_view, name="email_sending"),
    path("settings/email-sending/test/", sending_settings.email_sending_test_view, name="email_sending_test"),
    path("settings/email-sending/delete/", sending_settings.email_sending_delete_view, name="email_sending_delete"),
    path("settings/suppression-list/", suppression.suppression_list_view, name="suppression_list"),
    path("settings/suppression-list/import/", suppression.suppression_import_view, name="suppression_import"),
    path("settings/suppression-list/export/", suppression.suppression_export_view, name="suppression_export"),
    path(
        "settings/suppression-list/<int:pk>/remove/",
        suppression.suppressed_address_remove_view,
        name="suppressed_address_remove",
    ),
    path("contacts/<int:pk>/consents/", consent.contact_consent_record_view, name="contact_consent_record"),
    path(
        "sent-files/<int:pk>/",
        attachments.outgoing_attachment_download_view,
        name="outgoing_attachment_download",
    ),
    path("outbox/", outbox.outbox_view, name="outbox"),
    path("outbox/<int:pk>/", outbox.outbox_message_view, name="outbox_message"),
    path("outbox/<int:pk>/html/", outbox.outbox_message_html_view, name="outbox_message_html"),
    path("outbox/<int:pk>/retry/", outbox.outbox_message_retry_view, name="outbox_message_retry"),
    path("outbox/files/<int:pk>/", outbox.outbox_attachment_view, name="outbox_attachment"),
    path("notifications/", notifications.notification_list_view, name="notification_list"),
    path("notifications/bell/", notifications.notification_bell_view, name="notification_bell"),
    path("notifications/read-all/", notifications.notification_read_all_view, name="notification_read_all"),
    path("notifications/settings/", notifications.notification_settings_view, name="notification_settings"),
    path("notifications/<int:pk>/", notifications.notification_open_view, name="notification_open"),
    path("notifications/<int:pk>/read/", notifications.notification_read_view, name="notification_read"),
]
