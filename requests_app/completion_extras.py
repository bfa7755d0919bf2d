"""What apps above the request core add to the completion message, registered when Django starts (``ready``).

The core writes the completion message (``services.request_complete``); an app above it may have something the
person must be told in it, for example the recipients their data was passed to and told of an erasure (GDPR Art. 19,
second sentence, in ``recipientnotices``). Such an app registers a provider here: given the request, it returns
template context for ``requests_app/emails/completion.txt`` (an empty dict when it has nothing). The core never
imports those apps.
"""

from collections.abc import Callable

from .models import DataSubjectRequest

_providers: list[Callable[[DataSubjectRequest], dict]] = []


def completion_extra_register(provider: Callable[[DataSubjectRequest], dict]) -> None:
    """Add ``provider``'s context to every completion message (registering the same function twice keeps one)."""
    if provider not in _providers:
        _providers.append(provider)


def completion_extras(request: DataSubjectRequest) -> dict:
    """The context every registered provider gives for ``request``'s completion message."""
    context: dict = {}
    for provider in _providers:
        context.update(provider(request))
    return context
