"""Realistic generated data for the demo CRM, at any size.

Deterministic: the same seed and reference date give the same rows. Memory stays flat whatever the size: rows are
built and written in batches with ``bulk_create``, never all held at once (one person may have millions of events).
The demo requesters that the portal's demo creates are here too, under their own e-mail addresses, customer numbers
and phone numbers, so an access request in the demo finds them.
"""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import models, transaction

from .models import (
    Account,
    AdAudienceMember,
    Customer,
    CustomerInsight,
    Event,
    MarketingPreference,
    MarketingProfile,
    Order,
    OrderLine,
    SupportTicket,
    TicketMessage,
)

# The people the portal's demo files requests for (demo/management/commands/load_demo.py): the shop knows them under
# the same details. Kept here as data, not imported: the CRM is an outside system and knows nothing of the portal.
# Rosa Mendes is left out on purpose: a person the shop has never heard of, for a search that finds nothing.
DEMO_PEOPLE: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("C-1001", "Alan Turing", "alan@demo.example", "07700900001", "London", "SW1A 1AA"),
    ("C-1002", "Grace Hopper", "grace@demo.example", "07700900002", "Manchester", "M1 1AE"),
    ("C-1003", "Katherine Johnson", "katherine@demo.example", "07700900003", "Edinburgh", "EH1 1YZ"),
    ("C-1004", "Tim Berners-Lee", "tim@demo.example", "07700900004", "Cambridge", "CB2 1TN"),
    ("C-1005", "Ada Lovelace", "ada@demo.example", "07700900005", "London", "W1J 7NT"),
    ("C-1006", "Edsger Dijkstra", "edsger@demo.example", "07700900006", "Oxford", "OX1 3QD"),
    ("C-1007", "Margaret Hamilton", "margaret@demo.example", "07700900007", "Bristol", "BS1 4DJ"),
    ("C-1008", "Claude Shannon", "claude@demo.example", "07700900008", "Leeds", "LS1 4AP"),
    ("C-1009", "Barbara Liskov", "barbara@demo.example", "07700900009", "Newcastle upon Tyne", "NE1 7RU"),
    ("C-1010", "Donald Knuth", "donald@demo.example", "07700900010", "Glasgow", "G1 1XQ"),
    ("C-1011", "Frances Allen", "frances@demo.example", "07700900011", "Cardiff", "CF10 1EP"),
    ("C-1012", "Hedy Lamarr", "hedy@demo.example", "07700900012", "Liverpool", "L1 8JQ"),
    ("C-1013", "Kay McNulty", "kay@demo.example", "07700900013", "Belfast", "BT1 5GS"),
    ("C-1014", "Radia Perlman", "radia@demo.example", "07700900014", "Birmingham", "B1 1BB"),
    ("C-1015", "Annie Easley", "annie@demo.example", "07700900015", "Nottingham", "NG1 5FS"),
    ("C-1016", "Mary Jackson", "mary@demo.example", "07700900016", "Southampton", "SO14 7DU"),
)

