"""Deterministic, realistic Norwegian data for the sandbox, bulk-inserted so large seeds stay fast.

The same seed, organisation id and `now` give the same data. Amounts are computed in øre (ints)
so every claim adds up exactly: original = paid + credited + remaining, current = original -
credited; a case's remainingAmount is the sum of its claims' remaining and remainingPrincipal that
of its PRINCIPAL claims; an invoice carries its principal's amounts and the remaining of every
claim tied to it.
"""

import functools
import itertools
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Max, Model
from django.utils import timezone

from sandbox import names, webhooks
from sandbox.models import (
    AccountType,
    Batch,
    Case,
    CaseStatus,
    CaseSubStatus,
    CaseType,
    Claim,
    ClaimType,
    Debtor,
    DebtorType,
    IdempotencyRecord,
    Invoice,
    InvoiceStatus,
    InvoiceType,
    SandboxOrganization,
    search_text_of,
)

# Organisation ids seeded without an explicit id are uuid5(ORGANIZATION_NAMESPACE, "<seed>/<n>").
ORGANIZATION_NAMESPACE = uuid.UUID("5d3c1b8e-0f4a-5b7e-9c2d-a11c0de5eed5")
FIRST_CASE_NUMBER = 1_000_001
CHUNK_SIZE = 2_000  # cases generated and inserted at a time: bounded memory for any size
HISTORY_DAYS = 730
REMINDER_FEE_ORE = 35_00
INTEREST_RATE = 0.1225  # Norwegian statutory late-payment interest, roughly
ANALYZE_FROM_CASES = 5_000  # refresh planner statistics after seeds this large


@dataclass(frozen=True)
class Profile:
    status: CaseStatus
    sub_status: CaseSubStatus
    type: CaseType


_OPEN, _PAUSED, _CLOSED, _WITHDRAWN = (
    CaseStatus.OPEN,
    CaseStatus.PAUSED,
    CaseStatus.CLOSED,
    CaseStatus.WITHDRAWN,
)
_NONE = CaseSubStatus.NONE
# (profile, weight): the mix of cases a creditor typically has in collection.
PROFILES: list[tuple[Profile, float]] = [
    (Profile(_OPEN, _NONE, CaseType.PAYMENT_REMINDER), 14),
    (Profile(_OPEN, _NONE, CaseType.COLLECTION_NOTICE), 12),
    (Profile(_OPEN, _NONE, CaseType.DEBT_COLLECTION), 16),
    (Profile(_OPEN, _NONE, CaseType.LEGAL_COLLECTION), 5),
    (Profile(_OPEN, CaseSubStatus.DEBT_COLLECTION_LIST_MANUAL, CaseType.COLLECTION_NOTICE), 4),
    (Profile(_OPEN, CaseSubStatus.EVICTION_REQUEST_MANUAL, CaseType.DEBT_COLLECTION), 2),
    (Profile(_OPEN, CaseSubStatus.EVICTION_CONFIRMATION_MANUAL, CaseType.DEBT_COLLECTION), 1.5),
    (Profile(_PAUSED, _NONE, CaseType.PAYMENT_REMINDER), 1),
    (Profile(_PAUSED, _NONE, CaseType.COLLECTION_NOTICE), 2),
    (Profile(_PAUSED, _NONE, CaseType.DEBT_COLLECTION), 4),
    (Profile(_PAUSED, _NONE, CaseType.LEGAL_COLLECTION), 1),
    (Profile(_CLOSED, _NONE, CaseType.PAYMENT_REMINDER), 8),
    (Profile(_CLOSED, _NONE, CaseType.COLLECTION_NOTICE), 6),
    (Profile(_CLOSED, _NONE, CaseType.DEBT_COLLECTION), 8),
    (Profile(_CLOSED, _NONE, CaseType.LEGAL_COLLECTION), 3),
    (Profile(_WITHDRAWN, _NONE, CaseType.PAYMENT_REMINDER), 2),
    (Profile(_WITHDRAWN, _NONE, CaseType.COLLECTION_NOTICE), 2),
    (Profile(_WITHDRAWN, _NONE, CaseType.DEBT_COLLECTION), 3),
    (Profile(_WITHDRAWN, _NONE, CaseType.LEGAL_COLLECTION), 1),
]
# Seeded first (at random places), so even a small organisation shows every state.
MUST_HAVE = [
    Profile(_OPEN, CaseSubStatus.DEBT_COLLECTION_LIST_MANUAL, CaseType.COLLECTION_NOTICE),
    Profile(_OPEN, CaseSubStatus.EVICTION_REQUEST_MANUAL, CaseType.DEBT_COLLECTION),
    Profile(_OPEN, CaseSubStatus.EVICTION_CONFIRMATION_MANUAL, CaseType.DEBT_COLLECTION),
    Profile(_PAUSED, _NONE, CaseType.DEBT_COLLECTION),
    Profile(_CLOSED, _NONE, CaseType.PAYMENT_REMINDER),
    Profile(_WITHDRAWN, _NONE, CaseType.COLLECTION_NOTICE),
    Profile(_OPEN, _NONE, CaseType.LEGAL_COLLECTION),
    Profile(_OPEN, _NONE, CaseType.PAYMENT_REMINDER),
]
# Forced account types on the first must-have cases, so every accountType shows up too.
MUST_HAVE_ACCOUNTS = [AccountType.IBAN, AccountType.UNKNOWN]


