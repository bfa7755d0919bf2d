"""Complaint references: random like request references, with their own prefix so neither is taken for the other."""

from requests_app.references import new_reference


def new_complaint_reference() -> str:
    """80 random bits in four groups of four, e.g. CMPL-7K3M-Q9TX-W2PA-H4RN."""
    return new_reference(prefix="CMPL")
