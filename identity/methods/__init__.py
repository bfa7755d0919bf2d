"""Ways of proving who a requester is, each a small module behind one interface.

A method offers one assurance level (see AssuranceLevel). When a request's
e-mail is confirmed, the methods named in DSAR_VERIFICATION_METHODS are tried
weakest first, skipping those too weak for what the policy requires; the first
to verify wins, and the first that needs the person (one more detail, a
document) says what to ask for. To add a method, write a class like the ones
here and add its dotted path to the setting.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import MethodOutcome, MethodResult, VerificationMethod

__all__ = ["MethodOutcome", "MethodResult", "VerificationMethod", "method_for_step", "registered_methods"]


def registered_methods() -> list[VerificationMethod]:
    methods = [import_string(path)() for path in settings.DSAR_VERIFICATION_METHODS]
    return sorted(methods, key=lambda method: method.level)


def method_for_step(step: str) -> VerificationMethod:
    for method in registered_methods():
        if method.step == step:
            return method
    raise LookupError(f"no verification method asks for {step!r}")
