"""Seeded sandbox data is deterministic, realistic and quick to make; seed_sandbox drives it."""

import io
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from sandbox.models import (
    AccountType,
    Case,
    CaseStatus,
    CaseSubStatus,
    CaseType,
    Claim,
    ClaimType,
    Debtor,
    DebtorType,
    Invoice,
    SandboxOrganization,
)
from sandbox.seeding import FIRST_CASE_NUMBER, organization_id_for, seed_organization

pytestmark = pytest.mark.django_db

ORG_ID = uuid.UUID("5b0e7a53-1c2d-4e3f-8a9b-0c1d2e3f4a5b")
OTHER_ORG_ID = uuid.UUID("6c1f8b64-2d3e-4f40-9bac-1d2e3f4a5b6c")
NOW = datetime(2025, 6, 2, tzinfo=UTC)


def snapshot(org_id: uuid.UUID) -> list[tuple[object, ...]]:
    """Everything seeded for an organisation, in a stable order."""
    cases = list(
        Case.objects.filter(organization_id=org_id)
        .order_by("case_number")
        .values_list(
            "id", "case_number", "status", "sub_status", "type", "description", "registered_at",
            "closed_at", "remaining_amount", "account_number", "payment_reference", "search_text",
        )
    )  # fmt: skip
    invoices = list(
        Invoice.objects.filter(organization_id=org_id)
        .order_by("id")
        .values_list("id", "invoice_number", "original_amount", "paid_amount", "due_date")
    )
    debtors = list(
        Debtor.objects.filter(organization_id=org_id)
        .order_by("case__case_number", "position")
        .values_list("debtor_id", "full_name", "identification_number", "email", "phone")
    )
    claims = list(
        Claim.objects.filter(case__organization_id=org_id)
        .order_by("case__case_number", "position")
        .values_list("type", "original_amount", "paid_amount", "credited_amount")
    )
    return [*cases, *invoices, *debtors, *claims]


def _mod11_ok(number: str, weights: list[int]) -> bool:
    return sum(int(d) * w for d, w in zip(number, weights, strict=True)) % 11 == 0


def test_the_same_seed_gives_the_same_data() -> None:
    seed_organization(ORG_ID, "Bergen Boliger AS", 40, seed=11, now=NOW)
    first = snapshot(ORG_ID)
    seed_organization(ORG_ID, "Bergen Boliger AS", 40, seed=11, now=NOW, reset=True)
    assert snapshot(ORG_ID) == first


def test_another_seed_gives_other_data() -> None:
    seed_organization(ORG_ID, "Bergen Boliger AS", 40, seed=11, now=NOW)
    first = snapshot(ORG_ID)
    seed_organization(ORG_ID, "Bergen Boliger AS", 40, seed=12, now=NOW, reset=True)
    assert snapshot(ORG_ID) != first


def test_sixty_cases_seed_in_well_under_a_second() -> None:
    started = time.perf_counter()
    assert seed_organization(ORG_ID, "Bergen Boliger AS", 60, seed=1, now=NOW) == 60
    assert time.perf_counter() - started < 0.8


def test_every_status_sub_status_type_and_kind_is_represented() -> None:
    seed_organization(ORG_ID, "Bergen Boliger AS", 60, seed=5, now=NOW)
    cases = Case.objects.filter(organization_id=ORG_ID)
    assert set(cases.values_list("status", flat=True)) == set(CaseStatus.values)
    assert set(cases.values_list("sub_status", flat=True)) == set(CaseSubStatus.values)
    assert set(cases.values_list("type", flat=True)) == set(CaseType.values)
    assert set(cases.values_list("account_type", flat=True)) == set(AccountType.values)
    debtors = Debtor.objects.filter(organization_id=ORG_ID)
    assert set(debtors.values_list("type", flat=True)) == set(DebtorType.values)
    claims = Claim.objects.filter(case__organization_id=ORG_ID)
    assert set(claims.values_list("type", flat=True)) == set(ClaimType.values)
    waiting = set(cases.filter(status="OPEN").values_list("sub_status", flat=True))
    assert waiting >= {
        "DEBT_COLLECTION_LIST_MANUAL",
        "EVICTION_REQUEST_MANUAL",
        "EVICTION_CONFIRMATION_MANUAL",
    }


