"""Request references: random, readable aloud, typed back without confusion."""

import secrets

# Crockford's base32 without I, L, O, U: easy to read aloud and to type back.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference(prefix: str = "DSAR") -> str:
    """80 random bits in four groups of four after ``prefix``, e.g. DSAR-7K3M-Q9TX-W2PA-H4RN."""
    bits = int.from_bytes(secrets.token_bytes(10))
    characters = "".join(REFERENCE_ALPHABET[(bits >> shift) & 31] for shift in range(0, 80, 5))
    return f"{prefix}-" + "-".join(characters[i : i + 4] for i in range(0, 16, 4))


def normalise_reference(value: str) -> str:
    """A reference as typed by a person (any case, spaces, O for 0, I or L for 1) in its stored form."""
    cleaned = "".join(ch for ch in value.upper() if ch.isalnum())
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if cleaned.startswith("DSAR"):
        cleaned = cleaned[4:]
    return "DSAR-" + "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))