FIRST_NAMES = (
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Evie Ella Noah Oliver George Arthur "
    "Muhammad Leo Harry Oscar Archie Henry Theodore Freddie Jack Charlie Theo Aisha Priya Wei Sipho Chidi Zofia Mateus "
    "Siobhan Rhys Ciaran Eilidh Kofi Yusuf Anjali Tomasz Ines Niamh Dylan Megan"
).split()
LAST_NAMES = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson Evans Walker White Roberts "
    "Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner Martin Cooper Hill Ward Hughes Moore Clark King "
    "Harrison Lewis Baker Lee Allen Morris Khan Scott Watson Davis Parker James Bennett Young Phillips "
    "Richardson Mitchell Okafor Nowak Kowalski Murphy O'Brien MacDonald Singh Chen Ahmed"
).split()
PLACES = (
    ("London", "EC1A 1BB"),
    ("Manchester", "M2 5DB"),
    ("Birmingham", "B2 4QA"),
    ("Leeds", "LS1 5AB"),
    ("Glasgow", "G2 1DY"),
    ("Edinburgh", "EH2 2ER"),
    ("Cardiff", "CF10 2HH"),
    ("Belfast", "BT1 1AA"),
    ("Bristol", "BS1 5TR"),
    ("Newcastle upon Tyne", "NE1 4ST"),
    ("Dublin", "D02 X285"),
    ("Nottingham", "NG1 2BY"),
)
STREETS = "High Street,Station Road,Church Lane,Victoria Road,Mill Lane,Park Avenue,Queen Street,Green Lane".split(",")
PRODUCTS = (
    ("SKU-1001", "Stainless steel water bottle", Decimal("18.00")),
    ("SKU-1002", "Organic cotton T-shirt", Decimal("22.50")),
    ("SKU-1003", "Bamboo toothbrush (4 pack)", Decimal("7.99")),
    ("SKU-1004", "Wireless earbuds", Decimal("59.00")),
    ("SKU-1005", "Reading lamp", Decimal("34.95")),
    ("SKU-1006", "Walking boots", Decimal("89.00")),
    ("SKU-1007", "Coffee beans, 1 kg", Decimal("24.00")),
    ("SKU-1008", "Yoga mat", Decimal("29.99")),
    ("SKU-1009", "Rain jacket", Decimal("74.50")),
    ("SKU-1010", "Notebook set", Decimal("12.00")),
)
PATHS = (
    "/",
    "/products/",
    "/products/water-bottle/",
    "/products/earbuds/",
    "/products/walking-boots/",
    "/basket/",
    "/checkout/",
    "/account/",
    "/account/orders/",
    "/help/",
    "/help/returns/",
    "/search/?q=boots",
)
USER_AGENTS = (
    (
        "desktop",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    ),
    (
        "desktop",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Safari/605.1.15",
    ),
    (
        "mobile",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    ),
    (
        "mobile",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0 Mobile Safari/537.36",
    ),
    ("tablet", "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"),
    ("desktop", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
)
TIME_ZONES = ("Europe/London", "Europe/London", "Europe/London", "Europe/Dublin", "Europe/Paris", "America/New_York")
TICKET_SUBJECTS = (
    "Where is my order?",
    "Item arrived damaged",
    "How do I return boots that are too small?",
    "Change my delivery address",
    "I was charged twice",
    "Please close my account",
)
CUSTOMER_LINES = (
    "Hello, could you help me with this please?",
    "Thanks, that's sorted it.",
    "I still have not heard back about this.",
    "The parcel tracking has not moved for three days.",
)
AGENT_LINES = (
    "Thanks for getting in touch, I'm looking into this now.",
    "I've arranged a replacement; it should arrive in two working days.",
    "I've issued a refund to your original payment method.",
    "Is there anything else I can help with?",
)
AGENT_NAMES = ("Sam", "Jo", "Alex", "Priti", "Morgan")
SEGMENTS = ("loyal", "bargain hunter", "new", "lapsing", "high value")
SOURCES = ("sign-up form", "checkout tick box", "preference centre", "unsubscribe link", "customer service call")


@dataclass
class Counts:
    customers: int = 0
    accounts: int = 0
    orders: int = 0
    order_lines: int = 0
    marketing_preferences: int = 0
    tickets: int = 0
    ticket_messages: int = 0
    events: int = 0
    insights: int = 0
    marketing_profiles: int = 0
    ad_audiences: int = 0

    @property
    def total(self) -> int:
        return sum(vars(self).values())


@dataclass
class _Buffer:
    """Objects of one model waiting to be written in one ``bulk_create``."""

    model: type[models.Model]
    size: int
    counts: Counts
    count_name: str
    objects: list = field(default_factory=list)

    def add(self, obj: models.Model) -> None:
        self.objects.append(obj)
        if len(self.objects) >= self.size:
            self.flush()

    def flush(self) -> list:
        written, self.objects = self.objects, []
        if written:
            self.model.objects.bulk_create(written, batch_size=self.size)
            setattr(self.counts, self.count_name, getattr(self.counts, self.count_name) + len(written))
        return written


@dataclass
class _ParentBuffer(_Buffer):
    """Parents (orders, tickets) written in a batch; their children get the parent's key once it exists."""

    children: _Buffer | None = None
    pending: list = field(default_factory=list)
    parent_field: str = ""

    def add_with_children(self, obj: models.Model, children: list[models.Model]) -> None:
        self.objects.append(obj)
        self.pending.append(children)
        if len(self.objects) >= self.size:
            self.flush()

    def flush(self) -> list:
        pending, self.pending = self.pending, []
        written = super().flush()
        for parent, children in zip(written, pending, strict=True):
            for child in children:
                setattr(child, self.parent_field, parent.pk)
                self.children.add(child)
        return written


class Generator:
    def __init__(self, *, seed: int, as_of: date, batch_size: int) -> None:
        self.random = random.Random(seed)
        self.now = datetime.combine(as_of, time(12, 0), tzinfo=UTC)
        self.counts = Counts()
        size = batch_size
        self.lines = _Buffer(OrderLine, size, self.counts, "order_lines")
        self.messages = _Buffer(TicketMessage, size, self.counts, "ticket_messages")
        self.orders = _ParentBuffer(Order, size, self.counts, "orders", children=self.lines, parent_field="order_id")
        self.tickets = _ParentBuffer(
            SupportTicket, size, self.counts, "tickets", children=self.messages, parent_field="ticket_id"
        )
        self.accounts = _Buffer(Account, size, self.counts, "accounts")
        self.preferences = _Buffer(MarketingPreference, size, self.counts, "marketing_preferences")
        self.events = _Buffer(Event, size, self.counts, "events")
        self.insights = _Buffer(CustomerInsight, size, self.counts, "insights")
        self.profiles = _Buffer(MarketingProfile, size, self.counts, "marketing_profiles")
        self.audiences = _Buffer(AdAudienceMember, size, self.counts, "ad_audiences")
        # The marketing profiles and audiences draw from their own stream, so that the other tables' rows for a
        # seed stay as they were before these tables existed.
        self.marketing_random = random.Random(f"{seed}-marketing")

    def flush(self) -> None:
        # Parents first: flushing them adds their children to the children's buffers.
        for buffer in (
            self.orders,
            self.tickets,
            self.lines,
            self.messages,
            self.accounts,
            self.preferences,
            self.events,
            self.insights,
            self.profiles,
            self.audiences,
        ):
            buffer.flush()

    # --- values -----------------------------------------------------------------------------------------------------

    def _moment(self, *, within_days: int, after: datetime | None = None) -> datetime:
        start = after or self.now - timedelta(days=within_days)
        span = max(int((self.now - start).total_seconds()), 1)
        return start + timedelta(seconds=self.random.randrange(span))

    def _ip(self) -> str:
        # Documentation ranges only (RFC 5737, RFC 3849): realistic shapes, nobody's real address.
        if self.random.random() < 0.15:
            return f"2001:db8::{self.random.randrange(1, 0xFFFF):x}"
        prefix = self.random.choice(("192.0.2", "198.51.100", "203.0.113"))
        return f"{prefix}.{self.random.randrange(1, 255)}"

    def _token(self, length: int) -> str:
        return "".join(self.random.choices(string.ascii_lowercase + string.digits, k=length))

    # --- people -----------------------------------------------------------------------------------------------------

    def customer(self, *, number: str, name: str, email: str, phone: str, city: str, postcode: str) -> Customer:
        return Customer(
            customer_number=number,
            name=name,
            email=email.strip().lower(),
            phone=phone,
            date_of_birth=date(1950, 1, 1) + timedelta(days=self.random.randrange(365 * 55)),
            address_line=f"{self.random.randrange(1, 200)} {self.random.choice(STREETS)}",
            city=city,
            postcode=postcode,
            country="IE" if city == "Dublin" else "GB",
            created=self._moment(within_days=365 * 6),
        )

    def generated_customer(self, index: int) -> Customer:
        first, last = self.random.choice(FIRST_NAMES), self.random.choice(LAST_NAMES)
        city, postcode = self.random.choice(PLACES)
        local = f"{first}.{last}".lower().replace("'", "")
        return self.customer(
            number=f"G-{index:08d}",
            name=f"{first} {last}",
            email=f"{local}.{index}@example.com",
            phone=f"07700{index % 1_000_000:06d}",
            city=city,
            postcode=postcode,
        )

    def activity(self, customer: Customer, rows: int) -> None:
        """About ``rows`` rows for one customer across the tables: one account, a consent history per channel, one
        insight, a marketing profile and perhaps an advertising audience entry, and the rest split between orders
        (with lines), support tickets (with messages) and events."""
        since = customer.created
        self.accounts.add(
            Account(
                customer_id=customer.pk,
                username=customer.email.split("@")[0][:150],
                plan=self.random.choice(Account.Plan.values),
                status=self.random.choice((Account.Status.ACTIVE,) * 8 + (Account.Status.CLOSED,)),
                opened=since,
                last_login=self._moment(within_days=30, after=max(since, self.now - timedelta(days=30))),
            )
        )
        for channel in MarketingPreference.Channel.values:
            consent = self.random.random() < 0.5
            self.preferences.add(
                MarketingPreference(
                    customer_id=customer.pk,
                    channel=channel,
                    consent=consent,
                    changed_at=self._moment(within_days=0, after=since),
                    source=self.random.choice(SOURCES),
                )
            )
        self.insights.add(
            CustomerInsight(
                customer_id=customer.pk,
                computed_at=self._moment(within_days=30, after=max(since, self.now - timedelta(days=30))),
                segment=self.random.choice(SEGMENTS),
                churn_risk=Decimal(self.random.randrange(0, 1000)) / 1000,
                predicted_annual_value=Decimal(self.random.randrange(0, 200_000)) / 100,
                model_version="churn-2026.3",
            )
        )
        remaining = max(rows - 6 - self._marketing(customer), 0)
        order_count = remaining // 12  # an order and its two lines: about a quarter of the rows
        ticket_count = remaining // 40  # a ticket and its three messages: about a tenth
        event_count = max(remaining - order_count * 3 - ticket_count * 4, 0)
        for _ in range(order_count):
            self._order(customer)
        for _ in range(ticket_count):
            self._ticket(customer)
        for _ in range(event_count):
            self._event(customer)

    def _marketing(self, customer: Customer) -> int:
        """A marketing profile (segment and offer propensity, profiling for direct marketing) for every customer,
        and for most of them a place in an advertising audience, their e-mail address hashed as ad platforms take
        it. Returns the rows added."""
        draw = self.marketing_random
        since = customer.created
        self.profiles.add(
            MarketingProfile(
                customer_id=customer.pk,
                segment=draw.choice(SEGMENTS),
                offer_propensity=Decimal(draw.randrange(0, 1000)) / 1000,
                computed_at=self._moment_from(draw, after=max(since, self.now - timedelta(days=30))),
                model_version="offers-2026.4",
            )
        )
        # The demo's requesters are always in one, so that an objection in the demo shows them leaving it.
        if draw.random() < 0.8 or not customer.customer_number.startswith("G-"):
            self.audiences.add(
                AdAudienceMember(
                    customer_id=customer.pk,
                    audience=draw.choice(AdAudienceMember.Audience.values),
                    email_sha256=hashlib.sha256(customer.email.strip().lower().encode()).hexdigest(),
                    added_at=self._moment_from(draw, after=since),
                )
            )
            return 2
        return 1

    def _moment_from(self, draw: random.Random, *, after: datetime) -> datetime:
        span = max(int((self.now - after).total_seconds()), 1)
        return after + timedelta(seconds=draw.randrange(span))

    def _order(self, customer: Customer) -> None:
        lines = []
        total = Decimal("0.00")
        for _ in range(2):
            sku, description, price = self.random.choice(PRODUCTS)
            quantity = self.random.choice((1, 1, 1, 2, 3))
            total += price * quantity
            lines.append(OrderLine(sku=sku, description=description, quantity=quantity, unit_price=price))
        number = len(self.orders.objects) + self.counts.orders
        self.orders.add_with_children(
            Order(
                customer_id=customer.pk,
                order_number=f"O-{customer.customer_number[2:]}-{number}-{self._token(4)}",
                placed_at=self._moment(within_days=0, after=customer.created),
                status=self.random.choice(Order.Status.values),
                total=total,
                delivery_address=f"{customer.address_line}, {customer.city} {customer.postcode}",
                payment_reference=f"pi_{self._token(24)}",
            ),
            lines,
        )

    def _ticket(self, customer: Customer) -> None:
        opened = self._moment(within_days=0, after=customer.created)
        closed = opened + timedelta(hours=self.random.randrange(1, 120)) if self.random.random() < 0.8 else None
        messages = []
        sent = opened
        for position in range(3):
            sent += timedelta(minutes=self.random.randrange(5, 600))
            by_customer = position % 2 == 0
            messages.append(
                TicketMessage(
                    sent_at=sent,
                    author=TicketMessage.Author.CUSTOMER if by_customer else TicketMessage.Author.AGENT,
                    agent_name="" if by_customer else self.random.choice(AGENT_NAMES),
                    body=self.random.choice(CUSTOMER_LINES if by_customer else AGENT_LINES),
                )
            )
        number = self.counts.tickets + len(self.tickets.objects)
        self.tickets.add_with_children(
            SupportTicket(
                customer_id=customer.pk,
                reference=f"T-{customer.customer_number[2:]}-{number}-{self._token(4)}",
                subject=self.random.choice(TICKET_SUBJECTS),
                status=SupportTicket.Status.CLOSED if closed else self.random.choice(("open", "waiting")),
                channel=self.random.choice(("web", "email", "chat", "phone")),
                opened_at=opened,
                closed_at=closed,
            ),
            messages,
        )

    def _event(self, customer: Customer) -> None:
        device, agent = self.random.choice(USER_AGENTS)
        kind = self.random.choice(Event.Kind.values)
        self.events.add(
            Event(
                customer_id=customer.pk,
                occurred_at=self._moment(within_days=0, after=customer.created),
                kind=kind,
                path=self.random.choice(PATHS) if kind != Event.Kind.EMAIL_OPEN else "/email/open.gif",
                ip_address=self._ip(),
                user_agent=agent,
                device=device,
                time_zone=self.random.choice(TIME_ZONES),
                session_id=self._token(32),
            )
        )


def _customers_written(customers: list[Customer]) -> Iterator[Customer]:
    Customer.objects.bulk_create(customers)
    # SQLite (3.35+) and PostgreSQL return the new keys; the children need them.
    yield from customers


def democrm_generate(
    *,
    people: int,
    rows_per_person: int,
    seed: int = 12,
    as_of: date | None = None,
    batch_size: int = 5000,
    demo_people: bool = True,
    demo_rows_per_person: int = 60,
    replace: bool = False,
) -> Counts:
    """Fill the demo CRM: ``people`` generated customers with about ``rows_per_person`` rows each, and the demo's
    requesters (``DEMO_PEOPLE``) with ``demo_rows_per_person`` each. ``replace`` empties the CRM first; without it,
    running twice refuses rather than adding a second copy."""
    if replace:
        with transaction.atomic():
            for model in (
                TicketMessage,
                SupportTicket,
                OrderLine,
                Order,
                Event,
                MarketingPreference,
                CustomerInsight,
                MarketingProfile,
                AdAudienceMember,
            ):
                model.objects.all().delete()
            Account.objects.all().delete()
            Customer.objects.all().delete()
    elif Customer.objects.exists():
        raise ValueError("The demo CRM already has customers: pass replace=True (--replace) to generate it afresh.")
    generator = Generator(seed=seed, as_of=as_of or datetime.now(tz=UTC).date(), batch_size=batch_size)
    if demo_people:
        known = [
            generator.customer(
                number=number,
                name=name,
                email=email,
                phone=phone,
                city=city,
                postcode=postcode,
            )
            for number, name, email, phone, city, postcode in DEMO_PEOPLE
        ]
        for customer in _customers_written(known):
            generator.counts.customers += 1
            generator.activity(customer, demo_rows_per_person)
    # Customers in chunks small enough that their children's buffers stay bounded.
    chunk = max(1, min(batch_size, 1000))
    for start in range(0, people, chunk):
        customers = [generator.generated_customer(index) for index in range(start + 1, min(start + chunk, people) + 1)]
        for customer in _customers_written(customers):
            generator.counts.customers += 1
            generator.activity(customer, rows_per_person)
    generator.flush()
    return generator.counts