@dataclass(frozen=True)
class Customer:
    """A debtor as the creditor knows them; one customer can owe on several cases."""

    debtor_id: uuid.UUID
    type: DebtorType
    debtor_number: str
    customer_number: str
    first_name: str
    last_name: str
    full_name: str
    identification_number: str
    email: str
    phone: str


@dataclass
class _Rows:
    cases: list[Case] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    debtors: list[Debtor] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)

    def insert(self) -> None:
        for model, objects in (
            (Case, self.cases),
            (Invoice, self.invoices),
            (Debtor, self.debtors),
            (Claim, self.claims),
        ):
            insert_rows(model, objects)


@dataclass
class _ClaimLine:
    type: ClaimType
    original: int  # øre
    invoice: Invoice | None
    paid: int = 0
    credited: int = 0

    @property
    def remaining(self) -> int:
        return self.original - self.paid - self.credited


# --- Public API ----------------------------------------------------------------------------------


def organization_id_for(seed: int, index: int) -> uuid.UUID:
    """The stable UUID of the index-th organisation seeded without an explicit id."""
    return uuid.uuid5(ORGANIZATION_NAMESPACE, f"{seed}/{index}")


def organization_name_for(seed: int, index: int) -> str:
    """A plausible creditor name for the index-th generated organisation."""
    base = names.ORGANIZATION_NAMES[(seed + index) % len(names.ORGANIZATION_NAMES)]
    round_number = (seed + index) // len(names.ORGANIZATION_NAMES)
    return base if round_number == 0 else f"{base} {round_number + 1}"


def seed_organization(
    org_id: uuid.UUID,
    name: str,
    cases: int,
    seed: int,
    *,
    now: datetime | None = None,
    reset: bool = False,
) -> int:
    """Create (or rename) the organisation and give it `cases` cases; return how many were made.

    An organisation that already has cases is left alone (0 is returned) unless `reset`, which
    deletes its cases, batches and idempotency records first. `now` anchors the two years of
    history; by default the start of today (UTC), so a re-seed the same day gives identical data.
    """
    anchor = now or datetime.combine(timezone.now().date(), time.min, tzinfo=UTC)
    with transaction.atomic():
        organization = _organization(org_id, name, seed)
        if Case.objects.filter(organization=organization).exists():
            if not reset:
                return 0
            clear_organization(organization)
        first_number = _next_case_number()
        seeder = _OrganizationSeeder(
            organization, random.Random(f"sandbox:{seed}:{org_id}"), anchor
        )
        for rows in seeder.chunks(cases, first_number):
            rows.insert()
    if cases >= ANALYZE_FROM_CASES:
        refresh_statistics()
    return cases


