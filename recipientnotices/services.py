"""Telling the recipients of the person's data about a change (GDPR Art. 19); the recipients helper builds this app."""

from django.contrib.auth.models import AbstractBaseUser


def notices_plan(
    *, request_id: int, system_ids: list[int], change_kind: str, actor: AbstractBaseUser | None = None
) -> list:
    """Plan one notice per recipient of the systems changed (Art. 19); none planned in this version of the app."""
    return []
