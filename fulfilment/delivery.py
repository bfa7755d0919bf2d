"""Secure delivery of a released answer (issue 12, "Secure delivery"): a fresh one-time code before each download
window, the download streamed (or handed to the front server), every download recorded, expiry that deletes the
archive and keeps its manifest, and further copies.

The rules (LAW.md §6(a), (g)):

- GDPR Art. 12(6), 32: the answer is personal data; it goes only to the person entitled to it (the data subject, or
  the agent the authority decision names), after proof of control of their confirmed e-mail address (a fresh code),
  over a session that ends in minutes, and is encrypted at rest in the portal's file store (one key rotation covers
  it). No secret and no personal data is in a URL: the status page's own access (``requests_app.status_access``)
  opens the page, the code is POSTed, and the download is bound to this browser's session.
- GDPR Art. 15(3): the first copy is free; a further copy may carry a reasonable fee based on administrative costs
  (ICO right of access guidance), told to the person before anything is charged (EDPB Guidelines 01/2022
  para 192). That fee is the Art. 15(3) one only: a portability answer (Art. 20) has no further-copy fee.
- Storage limitation (Art. 5(1)(e)): the archive is deleted when its download window ends; its manifest (file names,
  sizes and hashes, no personal data) is kept as the record of what was given.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dsar_portal import filestore
from dsar_portal.onetime import CodeCheck, new_code, one_time_code_check, secret_hash
from organisation.selectors import organisation_get
from requests_app import deadlines
from requests_app.audit import REQUESTER, STAFF, SYSTEM, actor_kind_of, event_record
from requests_app.correspondence import message_send
from requests_app.lifecycle import IllegalTransition, Lifecycle
from requests_app.locks import request_lock
from requests_app.models import DataSubjectRequest, EventKind, MessageKind, RequesterRole, Right

from .models import (
    Download,
    DownloadCode,
    DownloadMethod,
    FurtherCopy,
    FurtherCopyStatus,
    Release,
    ReleaseRecipient,
    ReleaseStatus,
)
from .release_lifecycle import RELEASE_LIFECYCLE

logger = logging.getLogger(__name__)

RELEASES = filestore.FileStore("releases")
CODE_PURPOSE = "release-download"
SESSION_KEY = "fulfilment.downloads"
# What the person sees of their answer: a release in review is staff's business until it is approved.
VISIBLE_STATUSES = (ReleaseStatus.PREPARING, ReleaseStatus.AVAILABLE, ReleaseStatus.EXPIRED)


class DeliveryError(Exception):
    """A delivery step that cannot be done now; the message is for the person or staff."""


FURTHER_COPY_LIFECYCLE = Lifecycle(
    name="further copy",
    model=FurtherCopy,
    transitions={
        FurtherCopyStatus.ASKED: frozenset(
            {FurtherCopyStatus.FEE_REQUESTED, FurtherCopyStatus.ISSUED, FurtherCopyStatus.DECLINED}
        ),
        FurtherCopyStatus.FEE_REQUESTED: frozenset({FurtherCopyStatus.ISSUED, FurtherCopyStatus.DECLINED}),
        FurtherCopyStatus.ISSUED: frozenset(),
        FurtherCopyStatus.DECLINED: frozenset(),
    },
    event_kind=EventKind.FURTHER_COPY_STATUS_CHANGED,
)


def _minutes(name: str, default: int) -> timedelta:
    return timedelta(minutes=int(getattr(settings, name, default)))


def available_days() -> int:
    """The download window of a copy (issue 12: 14 days by default, ``DSAR_DOWNLOAD_DAYS``)."""
    return int(getattr(settings, "DSAR_DOWNLOAD_DAYS", 14))


# --- Reading --------------------------------------------------------------------------------------------------------


def release_for_person(*, request_id: int) -> Release | None:
    """The copy the status page shows: the newest approved one (being prepared, available or expired)."""
    return (
        Release.objects.filter(request_id=request_id, status__in=VISIBLE_STATUSES)
        .order_by("-copy_number", "-pk")
        .first()
    )


def release_downloadable(release: Release | None, *, now: datetime | None = None) -> bool:
    """Available, inside its window, and its archive still stored."""
    now = now or timezone.now()
    return (
        release is not None
        and release.status == ReleaseStatus.AVAILABLE
        and release.expires_at is not None
        and release.expires_at > now
        and bool(release.archive_name)
        and release.archive_deleted_at is None
    )


def release_expired(release: Release | None, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    if release is None:
        return False
    return release.status == ReleaseStatus.EXPIRED or (
        release.status == ReleaseStatus.AVAILABLE and release.expires_at is not None and release.expires_at <= now
    )


def recipient_email(release: Release, request: DataSubjectRequest | None = None) -> str:
    """The confirmed address of whoever receives this copy: the agent's own (the address they filed with and
    confirmed), or the data subject's (their own request, or the subject's address an agent's request gave)."""
    request = request or release.request
    if release.recipient == ReleaseRecipient.AGENT:
        return request.requester_email
    if request.requester_role == RequesterRole.AGENT and request.subject_email:
        return request.subject_email
    return request.requester_email