def test_some_cases_have_several_invoices_or_debtors_and_debtors_several_cases() -> None:
    seed_organization(ORG_ID, "Bergen Boliger AS", 200, seed=6, now=NOW)
    invoice_counts = set(
        Case.objects.filter(organization_id=ORG_ID)
        .annotate(n=Count("invoices"))
        .values_list("n", flat=True)
    )
    assert invoice_counts == {1, 2, 3, 4}
    debtor_counts = set(
        Case.objects.filter(organization_id=ORG_ID)
        .annotate(n=Count("debtors"))
        .values_list("n", flat=True)
    )
    assert debtor_counts == {1, 2}
    cases_per_customer = (
        Debtor.objects.filter(organization_id=ORG_ID)
        .values("customer_number")
        .annotate(n=Count("case", distinct=True))
    )
    assert max(row["n"] for row in cases_per_customer) > 1


def test_people_and_companies_look_norwegian_with_valid_identifiers() -> None:
    seed_organization(ORG_ID, "Bergen Boliger AS", 120, seed=7, now=NOW)
    debtors = list(Debtor.objects.filter(organization_id=ORG_ID))
    names = " ".join(debtor.full_name for debtor in debtors)
    assert {"æ", "ø", "å"} <= set(names.lower())
    for debtor in debtors:
        if debtor.type == DebtorType.PRIVATE:
            assert debtor.first_name
            assert debtor.last_name
            assert len(debtor.identification_number) == 11
            assert _mod11_ok(debtor.identification_number[:10], [3, 7, 6, 1, 8, 9, 4, 5, 2, 1])
            assert _mod11_ok(debtor.identification_number, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1])
            assert int(debtor.identification_number[2:4]) > 80  # the synthetic test range
        else:
            assert debtor.full_name.split()[-1] in {"AS", "ASA", "ENK", "DA"}
            assert len(debtor.identification_number) == 9
            assert _mod11_ok(debtor.identification_number, [3, 2, 7, 6, 5, 4, 3, 2, 1])
        assert "@" in debtor.email
        assert debtor.phone.startswith("+47")
        assert len(debtor.phone) == 11


def test_accounts_and_kids_have_valid_check_digits() -> None:
    seed_organization(ORG_ID, "Bergen Boliger AS", 60, seed=8, now=NOW)
    for case in Case.objects.filter(organization_id=ORG_ID):
        if case.account_type == AccountType.IBAN:
            assert case.account_number.startswith("NO")
            rearranged = case.account_number[4:] + "2324" + case.account_number[2:4]
            assert int(rearranged) % 97 == 1
        else:
            assert len(case.account_number) == 11
            assert _mod11_ok(case.account_number, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1])
        digits = [int(d) for d in reversed(case.payment_reference)]
        luhn = sum(
            d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits)
        )
        assert luhn % 10 == 0


def test_history_spreads_over_two_years_and_closed_cases_have_closing_times() -> None:
    seed_organization(ORG_ID, "Bergen Boliger AS", 120, seed=9, now=NOW)
    cases = list(Case.objects.filter(organization_id=ORG_ID))
    registered = [case.registered_at for case in cases]
    assert min(registered) >= NOW - timedelta(days=731)
    assert max(registered) <= NOW
    assert max(registered) - min(registered) > timedelta(days=500)
    for case in cases:
        if case.status in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN):
            assert case.closed_at is not None
            assert case.registered_at <= case.closed_at <= NOW
        else:
            assert case.closed_at is None


