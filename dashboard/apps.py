from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("Organisations and people")

    def ready(self) -> None:
        from dashboard import security  # here: it needs the app registry ready

        security.connect_signals()