def further_copy_open(*, source: Release) -> FurtherCopy | None:
    return (
        FurtherCopy.objects.filter(source=source, status__in=[FurtherCopyStatus.ASKED, FurtherCopyStatus.FEE_REQUESTED])
        .order_by("-pk")
        .first()
    )


# --- The download code ----------------------------------------------------------------------------------------------


def download_code_request(*, release: Release) -> DownloadCode | None:
    """Ask for a fresh code for ``release``, e-mailed by a task once this commits; None when one was asked for less
    than ``DSAR_DOWNLOAD_CODE_RESEND_SECONDS`` ago (the rate limits per browser and per request are the view's).

    The row is made without a code: the task makes the code, stores its keyed hash and e-mails it, so the code is in
    no broker message and no row (Art. 32). Earlier codes of the release are retired.
    """
    now = timezone.now()
    wait = timedelta(seconds=int(getattr(settings, "DSAR_DOWNLOAD_CODE_RESEND_SECONDS", 60)))
    with transaction.atomic():
        request_lock(release.request_id)
        latest = DownloadCode.objects.filter(release=release).order_by("-created_at", "-pk").first()
        if latest is not None and now - latest.created_at < wait:
            return None
        DownloadCode.objects.filter(release=release, used_at=None, retired_at=None).update(retired_at=now)
        code = DownloadCode.objects.create(
            release=release,
            code_hash="",
            expires_at=now + _minutes("DSAR_DOWNLOAD_CODE_TTL_MINUTES", 15),
        )
        transaction.on_commit(lambda: _enqueue_code(code.pk))
    return code


def _enqueue_code(code_id: int) -> None:
    from . import tasks

    try:
        tasks.send_download_code.delay(code_id)
    except Exception as error:  # noqa: BLE001 - the person asks again; nothing is lost
        logger.error("download code %s not queued (%s)", code_id, type(error).__name__)


def download_code_send(*, code_id: int) -> bool:
    """Make the code, store its keyed hash and e-mail it to the release's recipient. Idempotent: a code already sent,
    used or retired is not sent again (a retry after a failed send makes a new code, as the old one was never seen).
    """
    code = new_code()
    with transaction.atomic():
        row = (
            DownloadCode.objects.select_for_update(of=("self",))
            .select_related("release__request")
            .filter(pk=code_id, sent_at=None, used_at=None, retired_at=None)
            .first()
        )
        if row is None or row.expires_at <= timezone.now():
            return False
        row.code_hash = secret_hash(code, purpose=CODE_PURPOSE)
        row.save(update_fields=["code_hash"])
    release = row.release
    request = release.request
    organisation = organisation_get()
    with translation.override(request.language or settings.LANGUAGE_CODE):
        subject = _("Your code to download your answer (%(reference)s)") % {"reference": request.reference}
        body = render_to_string(
            "fulfilment/emails/delivery_code.txt",
            {
                "request": request,
                "organisation": organisation,
                "code": code,
                "ttl_minutes": int(getattr(settings, "DSAR_DOWNLOAD_CODE_TTL_MINUTES", 15)),
                "window_minutes": int(getattr(settings, "DSAR_DOWNLOAD_WINDOW_MINUTES", 10)),
            },
        ).strip()
    EmailMessage(subject=subject, body=body, to=[recipient_email(release, request)]).send()
    with transaction.atomic():
        DownloadCode.objects.filter(pk=code_id).update(sent_at=timezone.now())
        event_record(
            request_id=request.pk,
            kind=EventKind.DOWNLOAD_CODE_SENT,
            actor_kind=SYSTEM,
            reason=f"Download code sent for copy {release.copy_number} ({release.get_recipient_display()})",
        )
    logger.info("download code %s of release %s sent", code_id, release.pk)
    return True


