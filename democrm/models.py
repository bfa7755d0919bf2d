"""The demo organisation's CRM: what a small online shop keeps about its customers.

It stands for any business application the portal has to search for a person's data (issue 12, connector kind 1),
so it holds the usual mix: details the customer gave (provided), what the website saw them do (observed), and what the
business worked out about them (inferred). Only the first two are in scope for portability (GDPR Art. 20(1); EDPB
WP242 rev.01 s.2: "provided by" includes observed data, not inferred or derived data).
"""

from django.db import models


class Customer(models.Model):
    customer_number = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    # Stored lower-cased and trimmed, as the shop's sign-up form does, so an exact match finds it.
    email = models.CharField(max_length=254, db_index=True)
    # Digits (and a leading +) only, as the sign-up form stores it.
    phone = models.CharField(max_length=32, blank=True, db_index=True)
    date_of_birth = models.DateField(null=True, blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=12, blank=True)
    country = models.CharField(max_length=2, default="GB")
    created = models.DateTimeField()
    # GDPR Art. 18: while processing is restricted the record is kept but not used (issue 13 acts on it).
    restricted = models.BooleanField(default=False)

    class Meta:
        ordering = ["customer_number"]

    def __str__(self) -> str:
        return self.customer_number


class Account(models.Model):
    class Plan(models.TextChoices):
        FREE = "free", "Free"
        STANDARD = "standard", "Standard"
        PREMIUM = "premium", "Premium"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CLOSED = "closed", "Closed"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="accounts")
    username = models.CharField(max_length=150)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    opened = models.DateTimeField()
    last_login = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"account {self.pk}"


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        RETURNED = "returned", "Returned"
        CANCELLED = "cancelled", "Cancelled"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    order_number = models.CharField(max_length=40, unique=True)
    placed_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices)
    currency = models.CharField(max_length=3, default="GBP")
    total = models.DecimalField(max_digits=10, decimal_places=2)
    delivery_address = models.CharField(max_length=300, blank=True)
    # The payment service provider's reference: the shop holds no card data.
    payment_reference = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return self.order_number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=20)
    description = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.sku} x{self.quantity}"


class MarketingPreference(models.Model):
    """One row per change of a channel's consent: the history is the evidence of consent (GDPR Art. 7(1))."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "Text message"
        POST = "post", "Post"
        PHONE = "phone", "Telephone"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="marketing_preferences")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    consent = models.BooleanField()
    changed_at = models.DateTimeField()
    source = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"{self.channel}: {'yes' if self.consent else 'no'}"


class SupportTicket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WAITING = "waiting", "Waiting for the customer"
        CLOSED = "closed", "Closed"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tickets")
    reference = models.CharField(max_length=40, unique=True)
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices)
    channel = models.CharField(max_length=20, default="web")
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.reference


class TicketMessage(models.Model):
    class Author(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Support agent"

    ticket = models.ForeignKey(SupportTicket, on_delete=models.CASCADE, related_name="messages")
    sent_at = models.DateTimeField()
    author = models.CharField(max_length=10, choices=Author.choices)
    # The agent's first name only: other staff's data stays minimal (an access answer may disclose it, Art. 15(4)).
    agent_name = models.CharField(max_length=100, blank=True)
    body = models.TextField()

    def __str__(self) -> str:
        return f"message {self.pk}"


class Event(models.Model):
    """What the website and app observed: page views, sign-ins, the device, the IP address and time zone."""

    class Kind(models.TextChoices):
        PAGE_VIEW = "page_view", "Page view"
        LOGIN = "login", "Sign-in"
        LOGOUT = "logout", "Sign-out"
        SEARCH = "search", "Search"
        ADD_TO_BASKET = "add_to_basket", "Added to basket"
        CHECKOUT = "checkout", "Checkout"
        EMAIL_OPEN = "email_open", "Marketing e-mail opened"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    path = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    device = models.CharField(max_length=20, blank=True)
    time_zone = models.CharField(max_length=40, blank=True)
    session_id = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "occurred_at"], name="democrm_event_customer_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class CustomerInsight(models.Model):
    """What the business inferred about the customer (segment, churn risk, predicted value): in an access answer,
    out of scope for portability (EDPB WP242 rev.01 s.2: inferred and derived data are not "provided")."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="insights")
    computed_at = models.DateTimeField()
    segment = models.CharField(max_length=40)
    churn_risk = models.DecimalField(max_digits=4, decimal_places=3)
    predicted_annual_value = models.DecimalField(max_digits=10, decimal_places=2)
    model_version = models.CharField(max_length=20)

    def __str__(self) -> str:
        return f"insight {self.pk}"


class SupplementaryStatement(models.Model):
    """GDPR Art. 16: where a customer completed incomplete data "by means of providing a supplementary statement",
    the shop keeps the statement with their record (the DSAR portal's rectification stores it here)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="supplementary_statements")
    statement = models.TextField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["received_at"]

    def __str__(self) -> str:
        return f"statement {self.pk}"


class MarketingProfile(models.Model):
    """Profiling for direct marketing: the segment and the propensity score the shop's model computes to choose whom
    to target with which offer. GDPR Art. 21(2)-(3): an objection to direct marketing includes "profiling to the
    extent that it is related to such direct marketing", so it stops here too: ``profiling_stopped`` keeps the
    customer out of every later scoring run and target list (``processing.marketing_profiling_population``), and
    the segment and score computed for marketing are cleared."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="marketing_profile")
    segment = models.CharField(max_length=40, blank=True)
    # The model's estimate (0 to 1) that the customer responds to the next offer.
    offer_propensity = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    model_version = models.CharField(max_length=20, blank=True)
    profiling_stopped = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"marketing profile {self.pk}"


class AdAudienceMember(models.Model):
    """A custom audience: the customer's hashed e-mail address in a list the shop uploads to an advertising
    platform, which matches it to the platform's users to show them the shop's ads. GDPR Art. 21(3): an objection to
    direct marketing sets ``excluded``: the next sync leaves them out of the upload, so the platform removes
    them from the audience, and no later rebuild of the list adds them again (``processing.audience_upload``)."""

    class Audience(models.TextChoices):
        LAPSED = "lapsed_customers", "Lapsed customers (win-back ads)"
        LOOKALIKE_SEED = "lookalike_seed", "Best customers (seed of a lookalike audience)"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="ad_audiences")
    audience = models.CharField(max_length=40, choices=Audience.choices)
    platform = models.CharField(max_length=40, default="Adverta Ads")
    # As ad platforms take it: hex SHA-256 of the trimmed, lower-cased address (a pseudonym, Art. 4(5), not anonymous).
    email_sha256 = models.CharField(max_length=64)
    added_at = models.DateTimeField()
    excluded = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "audience"], name="democrm_audience_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.audience} member {self.pk}"
