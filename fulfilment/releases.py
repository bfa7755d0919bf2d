"""Building the released archive (issue 12, review before release): the compiled answer again, in the same layout as
the compilation's archive, with the review's decisions applied, stored encrypted in the "releases" file store.

GDPR Art. 15(3)-(4): the copy handed over leaves out what was withheld and hides what was redacted behind a marker
naming the ground ("[withheld: Art 15(4)]"); Art. 12(4): its report says, per system, how much was withheld or
redacted and on what ground, and how to complain. Art. 32: streamed and encrypted as it is written, row by row for
an edited table, so neither a table nor the archive is ever whole in memory or on disk in the clear.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from dsar_portal import filestore
from requests_app.audit import event_record
from requests_app.locks import request_lock
from requests_app.models import EventKind

from . import services
from .models import Release, ReleaseStatus
from .review import ReleasePlan, ReviewError, release_build_enqueue, release_make_available

logger = logging.getLogger(__name__)

RELEASES = filestore.FileStore("releases")

# What staff read when a build stopped on an error whose text is not known to be free of personal data.
UNEXPECTED = "The build stopped on an unexpected error (see the worker's log)."
# What staff read when the last attempts never finished (a killed worker: no error was recorded).
UNFINISHED = "The build did not finish (the worker stopped)."


def _locked(release_id: int) -> Release:
    """Inside a transaction: the release locked, after its request (requests_app.locks' order)."""
    release = Release.objects.get(pk=release_id)
    request_lock(release.request_id)
    return Release.objects.select_for_update(of=("self",)).select_related("compilation__request").get(pk=release_id)


def _attempt_start(release_id: int) -> bool:
    """Count one build attempt, committed before the build (a build that fails rolls back its own transaction, and
    a killed worker never reaches its end). False when there is nothing to build, or the attempts are used up."""
    with transaction.atomic():
        release = _locked(release_id)
        if release.status != ReleaseStatus.PREPARING or release.build_attempts >= services.max_attempts():
            return False
        release.build_attempts += 1
        release.save(update_fields=["build_attempts", "updated_at"])
    return True


def _error_text(error: Exception) -> str:
    """Staff-facing, without personal data: the file store's own errors name files, never their contents."""
    if isinstance(error, filestore.DecryptionError | OSError):
        return f"{type(error).__name__}: {error}"[:500]
    return UNEXPECTED


def _error_record(release_id: int, message: str) -> None:
    with transaction.atomic():
        release = _locked(release_id)
        if release.status == ReleaseStatus.PREPARING:
            release.build_error = message[:500]
            release.save(update_fields=["build_error", "updated_at"])


def release_build(*, release_id: int) -> Release:
    """Build an approved release's archive once and make it available for ``DSAR_DOWNLOAD_DAYS``. Idempotent: a
    release not preparing (built already, or not approved) is left alone, so running it twice gives one archive.

    Each attempt is counted; one that fails records its error for staff. After ``services.max_attempts()`` the sweep
    stops building it again, and the case page says the archive could not be built, with a "Build again" button
    (``release_build_again``): the person's answer is late otherwise, unseen (GDPR Art. 12(3))."""
    if not _attempt_start(release_id):
        return Release.objects.get(pk=release_id)
    try:
        with filestore.atomic():
            release = _locked(release_id)
            if release.status != ReleaseStatus.PREPARING:
                return release
            entries, about = services._archive_entries(release.compilation, ReleasePlan(release))
            stored = services.archive_store(entries, {**about, "copy": release.copy_number}, RELEASES)
            release.build_error = ""
            release.save(update_fields=["build_error", "updated_at"])
            release_make_available(
                release=release,
                stored_name=stored.name,
                size=stored.size,
                sha256=stored.sha256,
                manifest=stored.manifest,
            )
    except Exception as error:
        logger.exception("release %s: the build stopped on an error", release_id)
        _error_record(release_id, _error_text(error))
        return Release.objects.get(pk=release_id)
    return release


def build_failed(release: Release, *, now: datetime | None = None) -> bool:
    """The released archive could not be built: every attempt is used up, and the last one failed (or was left
    unfinished past ``services.running_timeout()``). The sweep no longer tries; staff may build it again."""
    if release.status != ReleaseStatus.PREPARING or release.build_attempts < services.max_attempts():
        return False
    now = now or timezone.now()
    return bool(release.build_error) or release.updated_at < now - services.running_timeout()


def build_error_of(release: Release) -> str:
    return release.build_error or UNFINISHED


def release_build_again(*, release: Release, actor: AbstractBaseUser) -> bool:
    """Staff build a release again whose build kept failing (a case handler's decision, written to the request's trail
    with who made it): its attempts start again from zero and a build is queued. False when it was not failed
    (queued again already: a second click); raises ReviewError when it is no longer preparing (built meanwhile)."""
    with transaction.atomic():
        locked = _locked(release.pk)
        if locked.status != ReleaseStatus.PREPARING:
            raise ReviewError("This answer is no longer being prepared: it was built meanwhile.")
        if not build_failed(locked):
            return False
        locked.build_attempts = 0
        locked.build_error = ""
        locked.save(update_fields=["build_attempts", "build_error", "updated_at"])
        event_record(
            request_id=locked.request_id,
            kind=EventKind.RELEASE_STATUS_CHANGED,
            actor=actor,
            actor_kind="staff",
            from_status=ReleaseStatus.PREPARING,
            to_status=ReleaseStatus.PREPARING,
            reason=f"Released archive of copy {locked.copy_number}: built again after it could not be built",
        )
        transaction.on_commit(lambda: release_build_enqueue(locked.pk))
    return True


def releases_sweep(*, now: datetime | None = None) -> int:
    """Queue again the build of releases approved but still preparing after ``services.running_timeout()`` (a lost
    message, a killed worker, or a build that failed); the build is idempotent, so a slow first run and its
    replacement give one archive. A release whose attempts are used up (``services.max_attempts()``) is left for
    staff to build again. Returns how many were queued."""
    now = now or timezone.now()
    stuck = list(
        Release.objects.filter(
            status=ReleaseStatus.PREPARING,
            updated_at__lt=now - services.running_timeout(),
            build_attempts__lt=services.max_attempts(),
        ).values_list("pk", flat=True)
    )
    for release_id in stuck:
        transaction.on_commit(lambda release_id=release_id: release_build_enqueue(release_id))
    return len(stuck)