def download_code_check(*, release: Release, code: str) -> CodeCheck:
    """Check a typed code against the release's live code: single use, ``DSAR_DOWNLOAD_CODE_MAX_ATTEMPTS`` tries,
    expiring after ``DSAR_DOWNLOAD_CODE_TTL_MINUTES``. A wrong code is written to the request's trail."""
    result = one_time_code_check(
        DownloadCode.objects.filter(release=release),
        code,
        purpose=CODE_PURPOSE,
        max_attempts=int(getattr(settings, "DSAR_DOWNLOAD_CODE_MAX_ATTEMPTS", 5)),
    )
    if result is CodeCheck.WRONG:
        event_record(request_id=release.request_id, kind=EventKind.DOWNLOAD_CODE_FAILED, actor_kind=REQUESTER)
    return result


# --- The download window of this browser's session ------------------------------------------------------------------


def download_unlock(session, release: Release, *, now: datetime | None = None) -> datetime:
    """After a right code: this session may download ``release`` for ``DSAR_DOWNLOAD_WINDOW_MINUTES``."""
    now = now or timezone.now()
    until = now + _minutes("DSAR_DOWNLOAD_WINDOW_MINUTES", 10)
    windows = {key: value for key, value in session.get(SESSION_KEY, {}).items() if value > now.timestamp()}
    windows[str(release.pk)] = until.timestamp()
    session[SESSION_KEY] = windows
    # A fresh session key after proof of control, as after a sign-in (no fixation of a session given earlier).
    session.cycle_key()
    return until


def download_window_until(session, release: Release, *, now: datetime | None = None) -> datetime | None:
    """Until when this session may download ``release``; None when it needs a (new) code."""
    now = now or timezone.now()
    value = session.get(SESSION_KEY, {}).get(str(release.pk))
    if value is None or value <= now.timestamp():
        return None
    return datetime.fromtimestamp(value, tz=now.tzinfo or timezone.get_current_timezone())


# --- The download ---------------------------------------------------------------------------------------------------


def _user_agent_hash(user_agent: str) -> str:
    if not user_agent:
        return ""
    key = hashlib.sha256(b"download-user-agent:" + settings.FIELD_HASH_KEY).digest()
    return hmac.new(key, user_agent.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:16]


def download_filename(release: Release) -> str:
    """A neutral name: the reference only (it names no person)."""
    suffix = f"-copy-{release.copy_number}" if release.copy_number > 1 else ""
    return f"answer-{release.request.reference}{suffix}.zip"


def download_record(*, release: Release, method: str = DownloadMethod.STREAM, user_agent: str = "") -> Download:
    """Record one download of ``release`` in its own table and in the request's trail (GDPR Art. 5(2))."""
    by = release.recipient
    with transaction.atomic():
        download = Download.objects.create(
            release=release,
            request_id=release.request_id,
            at=timezone.now(),
            by=by,
            bytes=release.archive_bytes or 0,
            method=method,
            user_agent_hash=_user_agent_hash(user_agent),
        )
        event_record(
            request_id=release.request_id,
            kind=EventKind.ANSWER_DOWNLOADED,
            actor_kind=REQUESTER,
            reason=f"Copy {release.copy_number} downloaded by {ReleaseRecipient(by).label.lower()} "
            f"({release.archive_bytes or 0} bytes)",
        )
    return download


def accel_folder() -> Path:
    return Path(settings.DSAR_DOWNLOAD_ACCEL_DIR)


def accel_prepare(release: Release) -> str:
    """Decrypt the archive into a short-lived file of the private folder the front server serves from (outside any
    web root; mode 0640, so the front server reads it through a group it shares with the portal, and nobody else),
    for an X-Accel-Redirect; returns its random name. The sweep deletes it after ``DSAR_DOWNLOAD_ACCEL_TTL_MINUTES``."""
    folder = accel_folder()
    folder.mkdir(mode=0o750, parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(24)}.zip"
    temp = folder / f".part-{name}"
    try:
        with (
            RELEASES.open(release.archive_name) as reader,
            open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640), "wb") as out,
        ):
            shutil.copyfileobj(reader, out, filestore.CHUNK_SIZE)
        os.replace(temp, folder / name)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return name


