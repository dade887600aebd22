from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from dashboard import views
from dashboard.middleware import organization_not_required
from triage.webhooks import autocollect_webhook

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        organization_not_required(views.LoginView.as_view()),
        name="login",
    ),
    path(
        "accounts/logout/",
        organization_not_required(auth_views.LogoutView.as_view()),
        name="logout",
    ),
    path("organization/switch/", views.switch_organization, name="switch_organization"),
    path(
        "i18n/setlang/",
        login_not_required(organization_not_required(set_language)),
        name="set_language",
    ),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("webhooks/autocollect/", autocollect_webhook, name="autocollect_webhook"),
    path("admin/", admin.site.urls),
    path("", include("cases.urls")),
    path("", include("triage.urls")),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