def add_new_cases(
    org_id: uuid.UUID, count: int, seed: int, *, now: datetime | None = None
) -> list[Case]:
    """Register `count` new open cases in a seeded organisation, as a creditor's new claims
    arrive, and tell the webhook subscriber of each (a CASE event, once committed).

    The way to see the CASE loop in the demo (`seed_sandbox --add-cases`); a seed itself sends
    no events: thousands of cases at once are not news, and the first sync reads them all.
    """
    moment = now or timezone.now()
    with transaction.atomic():
        organization = SandboxOrganization.objects.get(pk=org_id)
        first_number = _next_case_number()
        seeder = _OrganizationSeeder(
            organization, random.Random(f"sandbox-new:{seed}:{org_id}:{first_number}"), moment
        )
        open_profiles = [(p, weight) for p, weight in PROFILES if p.status == CaseStatus.OPEN]
        profiles, weights = zip(*open_profiles, strict=True)
        rows = _Rows()
        for index in range(count):
            profile = seeder.rng.choices(profiles, weights)[0]
            # Registered a moment apart, the newest last, like cases arriving one by one.
            registered_at = moment - timedelta(seconds=count - index)
            seeder._case(rows, first_number + index, profile, registered_at, None)
        rows.insert()
        for case in rows.cases:
            webhooks.case_created(case)
    return rows.cases


def clear_organization(organization: SandboxOrganization) -> None:
    """Delete an organisation's seeded data (not the organisation), leaves first."""
    Claim.objects.filter(case__organization=organization).delete()
    Debtor.objects.filter(organization=organization).delete()
    Batch.objects.filter(organization=organization).delete()
    IdempotencyRecord.objects.filter(organization=organization).delete()
    Invoice.objects.filter(organization=organization).delete()
    Case.objects.filter(organization=organization).delete()


def refresh_statistics() -> None:
    """Let the query planner see the new data (ANALYZE works on SQLite and PostgreSQL)."""
    tables = [model._meta.db_table for model in (Case, Invoice, Debtor, Claim)]
    # PostgreSQL counts with index-only scans once VACUUM has set the visibility map; VACUUM
    # cannot run inside a transaction, so a caller's transaction gets a plain ANALYZE.
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    command = "VACUUM ANALYZE" if vacuum else "ANALYZE"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{command} {connection.ops.quote_name(table)}")


def insert_rows(model: type[Model], objects: Sequence[Model]) -> None:
    """Insert unsaved model instances in bulk: COPY on PostgreSQL, one executemany elsewhere.

    bulk_create compiles every value into its SQL and spent about three quarters of a large
    seed doing so (200,000 cases took minutes); handing the driver plain rows is several times
    faster. Values still go through each field's own database preparation, and no signals or
    save() logic are involved, exactly as with bulk_create.
    """
    if not objects:
        return
    meta = model._meta
    columns = [column for column in meta.concrete_fields if column is not meta.auto_field]
    database = connections[DEFAULT_DB_ALIAS]
    prepare = [_preparer(column, database) for column in columns]
    rows = [
        tuple(
            prep(getattr(obj, column.attname))
            for column, prep in zip(columns, prepare, strict=True)
        )
        for obj in objects
    ]
    quote = database.ops.quote_name
    # Identifiers only, from the models' own metadata and quoted: nothing user-supplied.
    table, names = quote(meta.db_table), ", ".join(quote(str(column.column)) for column in columns)
    with database.cursor() as cursor:
        if database.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            insert = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608
            cursor.executemany(insert, rows)


_PLAIN_TYPES = {
    "BigIntegerField",
    "CharField",
    "DecimalField",  # both drivers take Decimal as it is
    "IntegerField",
    "PositiveSmallIntegerField",
    "TextField",
}


def _preparer(column: Any, database: Any) -> Callable[[Any], Any]:
    """How one column's Python value becomes what the driver takes, decided once per column."""
    stored = column.target_field if column.is_relation else column
    kind = stored.get_internal_type()
    if kind in _PLAIN_TYPES:
        return _unchanged
    if kind == "UUIDField":
        return _unchanged if database.features.has_native_uuid_field else _uuid_hex
    if kind == "DateTimeField":
        return database.ops.adapt_datetimefield_value  # type: ignore[no-any-return]
    return functools.partial(column.get_db_prep_save, connection=database)


def _unchanged(value: Any) -> Any:
    return value


def _uuid_hex(value: uuid.UUID | None) -> str | None:
    return None if value is None else value.hex


# --- Generation ----------------------------------------------------------------------------------


