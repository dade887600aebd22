from django.urls import path

from triage import views

app_name = "triage"

urlpatterns = [
    path("triage/", views.triage_queue, name="queue"),
    path("triage/freshness/", views.index_freshness, name="freshness"),
]
