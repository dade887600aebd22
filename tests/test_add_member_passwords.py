"""add_member applies the password validators to every way a password arrives."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from dashboard.models import Membership, Organization

ORG_ID = "0b7c5e0a-1111-4c2d-9e3f-123456789abc"
ARGS = ["--org-id", ORG_ID, "--org-name", "Fjordhus AS", "--username", "kari", "--role", "agent"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def add_member(*args: str) -> None:
    call_command("add_member", *ARGS, *args, stdout=io.StringIO())


def assert_nothing_created() -> None:
    assert not User.objects.exists()
    assert not Organization.objects.exists()
    assert not Membership.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("1", "too short"),
        ("12345678901", "entirely numeric"),
        ("password123", "too common"),
        ("kari123", "too similar to the username"),
    ],
)
def test_a_weak_password_is_refused_in_one_line_and_nothing_is_created(
    password: str, reason: str
) -> None:
    with pytest.raises(CommandError) as refused:
        add_member("--password", password)
    message = str(refused.value)
    assert message.startswith("The password was refused: ")
    assert reason in message
    assert "\n" not in message
    assert_nothing_created()


@pytest.mark.django_db
def test_every_failed_validator_is_named() -> None:
    with pytest.raises(CommandError) as refused:
        add_member("--password", "123")
    assert "too short" in str(refused.value)
    assert "too common" in str(refused.value)
    assert "entirely numeric" in str(refused.value)


@pytest.mark.django_db
def test_password_stdin_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("1\n"))
    with pytest.raises(CommandError, match="The password was refused"):
        add_member("--password-stdin")
    assert_nothing_created()


@pytest.mark.django_db
def test_the_prompted_password_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", _Terminal(""))
    monkeypatch.setattr("getpass.getpass", lambda prompt: "1")
    with pytest.raises(CommandError, match="The password was refused"):
        add_member()
    assert_nothing_created()


@pytest.mark.django_db
def test_a_weak_new_password_leaves_an_existing_user_as_it_was() -> None:
    add_member("--password", "a-long-pass-phrase")
    with pytest.raises(CommandError, match="too short"):
        add_member("--password", "1", "--role", "admin")
    user = User.objects.get()
    assert user.check_password("a-long-pass-phrase")
    assert Membership.objects.get().role == "agent"


@pytest.mark.django_db
def test_a_strong_password_is_accepted() -> None:
    add_member("--password", "a-long-pass-phrase")
    assert User.objects.get().check_password("a-long-pass-phrase")
