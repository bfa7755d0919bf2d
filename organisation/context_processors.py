from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import organisation_get


def organisation(request: HttpRequest) -> dict:
    # Lazy: pages that never show the footer cost no query.
    return {"organisation": SimpleLazyObject(organisation_get)}