def test_case_numbers_are_unique_across_organisations() -> None:
    seed_organization(ORG_ID, "Bergen Boliger AS", 30, seed=1, now=NOW)
    seed_organization(OTHER_ORG_ID, "Tromsø Kraft AS", 30, seed=1, now=NOW)
    numbers = list(Case.objects.values_list("case_number", flat=True))
    assert len(numbers) == len(set(numbers)) == 60
    assert min(numbers) == FIRST_CASE_NUMBER


def test_an_organisation_with_cases_is_left_alone_unless_reset() -> None:
    assert seed_organization(ORG_ID, "Bergen Boliger AS", 30, seed=1, now=NOW) == 30
    assert seed_organization(ORG_ID, "Bergen Boliger AS", 50, seed=1, now=NOW) == 0
    assert Case.objects.filter(organization_id=ORG_ID).count() == 30
    assert seed_organization(ORG_ID, "Bergen Boliger AS", 50, seed=1, now=NOW, reset=True) == 50
    assert Case.objects.filter(organization_id=ORG_ID).count() == 50


# --- The command ----------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_sandbox", *args, stdout=out)
    return out.getvalue()


def test_command_creates_organisations_with_uuids_derived_from_the_seed() -> None:
    output = run("--orgs", "2", "--cases", "15", "--seed", "5")
    expected = [organization_id_for(5, 0), organization_id_for(5, 1)]
    assert expected[0] == uuid.uuid5(uuid.UUID("5d3c1b8e-0f4a-5b7e-9c2d-a11c0de5eed5"), "5/0")
    for org_id in expected:
        organization = SandboxOrganization.objects.get(pk=org_id)
        assert str(org_id) in output
        assert organization.name in output
        assert organization.cases.count() == 15


def test_command_run_twice_leaves_the_data_and_says_so() -> None:
    run("--orgs", "1", "--cases", "10", "--seed", "5")
    before = list(Case.objects.values_list("id", flat=True))
    output = run("--orgs", "1", "--cases", "10", "--seed", "5")
    assert "left alone" in output
    assert list(Case.objects.values_list("id", flat=True)) == before


def test_command_seeds_exactly_the_named_organisations_and_sets_faults() -> None:
    output = run(
        "--cases", "12",
        "--org", f"{ORG_ID}=Demo Eiendom AS",
        "--org", f"{OTHER_ORG_ID}=Demo Kraft AS",
        "--fault-org", f"{OTHER_ORG_ID}=503",
    )  # fmt: skip
    assert SandboxOrganization.objects.count() == 2
    assert SandboxOrganization.objects.get(pk=ORG_ID).name == "Demo Eiendom AS"
    assert SandboxOrganization.objects.get(pk=OTHER_ORG_ID).fault == "503"
    assert "Demo Kraft AS" in output
    run(
        "--cases", "12", "--org", f"{OTHER_ORG_ID}=Demo Kraft AS", "--fault-org", f"{OTHER_ORG_ID}="
    )
    assert SandboxOrganization.objects.get(pk=OTHER_ORG_ID).fault == ""


def test_command_reset_reseeds() -> None:
    run("--cases", "10", "--org", f"{ORG_ID}=Demo AS")
    run("--cases", "20", "--org", f"{ORG_ID}=Demo AS", "--reset")
    assert Case.objects.filter(organization_id=ORG_ID).count() == 20


@pytest.mark.parametrize(
    "args",
    [
        ["--org", "not-a-uuid=Name"],
        ["--org", f"{ORG_ID}"],
        ["--fault-org", f"{ORG_ID}=banana"],
        ["--fault-org", "00000000-1111-4222-8333-444444444444=500"],
        ["--cases", "-1"],
    ],
)
def test_command_rejects_bad_options_with_a_message(args: list[str]) -> None:
    full_args = args if "--cases" in args else ["--cases", "3", *args]
    with pytest.raises(CommandError):
        run(*full_args)
