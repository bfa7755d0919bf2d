"""Complaint references: random like request references, with their own prefix so neither is taken for the other."""

import secrets

from requests_app.references import REFERENCE_ALPHABET


def new_complaint_reference() -> str:
    """80 random bits in four groups of four, e.g. CMPL-7K3M-Q9TX-W2PA-H4RN."""
    bits = int.from_bytes(secrets.token_bytes(10))
    characters = "".join(REFERENCE_ALPHABET[(bits >> shift) & 31] for shift in range(0, 80, 5))
    return "CMPL-" + "-".join(characters[i : i + 4] for i in range(0, 16, 4))
