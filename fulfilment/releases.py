"""Building the released archive (issue 12, review before release): the compiled answer again, in the same layout as
the compilation's archive, with the review's decisions applied, stored encrypted in the "releases" file store.

GDPR Art. 15(3)-(4): the copy handed over leaves out what was withheld and hides what was redacted behind a marker
naming the ground ("[withheld: Art 15(4)]"); Art. 12(4): its report says, per system, how much was withheld or
redacted and on what ground, and how to complain. Art. 32: streamed and encrypted as it is written, row by row for
an edited table, so neither a table nor the archive is ever whole in memory or on disk in the clear.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from dsar_portal import filestore
from requests_app.locks import request_lock

from . import services
from .models import Release, ReleaseStatus
from .review import ReleasePlan, release_build_enqueue, release_make_available

RELEASES = filestore.FileStore("releases")


def release_build(*, release_id: int) -> Release:
    """Build an approved release's archive once and make it available for ``DSAR_DOWNLOAD_DAYS``. Idempotent: a
    release not preparing (built already, or not approved) is left alone, so running it twice gives one archive."""
    with filestore.atomic():
        release = Release.objects.get(pk=release_id)
        request_lock(release.request_id)
        release = (
            Release.objects.select_for_update(of=("self",)).select_related("compilation__request").get(pk=release_id)
        )
        if release.status != ReleaseStatus.PREPARING:
            return release
        entries, about = services._archive_entries(release.compilation, ReleasePlan(release))
        stored = services.archive_store(entries, {**about, "copy": release.copy_number}, RELEASES)
        release_make_available(
            release=release, stored_name=stored.name, size=stored.size, sha256=stored.sha256, manifest=stored.manifest
        )
    return release


def releases_sweep(*, now: datetime | None = None) -> int:
    """Queue again the build of releases approved but still preparing after ``services.running_timeout()`` (a lost
    message or a killed worker); the build is idempotent, so a slow first run and its replacement give one archive.
    Returns how many were queued."""
    now = now or timezone.now()
    stuck = list(
        Release.objects.filter(
            status=ReleaseStatus.PREPARING, updated_at__lt=now - services.running_timeout()
        ).values_list("pk", flat=True)
    )
    for release_id in stuck:
        transaction.on_commit(lambda release_id=release_id: release_build_enqueue(release_id))
    return len(stuck)