def _organization(org_id: uuid.UUID, name: str, seed: int) -> SandboxOrganization:
    rng = random.Random(f"sandbox-org:{seed}:{org_id}")
    organization, created = SandboxOrganization.objects.get_or_create(
        id=org_id,
        defaults={
            "name": name,
            "organization_number": organization_number(rng),
            "creditor_id": _uuid(rng),
            "creditor_number": str(rng.randint(10_000, 99_999)),
        },
    )
    if not created and organization.name != name:
        organization.name = name
        organization.save(update_fields=["name"])
    return organization


def _next_case_number() -> int:
    """Case numbers are unique across organisations: continue after the highest one."""
    highest = Case.objects.aggregate(highest=Max("case_number"))["highest"]
    return max(FIRST_CASE_NUMBER, (highest or 0) + 1)


class _OrganizationSeeder:
    def __init__(
        self, organization: SandboxOrganization, rng: random.Random, now: datetime
    ) -> None:
        self.organization = organization
        self.rng = rng
        self.now = now
        self.customers: list[Customer] = []
        self.next_invoice_number = rng.randint(10_000, 40_000)
        self.source_system = rng.choice(names.SOURCE_SYSTEMS)
        self.account_number = bban(rng)

    def chunks(self, count: int, first_number: int) -> Iterator[_Rows]:
        """Cases oldest first, numbered upwards, `CHUNK_SIZE` at a time."""
        rng = self.rng
        history_ms = HISTORY_DAYS * 86_400_000
        offsets = sorted((rng.randrange(history_ms) for _ in range(count)), reverse=True)
        forced_places = rng.sample(range(count), min(count, len(MUST_HAVE)))
        forced = dict(zip(forced_places, MUST_HAVE, strict=False))
        forced_accounts = dict(zip(forced_places, MUST_HAVE_ACCOUNTS, strict=False))
        profiles, weights = zip(*PROFILES, strict=True)
        cumulative = list(itertools.accumulate(weights))
        for start in range(0, count, CHUNK_SIZE):
            rows = _Rows()
            for index in range(start, min(start + CHUNK_SIZE, count)):
                profile = forced.get(index) or rng.choices(profiles, cum_weights=cumulative)[0]
                registered_at = self.now - timedelta(milliseconds=offsets[index] + 60_000)
                self._case(
                    rows, first_number + index, profile, registered_at, forced_accounts.get(index)
                )
            yield rows

    def _case(
        self,
        rows: _Rows,
        case_number: int,
        profile: Profile,
        registered_at: datetime,
        account_type: AccountType | None,
    ) -> None:
        rng, organization = self.rng, self.organization
        is_rent = (
            profile.sub_status
            in (
                CaseSubStatus.EVICTION_REQUEST_MANUAL,
                CaseSubStatus.EVICTION_CONFIRMATION_MANUAL,
            )
            or rng.random() < 0.15
        )
        invoice_count = rng.choices([1, 2, 3, 4], [70, 18, 8, 4])[0]
        case = Case(
            id=_uuid(rng),
            organization_id=organization.id,
            case_number=case_number,
            creditor_id=organization.creditor_id,
            creditor_number=organization.creditor_number,
            status=profile.status,
            sub_status=profile.sub_status,
            type=profile.type,
            registered_at=registered_at,
            account_type=account_type
            or rng.choices([AccountType.BBAN, AccountType.IBAN, AccountType.UNKNOWN], [88, 9, 3])[
                0
            ],
            payment_reference=kid(case_number),
        )
        case.account_number = (
            iban(self.account_number)
            if case.account_type == AccountType.IBAN
            else self.account_number
        )
        if profile.status in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN):
            closed_at = registered_at + timedelta(days=rng.uniform(5, 240))
            if closed_at > self.now:  # a recent case closed a while after it came in, before now
                closed_at = registered_at + (self.now - registered_at) * rng.uniform(0.2, 0.9)
            case.closed_at = closed_at.replace(microsecond=closed_at.microsecond // 1000 * 1000)
        invoices = [
            self._invoice(case, position, invoice_count, is_rent)
            for position in range(invoice_count)
        ]
        case.description = self._description(invoices[0].invoice_date, is_rent, invoice_count)
        debtor_count = 2 if rng.random() < 0.12 else 1
        debtors = [
            self._debtor(case, position, company_allowed=position == 0)
            for position in range(debtor_count)
        ]
        claims = self._claims(case, invoices)
        self._settle(case, claims)
        self._totals(case, invoices, claims)
        case.search_text = search_text_of(
            [str(case_number)]
            + [
                part
                for inv in invoices
                for part in (inv.invoice_number, inv.unique_source_invoice_id)
            ]
            + [part for d in debtors for part in (d.full_name, d.customer_number, d.email)]
        )
        rows.cases.append(case)
        rows.invoices += invoices
        rows.debtors += debtors
        rows.claims += [
            Claim(
                case_id=case.id,
                invoice_id=line.invoice.id if line.invoice else None,
                type=line.type,
                original_amount=_kroner(line.original),
                current_amount=_kroner(line.original - line.credited),
                remaining_amount=_kroner(line.remaining),
                paid_amount=_kroner(line.paid),
                credited_amount=_kroner(line.credited),
                position=position,
            )
            for position, line in enumerate(claims)
        ]

    def _invoice(self, case: Case, position: int, count: int, is_rent: bool) -> Invoice:
        rng = self.rng
        months_back = count - position  # the oldest invoice comes first
        invoice_day = (
            case.registered_at - timedelta(days=rng.randint(25, 70) + 30 * (months_back - 1))
        ).date()
        invoice_date = datetime.combine(invoice_day, time.min, tzinfo=UTC)
        number = str(self.next_invoice_number)
        self.next_invoice_number += rng.randint(1, 3)
        principal = rng.randint(6_500, 18_500) * 100 if is_rent else _consumer_amount(rng)
        return Invoice(
            id=_uuid(rng),
            organization_id=self.organization.id,
            case_id=case.id,
            invoice_number=number,
            unique_source_invoice_id=f"{self.source_system}-{invoice_day.year}-{number}",
            type=InvoiceType.INSTALMENT if rng.random() < 0.1 else InvoiceType.INVOICE,
            invoice_date=invoice_date,
            due_date=invoice_date + timedelta(days=rng.choice([10, 14, 14, 14, 20, 30])),
            batch_id=_uuid(rng),
            registered_at=case.registered_at - timedelta(milliseconds=rng.randrange(3_600_000)),
            original_amount=_kroner(principal),
            position=position,
        )

    def _description(self, first_invoice: datetime, is_rent: bool, invoice_count: int) -> str:
        template = names.RENT_DESCRIPTION if is_rent else self.rng.choice(names.DESCRIPTIONS)
        text = template.format(month=names.MONTHS[first_invoice.month - 1], year=first_invoice.year)
        return text if invoice_count == 1 else f"{text} m.fl. ({invoice_count} fakturaer)"

    def _debtor(self, case: Case, position: int, *, company_allowed: bool) -> Debtor:
        customer = self._customer(company_allowed)
        return Debtor(
            organization_id=self.organization.id,
            case_id=case.id,
            debtor_id=customer.debtor_id,
            type=customer.type,
            debtor_number=customer.debtor_number,
            customer_number=customer.customer_number,
            first_name=customer.first_name,
            last_name=customer.last_name,
            full_name=customer.full_name,
            identification_number=customer.identification_number,
            email=customer.email,
            phone=customer.phone,
            position=position,
        )

    def _customer(self, company_allowed: bool) -> Customer:
        """An existing customer about a third of the time (a debtor with several cases)."""
        rng = self.rng
        if self.customers and rng.random() < 0.3:
            known = rng.choice(self.customers)
            if company_allowed or known.type == DebtorType.PRIVATE:
                return known
        number = len(self.customers)
        customer = (
            self._company(number)
            if company_allowed and rng.random() < 0.2
            else self._person(number)
        )
        self.customers.append(customer)
        return customer

    def _person(self, number: int) -> Customer:
        rng = self.rng
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        email_name = (
            f"{_ascii(first)}.{_ascii(last)}{rng.choice(['', '', str(rng.randint(1, 99))])}"
        )
        return Customer(
            debtor_id=_uuid(rng),
            type=DebtorType.PRIVATE,
            debtor_number=str(500_000 + number),
            customer_number=str(100_000 + number * 3 + rng.randint(0, 2)),
            first_name=first,
            last_name=last,
            full_name=f"{first} {last}",
            identification_number=synthetic_national_id(rng),
            email=f"{email_name}@{names.EMAIL_DOMAIN}",
            phone=f"+47{rng.choice('49')}{rng.randint(0, 9_999_999):07d}",
        )

    def _company(self, number: int) -> Customer:
        rng = self.rng
        stem, trade = rng.choice(names.COMPANY_STEMS), rng.choice(names.COMPANY_TRADES)
        full_name = f"{stem} {trade} {rng.choice(names.COMPANY_FORMS)}"
        return Customer(
            debtor_id=_uuid(rng),
            type=DebtorType.COMPANY,
            debtor_number=str(500_000 + number),
            customer_number=str(100_000 + number * 3 + rng.randint(0, 2)),
            first_name="",
            last_name="",
            full_name=full_name,
            identification_number=organization_number(rng),
            email=f"faktura@{_ascii(stem)}{_ascii(trade)}.{names.COMPANY_EMAIL_DOMAIN}",
            phone=f"+47{rng.choice(['22', '23', '55', '73', '77'])}{rng.randint(0, 999_999):06d}",
        )

    def _claims(self, case: Case, invoices: list[Invoice]) -> list[_ClaimLine]:
        """The breakdown: principal, interest, reminder fee per invoice, then case-level costs."""
        rng, lines = self.rng, []
        for invoice in invoices:
            principal = int(invoice.original_amount * 100)
            lines.append(_ClaimLine(ClaimType.PRINCIPAL, principal, invoice))
            overdue_days = max((case.registered_at - invoice.due_date).days, 1)
            if case.type != CaseType.PAYMENT_REMINDER or rng.random() < 0.5:
                interest = round(principal * INTEREST_RATE * overdue_days / 365)
                lines.append(_ClaimLine(ClaimType.INTEREST, max(interest, 1), invoice))
            lines.append(_ClaimLine(ClaimType.REMINDER_FEE, REMINDER_FEE_ORE, invoice))
        if case.type in (CaseType.DEBT_COLLECTION, CaseType.LEGAL_COLLECTION):
            total_principal = sum(
                line.original for line in lines if line.type == ClaimType.PRINCIPAL
            )
            lines.append(
                _ClaimLine(ClaimType.COLLECTION_FEE, _collection_fee(total_principal), None)
            )
        if case.type == CaseType.LEGAL_COLLECTION:
            cost = rng.choice([1_277_00, 1_495_00, 2_554_00, 3_500_00])
            lines.append(_ClaimLine(ClaimType.LEGAL_COST, cost, None))
        return lines

    def _settle(self, case: Case, claims: list[_ClaimLine]) -> None:
        """Payments and credits, applied costs first, then interest, then principal (as the law
        orders them); closed cases are settled in full."""
        rng = self.rng
        if case.status == CaseStatus.CLOSED:
            credit_all = rng.random() < 0.1
            for line in claims:
                if credit_all:
                    line.credited = line.original
                else:
                    line.paid = line.original
            return
        if rng.random() < 0.08:  # a credit note on one invoice's principal
            principal = rng.choice([line for line in claims if line.type == ClaimType.PRINCIPAL])
            principal.credited = round(principal.original * rng.uniform(0.1, 0.5))
        if rng.random() < 0.3:  # a partial payment
            payment = round(sum(line.remaining for line in claims) * rng.uniform(0.05, 0.7))
            order = [
                ClaimType.LEGAL_COST,
                ClaimType.COLLECTION_FEE,
                ClaimType.REMINDER_FEE,
                ClaimType.INTEREST,
                ClaimType.PRINCIPAL,
            ]
            for claim_type in order:
                for line in claims:
                    if line.type == claim_type and payment > 0:
                        covered = min(payment, line.remaining)
                        line.paid += covered
                        payment -= covered

    def _totals(self, case: Case, invoices: list[Invoice], claims: list[_ClaimLine]) -> None:
        case.remaining_amount = _kroner(sum(line.remaining for line in claims))
        case.remaining_principal = _kroner(
            sum(line.remaining for line in claims if line.type == ClaimType.PRINCIPAL)
        )
        for invoice in invoices:
            own = [line for line in claims if line.invoice is invoice]
            principal = next(line for line in own if line.type == ClaimType.PRINCIPAL)
            remaining = sum(line.remaining for line in own)
            invoice.paid_amount = _kroner(principal.paid)
            invoice.credited_amount = _kroner(principal.credited)
            invoice.remaining_principal = _kroner(principal.remaining)
            invoice.remaining_amount = _kroner(remaining)
            invoice.status = _invoice_status(case, principal, remaining)


def _invoice_status(case: Case, principal: _ClaimLine, remaining: int) -> InvoiceStatus:
    if remaining == 0:
        credited_in_full = principal.credited == principal.original
        return InvoiceStatus.CREDITED if credited_in_full else InvoiceStatus.PAID
    if case.status in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN):
        return InvoiceStatus.CLOSED
    return InvoiceStatus.OPEN


