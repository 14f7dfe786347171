"""The public iCal feeds, outside /o/: calendar apps fetch them by secret, without a session.

Included from config/urls.py at the site root: `/calendar/<token>.ics`.
"""

from django.urls import path

from vinculo.sales.ical import calendar_feed_view

app_name = "ical"
urlpatterns = [
    path("calendar/<str:token>.ics", calendar_feed_view, name="feed"),
]
