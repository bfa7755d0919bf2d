"""Notes that apps above agents add to the agent's dashboard, registered when Django starts (``AppConfig.ready``).

The dashboard lists the requests an agent filed; an app built above (the released answer waiting for the agent to
download it, in ``fulfilment``) adds a short note per request here, so agents never imports that app (the same
pattern as ``requests_app.status_page``'s panels).
"""

from collections.abc import Callable

from requests_app.models import DataSubjectRequest

# (the agent's requests) -> {request id: a short note, already translated}
NotesSource = Callable[[list[DataSubjectRequest]], dict[int, str]]

_sources: list[NotesSource] = []


def dashboard_notes_register(source: NotesSource) -> None:
    """Add ``source``'s notes to the dashboard (registering the same function twice keeps one)."""
    if source not in _sources:
        _sources.append(source)


def dashboard_notes(requests: list[DataSubjectRequest]) -> dict[int, list[str]]:
    notes: dict[int, list[str]] = {}
    for source in _sources:
        for request_id, note in source(requests).items():
            notes.setdefault(request_id, []).append(note)
    return notes
