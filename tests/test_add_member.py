"""The add_member command: organisations, users and memberships from the shell."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from dashboard.models import Membership, Organization

ORG_ID = "0b7c5e0a-1111-4c2d-9e3f-123456789abc"


def add_member(*args: str) -> str:
    out = io.StringIO()
    call_command("add_member", *args, stdout=out)
    return out.getvalue()


def base_args(**overrides: str) -> list[str]:
    values = {"org-id": ORG_ID, "org-name": "Fjordhus AS", "username": "kari", "role": "agent"}
    values.update(overrides)
    return [item for key, value in values.items() for item in (f"--{key}", value)]


@pytest.mark.django_db
def test_add_member_creates_the_organisation_the_user_and_the_membership() -> None:
    add_member(*base_args(), "--password", "s3cret-pass")
    membership = Membership.objects.get()
    assert membership.organization.name == "Fjordhus AS"
    assert str(membership.organization.amili_id) == ORG_ID
    assert membership.role == "agent"
    assert membership.user.check_password("s3cret-pass")


@pytest.mark.django_db
def test_add_member_run_twice_leaves_one_user_and_one_membership() -> None:
    add_member(*base_args(), "--password", "s3cret-pass")
    add_member(*base_args(role="admin"), "--password", "s3cret-pass")
    assert User.objects.count() == 1
    assert Membership.objects.get().role == "admin"
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_a_new_name_renames_the_organisation() -> None:
    add_member(*base_args(), "--password", "s3cret-pass")
    add_member(*base_args(**{"org-name": "Fjordhus Eiendom AS"}))
    assert Organization.objects.get().name == "Fjordhus Eiendom AS"


@pytest.mark.django_db
def test_password_on_an_existing_user_changes_it_and_leaving_it_out_keeps_it() -> None:
    add_member(*base_args(), "--password", "first-pass")
    add_member(*base_args())
    assert User.objects.get().check_password("first-pass")
    add_member(*base_args(), "--password", "second-pass")
    assert User.objects.get().check_password("second-pass")


@pytest.mark.django_db
def test_a_new_user_without_password_and_terminal_fails_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="no terminal"):
        add_member(*base_args())
    assert not User.objects.exists()


@pytest.mark.django_db
def test_password_stdin_reads_the_first_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("from a pipe\nignored\n"))
    add_member(*base_args(), "--password-stdin")
    assert User.objects.get().check_password("from a pipe")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stdin", "extra", "message"),
    [("", [], "standard input is empty"), ("pw\n", ["--password", "x"], "not both")],
)
def test_password_stdin_refuses_nothing_or_a_second_password(
    monkeypatch: pytest.MonkeyPatch, stdin: str, extra: list[str], message: str
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with pytest.raises(CommandError, match=message):
        add_member(*base_args(), "--password-stdin", *extra)
    assert not User.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"role": "owner"}, "--role must be one of"),
        ({"org-id": "not-a-uuid"}, "--org-id must be a UUID"),
    ],
)
def test_invalid_role_or_uuid_is_refused(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        add_member(*base_args(**overrides), "--password", "s3cret-pass")
    assert not Organization.objects.exists()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.django_db
def test_end_of_input_at_the_password_prompt_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    def end_of_input(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("sys.stdin", _Terminal(""))
    monkeypatch.setattr("getpass.getpass", end_of_input)
    with pytest.raises(CommandError, match="No password was typed"):
        add_member(*base_args())
    assert not User.objects.exists()
