"""Matching a requester's details against the organisation's own customer records.

An organisation plugs in its own records by writing a class with a ``match``
method (see ``CustomerMatcher``) and naming it in the DSAR_CUSTOMER_MATCHER
setting, e.g. ``DSAR_CUSTOMER_MATCHER=acme.crm.CrmMatcher``. The portal ships
``DemoCustomerMatcher``, which matches the demo customers in ``DemoCustomer``.

Strength is judged only from the confirmed e-mail address outward: a match is
FULL when that address belongs to a customer and at least one more detail the
person gave (customer number, phone, postcode) belongs to the same customer;
PARTIAL when only the address matches (we ask for one more detail); NONE
otherwise. Details that match someone else's record never count, so the
answer cannot be used to probe for other customers.

When the confirmed address is not in the records, the person may hold data
under other identifiers (LAW.md I1; EDPB Guidelines 01/2022 §3: a copy of an
ID is a last resort). A matcher says which identifiers it can match
(``identifiers_held``) so the portal asks for those before any document; two
of them belonging to one customer are a FULL match without the address.

A matcher also gives the contact address the organisation already holds for
the matched customer (``held_email``): the data subject's confirmation of an
agent goes there and never to an address the agent typed (Art. 5(1)(f)).
"""

import enum
import re
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from dsar_portal.crypto import email_lookup_hash, lookup_hash


class MatchStrength(enum.Enum):
    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"


@dataclass(frozen=True)
class MatchResult:
    strength: MatchStrength
    matched_details: frozenset[str] = field(default_factory=frozenset)


class CustomerMatcher(Protocol):
    def match(self, *, email: str, identifiers: dict[str, str]) -> MatchResult: ...

    def identifiers_held(self) -> tuple[str, ...]:
        """The identifiers (``customer_number``, ``phone``, ``postcode``) this matcher can match."""
        ...

    def held_email(self, *, identifiers: dict[str, str]) -> str:
        """The e-mail address the organisation holds for the customer these identifiers name, or ""."""
        ...


IDENTIFIER_LABELS = {
    "customer_number": "your customer or account number",
    "phone": "the phone number you gave us",
    "postcode": "your postcode",
}


UK_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b")


def normalise_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    # Compare national numbers: +44 7700 900123 and 07700 900123 are one phone.
    return digits[-10:] if len(digits) >= 10 else digits


def normalise_postcode(value: str) -> str:
    found = UK_POSTCODE.search((value or "").upper())
    if found:
        return found.group(1) + found.group(2)
    return re.sub(r"\s", "", (value or "").upper())


def normalise_customer_number(value: str) -> str:
    return re.sub(r"[\s-]", "", (value or "").upper())


def phone_hash(value: str) -> str:
    normalised = normalise_phone(value)
    return lookup_hash(f"phone:{normalised}") if normalised else ""


def postcode_hash(value: str) -> str:
    normalised = normalise_postcode(value)
    return lookup_hash(f"postcode:{normalised}") if normalised else ""


def _matched_details(customer, identifiers: dict[str, str]) -> frozenset[str]:
    number = normalise_customer_number(identifiers.get("customer_number", ""))
    phone = phone_hash(identifiers.get("phone", ""))
    postcode = postcode_hash(identifiers.get("postcode", "") or identifiers.get("address", ""))
    matched = set()
    if number and normalise_customer_number(customer.customer_number) == number:
        matched.add("customer_number")
    if phone and customer.phone_hash == phone:
        matched.add("phone")
    if postcode and customer.postcode_hash == postcode:
        matched.add("postcode")
    return frozenset(matched)


class DemoCustomerMatcher:
    def identifiers_held(self) -> tuple[str, ...]:
        return ("customer_number", "phone", "postcode")

    def match(self, *, email: str, identifiers: dict[str, str]) -> MatchResult:
        from .models import DemoCustomer

        candidates = list(DemoCustomer.objects.filter(email_hash=email_lookup_hash(email)))
        if not candidates:
            # The address is not ours: two identifiers we hold, of one customer, are enough (and one is not, so
            # a single guessed number reveals nothing).
            customer = self._by_identifiers(identifiers)
            if customer is not None:
                matched = _matched_details(customer, identifiers)
                if len(matched) >= 2:
                    return MatchResult(MatchStrength.FULL, matched)
            return MatchResult(MatchStrength.NONE)
        best: frozenset[str] = frozenset()
        for customer in candidates:
            matched = _matched_details(customer, identifiers)
            if len(matched) > len(best):
                best = matched
        if best:
            return MatchResult(MatchStrength.FULL, frozenset({"email", *best}))
        return MatchResult(MatchStrength.PARTIAL, frozenset({"email"}))

    def held_email(self, *, identifiers: dict[str, str]) -> str:
        customer = self._by_identifiers(identifiers)
        if customer is None:
            return ""
        matched = _matched_details(customer, identifiers)
        # A customer number names one customer; a phone or postcode alone may be shared.
        if "customer_number" not in matched and len(matched) < 2:
            return ""
        return customer.contact_email

    def _by_identifiers(self, identifiers: dict[str, str]):
        from .models import DemoCustomer

        # The demo's few customers are compared one by one (customer numbers are compared normalised).
        best, best_count = None, 0
        for customer in DemoCustomer.objects.all():
            count = len(_matched_details(customer, identifiers))
            if count > best_count:
                best, best_count = customer, count
        return best


def get_matcher() -> CustomerMatcher:
    return import_string(settings.DSAR_CUSTOMER_MATCHER)()