def _consumer_amount(rng: random.Random) -> int:
    """A consumer or business invoice in øre: mostly hundreds to a few thousand kroner."""
    kroner = min(max(rng.lognormvariate(7.3, 1.0), 149), 250_000)
    ore = rng.choice([0, 0, 0, 50, rng.randint(1, 99)])
    return int(kroner) * 100 + ore


def _collection_fee(principal_ore: int) -> int:
    """Roughly the Norwegian collection-fee tiers (inkassosalær), by principal."""
    for limit, fee in [
        (500_00, 350_00),
        (2_500_00, 525_00),
        (10_000_00, 1_050_00),
        (50_000_00, 1_750_00),
    ]:
        if principal_ore <= limit:
            return fee
    return 3_500_00


def _kroner(ore: int) -> Decimal:
    return Decimal(ore).scaleb(-2)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


_ASCII = str.maketrans(
    {"æ": "ae", "ø": "o", "å": "aa", "é": "e", "è": "e", "ë": "e", "ü": "u", "ö": "o", "ä": "a"}
)


def _ascii(text: str) -> str:
    return "".join(ch for ch in text.lower().translate(_ASCII) if ch.isascii() and ch.isalnum())


# --- Norwegian identifiers (fake, but with valid check digits) -----------------------------------


def _mod11(digits: str, weights: list[int]) -> int | None:
    """The MOD11 check digit, or None when the number cannot have one (remainder 1)."""
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    check = (11 - remainder) % 11
    return None if check == 10 else check