def accel_sweep(*, now: float | None = None) -> int:
    """Delete the X-Accel files older than ``DSAR_DOWNLOAD_ACCEL_TTL_MINUTES``; safe to run any number of times."""
    cutoff = (now or time.time()) - _minutes("DSAR_DOWNLOAD_ACCEL_TTL_MINUTES", 5).total_seconds()
    removed = 0
    try:
        entries = list(os.scandir(accel_folder()))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue
    return removed


# --- Expiry ---------------------------------------------------------------------------------------------------------


def releases_expire(*, now: datetime | None = None) -> int:
    """Releases past their download window: archive deleted, ``archive_deleted_at`` set, manifest kept, moved to
    EXPIRED (Art. 5(1)(e)). Idempotent: a release whose move failed after its file went is finished next time.
    Returns how many releases were expired or cleaned."""
    now = now or timezone.now()
    due = Release.objects.filter(
        Q(status=ReleaseStatus.AVAILABLE, expires_at__lte=now)
        | Q(status=ReleaseStatus.EXPIRED, archive_deleted_at=None)
    ).order_by("pk")
    done = 0
    for release in due.iterator():
        if release.archive_name:
            RELEASES.delete(release.archive_name)
        changes = {"archive_deleted_at": now}
        if release.status == ReleaseStatus.AVAILABLE:
            try:
                RELEASE_LIFECYCLE.move(
                    release,
                    ReleaseStatus.EXPIRED,
                    actor_kind=SYSTEM,
                    reason=f"Copy {release.copy_number}: the download window ended; archive deleted, manifest kept",
                    changes=changes,
                )
            except IllegalTransition:
                continue
        else:
            Release.objects.filter(pk=release.pk, archive_deleted_at=None).update(archive_deleted_at=now)
        done += 1
    return done


