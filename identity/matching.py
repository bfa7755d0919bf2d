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


class DemoCustomerMatcher:
    def match(self, *, email: str, identifiers: dict[str, str]) -> MatchResult:
        from .models import DemoCustomer

        addresses = {email_lookup_hash(email)}
        candidates = list(DemoCustomer.objects.filter(email_hash__in=addresses))
        if not candidates:
            return MatchResult(MatchStrength.NONE)
        best: frozenset[str] = frozenset()
        number = normalise_customer_number(identifiers.get("customer_number", ""))
        phone = phone_hash(identifiers.get("phone", ""))
        postcode = postcode_hash(identifiers.get("postcode", "") or identifiers.get("address", ""))
        for customer in candidates:
            matched = set()
            if number and normalise_customer_number(customer.customer_number) == number:
                matched.add("customer_number")
            if phone and customer.phone_hash == phone:
                matched.add("phone")
            if postcode and customer.postcode_hash == postcode:
                matched.add("postcode")
            if len(matched) > len(best):
                best = frozenset(matched)
        if best:
            return MatchResult(MatchStrength.FULL, frozenset({"email", *best}))
        return MatchResult(MatchStrength.PARTIAL, frozenset({"email"}))


def get_matcher() -> CustomerMatcher:
    return import_string(settings.DSAR_CUSTOMER_MATCHER)()