def organization_number(rng: random.Random) -> str:
    """A 9-digit organisation number with a valid check digit."""
    while True:
        body = f"{rng.choice('89')}{rng.randint(0, 9_999_999):07d}"
        check = _mod11(body, [3, 2, 7, 6, 5, 4, 3, 2])
        if check is not None:
            return f"{body}{check}"


def synthetic_national_id(rng: random.Random) -> str:
    """An 11-digit fødselsnummer in the synthetic test range (month + 80): never a real person."""
    while True:
        year = rng.randint(1940, 2005)
        individual = rng.randint(0, 499) if year < 2000 else rng.randint(500, 999)
        body = (
            f"{rng.randint(1, 28):02d}{rng.randint(1, 12) + 80:02d}{year % 100:02d}{individual:03d}"
        )
        k1 = _mod11(body, [3, 7, 6, 1, 8, 9, 4, 5, 2])
        if k1 is None:
            continue
        k2 = _mod11(f"{body}{k1}", [5, 4, 3, 2, 7, 6, 5, 4, 3, 2])
        if k2 is not None:
            return f"{body}{k1}{k2}"


def bban(rng: random.Random) -> str:
    """An 11-digit Norwegian account number (BBAN) with a valid MOD11 check digit."""
    while True:
        body = f"{rng.choice(names.BANK_PREFIXES)}{rng.randint(0, 999_999):06d}"
        check = _mod11(body, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2])
        if check is not None:
            return f"{body}{check}"


def iban(account: str) -> str:
    """The Norwegian IBAN of a BBAN (NOkk + BBAN), with ISO 7064 check digits."""
    numeric = int(f"{account}{ord('N') - 55}{ord('O') - 55}00")
    return f"NO{98 - numeric % 97:02d}{account}"


def kid(case_number: int) -> str:
    """A KID (payment reference): the case number with a MOD10 (Luhn) check digit."""
    digits = f"{case_number:010d}"
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return f"{digits}{(10 - total % 10) % 10}"
