"""Organisations (Amili creditors) and who may act for them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    """A creditor organisation as Amili knows it; `amili_id` scopes every upstream call."""

    name = models.CharField(_("name"), max_length=200)
    amili_id = models.UUIDField(_("Amili organisation id"), unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    AGENT = "agent", _("Agent")
    ADMIN = "admin", _("Administrator")


class Membership(models.Model):
    """A user's role in one organisation. The organisation on a request comes only from here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        ordering = ["organization__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def can_act(self) -> bool:
        """Agents and admins may reveal identification numbers and act on cases."""
        return self.role in {Role.AGENT, Role.ADMIN}