def expiry_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic job: expired releases, X-Accel files handed over, and release files no row names (a crash
    between writing one and committing its row; a day's grace, longer than any build)."""
    now = now or timezone.now()
    orphans = RELEASES.sweep(
        older_than=now - timedelta(days=1),
        referenced=lambda names: set(
            Release.objects.filter(archive_name__in=names).values_list("archive_name", flat=True)
        ),
    )
    return {
        "releases_expired": releases_expire(now=now),
        "accel_files_removed": accel_sweep(),
        "orphan_release_files_removed": orphans,
    }


# --- Further copies (GDPR Art. 15(3)) -------------------------------------------------------------------------------


def further_copy_ask(*, request: DataSubjectRequest, source: Release, asked_by: str) -> FurtherCopy:
    """The person asks, from the status page, for a further copy of an answer already released to them. Staff see it
    on the case page and issue it free or ask for a reasonable fee first (Art. 15(3)). Asking twice keeps one."""
    if source.status not in (ReleaseStatus.AVAILABLE, ReleaseStatus.EXPIRED) or source.request_id != request.pk:
        raise DeliveryError(_("There is no copy of your answer yet to ask again for."))
    with transaction.atomic():
        request_lock(request.pk)
        existing = further_copy_open(source=source)
        if existing is not None:
            return existing
        if Release.objects.filter(compilation=source.compilation, copy_number__gt=source.copy_number).exists():
            raise DeliveryError(_("A further copy is already being prepared for you."))
        further = FurtherCopy.objects.create(request=request, source=source, asked_at=timezone.now(), asked_by=asked_by)
        event_record(
            request_id=request.pk,
            kind=EventKind.FURTHER_COPY_STATUS_CHANGED,
            actor_kind=REQUESTER,
            to_status=FurtherCopyStatus.ASKED,
            reason=f"Further copy of copy {source.copy_number} asked for (Art. 15(3))",
        )
    return further


def _fee_amount(amount: Decimal | str) -> Decimal:
    try:
        amount = Decimal(str(amount))
    except InvalidOperation:
        raise DeliveryError(_("Give the fee as an amount of money.")) from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise DeliveryError(_("Give the fee as an amount of money greater than nothing."))
    return amount


def further_copy_fee_request(
    *, further: FurtherCopy, actor: AbstractBaseUser, amount: Decimal | str, reasons: str
) -> FurtherCopy:
    """Tell the person, before anything is charged, that the further copy waits for a fee, how much and why.

    GDPR Art. 15(3): for any further copy a reasonable fee based on administrative costs; the first copy is always
    free (the source here is a copy already released, so this is never the first). Only the right of access has it:
    a portability answer (Art. 20) is issued free. The person is told first and may decline (EDPB Guidelines 01/2022
    para 192). The request's own clock is not touched: it was answered already.
    """
    if further.request.right != Right.ACCESS:
        raise DeliveryError(_("Only a further copy under the right of access can carry a fee (GDPR Art. 15(3))."))
    if not reasons.strip():
        raise DeliveryError(_("A fee needs reasons, which we send to the person."))
    amount = _fee_amount(amount)
    request = further.request
    currency = "GBP" if deadlines.is_uk(request.jurisdiction) else "EUR"
    with transaction.atomic():
        try:
            move = FURTHER_COPY_LIFECYCLE.move(
                further,
                FurtherCopyStatus.FEE_REQUESTED,
                actor=actor,
                actor_kind=STAFF,
                reason=f"{amount} {currency}\n{reasons.strip()}",
                changes={
                    "fee_amount": amount,
                    "fee_currency": currency,
                    "fee_requested_at": timezone.now(),
                    "decided_by": actor,
                },
            )
        except IllegalTransition:
            raise DeliveryError(_("This further copy was issued or closed meanwhile.")) from None
        if move.changed:
            message_send(
                request,
                MessageKind.FURTHER_COPY_FEE,
                {"amount": amount, "currency": currency, "reasons": reasons.strip()},
            )
    return further


def further_copy_fee_paid(*, further: FurtherCopy, actor: AbstractBaseUser, paid_on: date, reference: str) -> Release:
    """The fee was paid: record it, and issue the copy."""
    if not reference.strip():
        raise DeliveryError(_("Give the payment's reference, for the record."))
    with transaction.atomic():
        request_lock(further.request_id)
        further.refresh_from_db()
        if further.status != FurtherCopyStatus.FEE_REQUESTED:
            raise DeliveryError(_("This further copy is not waiting for a fee."))
        if paid_on < timezone.localdate(further.fee_requested_at):
            raise DeliveryError(_("A payment cannot come before the fee was asked for."))
        FurtherCopy.objects.filter(pk=further.pk).update(fee_paid_on=paid_on, payment_reference=reference.strip()[:100])
        further.refresh_from_db()
        return _further_copy_issue(
            further,
            actor=actor,
            reason=f"Fee of {further.fee_amount} {further.fee_currency} paid on {paid_on.isoformat()}; "
            f"reference {further.payment_reference}",
        )


def further_copy_issue_free(*, further: FurtherCopy, actor: AbstractBaseUser, reasons: str = "") -> Release:
    """Issue the further copy without a fee (or drop a fee asked for)."""
    with transaction.atomic():
        return _further_copy_issue(further, actor=actor, reason=reasons.strip() or "Issued free of charge")


def further_copy_decline(*, further: FurtherCopy, actor: AbstractBaseUser, reasons: str) -> FurtherCopy:
    """Close a further copy without issuing it (the person withdrew it, or never paid the fee asked for)."""
    if not reasons.strip():
        raise DeliveryError(_("Say why no copy is issued."))
    try:
        FURTHER_COPY_LIFECYCLE.move(
            further, FurtherCopyStatus.DECLINED, actor=actor, actor_kind=STAFF, reason=reasons.strip()
        )
    except IllegalTransition:
        raise DeliveryError(_("This further copy was issued or closed meanwhile.")) from None
    return further


def _further_copy_issue(further: FurtherCopy, *, actor: AbstractBaseUser | None, reason: str) -> Release:
    try:
        move = FURTHER_COPY_LIFECYCLE.move(
            further,
            FurtherCopyStatus.ISSUED,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            reason=reason,
            changes={"issued_at": timezone.now(), "decided_by": actor},
        )
    except IllegalTransition:
        raise DeliveryError(_("This further copy was issued or closed meanwhile.")) from None
    if not move.changed and further.release_id:
        return further.release
    release = release_further_copy(source=further.source, actor=actor)
    FurtherCopy.objects.filter(pk=further.pk).update(release=release)
    further.release = release
    return release


# The review work's builder of a released archive, for a further copy whose source archive was deleted (expired).
# It is called with the new release's id once the issuing transaction commits, and must build the release's
# archive again from ``release.compilation`` with the review decisions of the copy it repeats (the withheld items
# and redactions of the source release, the one with ``copy_number`` one less), write it to ``RELEASES`` and move
# the release PREPARING -> AVAILABLE through ``RELEASE_LIFECYCLE`` with archive_name, archive_bytes, archive_sha256,
# manifest, available_at and expires_at (now + ``available_days()``), then call ``release_available_notify``.
_release_builders: list[Callable[[int], None]] = []


def release_builder_register(builder: Callable[[int], None]) -> None:
    """The review work registers its archive builder here (see the comment above); one is kept."""
    _release_builders[:] = [builder]


def release_further_copy(*, source: Release, actor: AbstractBaseUser | None = None) -> Release:
    """A new ``Release`` (``copy_number`` + 1) of the same reviewed content as ``source`` (GDPR Art. 15(3)).

    While the source archive is still stored, it is re-encrypted into a new file of its own (a new name; the
    plaintext is the same, so the same hash and manifest) and the copy is available at once, for a new window. Once
    it was deleted, the copy waits in PREPARING for the review work's builder (``release_builder_register``).
    """
    now = timezone.now()
    with transaction.atomic():
        request_lock(source.request_id)
        number = (
            Release.objects.filter(compilation=source.compilation).aggregate(top=Max("copy_number"))["top"] or 0
        ) + 1
        release = Release.objects.create(
            compilation=source.compilation,
            request_id=source.request_id,
            copy_number=number,
            status=ReleaseStatus.PREPARING,
            recipient=source.recipient,
            approved_by=source.approved_by,
            approved_at=source.approved_at,
            second_approved_by=source.second_approved_by,
            second_approved_at=source.second_approved_at,
            manifest=source.manifest,
        )
        event_record(
            request_id=source.request_id,
            kind=EventKind.RELEASE_STATUS_CHANGED,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            to_status=ReleaseStatus.PREPARING,
            reason=f"Copy {number}: a further copy of copy {source.copy_number} (Art. 15(3))",
        )
        if source.archive_name and source.archive_deleted_at is None and RELEASES.exists(source.archive_name):
            with RELEASES.open(source.archive_name) as reader:
                stored = RELEASES.save(reader, suffix=".zip")
            RELEASE_LIFECYCLE.move(
                release,
                ReleaseStatus.AVAILABLE,
                actor=actor,
                actor_kind=actor_kind_of(actor),
                reason=f"Copy {number}: re-encrypted from copy {source.copy_number}",
                changes={
                    "archive_name": stored.name,
                    "archive_bytes": stored.size,
                    "archive_sha256": source.archive_sha256,
                    "available_at": now,
                    "expires_at": now + timedelta(days=available_days()),
                },
            )
            release_available_notify(release)
        else:
            for builder in _release_builders:
                transaction.on_commit(lambda builder=builder, release_id=release.pk: builder(release_id))
            if not _release_builders:
                logger.warning("release %s waits for an archive builder (none registered)", release.pk)
    return release


def release_available_notify(release: Release) -> None:
    """Tell the recipient their answer is ready, on the status page and by e-mail (with the status page's link; the
    download itself needs a fresh code)."""
    request = release.request
    message_send(request, MessageKind.ANSWER_READY, {"release": release, "expires_at": release.expires_at})


@dataclass(frozen=True)
class DeliveryView:
    """What the status page shows of the answer."""

    release: Release | None
    downloadable: bool
    expired: bool
    window_until: datetime | None
    further_copy: FurtherCopy | None
    can_ask_further_copy: bool


def delivery_view(*, request: DataSubjectRequest, session, now: datetime | None = None) -> DeliveryView:
    now = now or timezone.now()
    release = release_for_person(request_id=request.pk)
    downloadable = release_downloadable(release, now=now)
    further = None
    asked_for = False
    if release is not None:
        further = FurtherCopy.objects.filter(request=request).order_by("-pk").first()
        asked_for = further is not None and further.status in (
            FurtherCopyStatus.ASKED,
            FurtherCopyStatus.FEE_REQUESTED,
        )
    return DeliveryView(
        release=release,
        downloadable=downloadable,
        expired=release_expired(release, now=now),
        window_until=download_window_until(session, release, now=now) if downloadable else None,
        further_copy=further,
        can_ask_further_copy=release is not None
        and release.status in (ReleaseStatus.AVAILABLE, ReleaseStatus.EXPIRED)
        and not asked_for,
    )
