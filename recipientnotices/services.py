"""Telling recipients of a rectification, erasure or restriction (GDPR Art. 19), and telling the person who they are.

Art. 19, first sentence: the controller communicates any rectification or erasure (Art. 16, 17(1)) or restriction
(Art. 18) to each recipient to whom the personal data have been disclosed, unless this proves impossible or involves
disproportionate effort. Second sentence: it informs the person about those recipients if the person requests it.

- ``notices_plan`` makes one notice per recipient the register names for the systems changed (``SystemRecipient``),
  once per request, recipient and kind of change, and queues the sending after commit.
- ``notice_send`` (the Celery task's body) sends one notice by e-mail or by a signed HTTP request; a repeat after it
  was sent is a no-op. Transient failures are counted and retried with backoff; after ``max_attempts`` the notice
  fails for staff, who may send it again (``notice_retry``). A letter is printed by staff and recorded as posted
  (``notice_mark_posted``).
- Staff record the recipient's answer (``notice_acknowledge``) or, before anything was sent, the "impossible or
  disproportionate effort" judgement with its reason (``notice_judge_disproportionate``).

Every move goes through ``NOTICE_LIFECYCLE`` and is written to the request's audit trail. Nothing personal is logged.
"""

from __future__ import annotations

import json
import logging
import os
import re
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from datasystems import webhooks
from datasystems.connectors.changes import ChangeKind
from datasystems.models import ENV_NAME_RE, NotifyBy, Recipient, SystemRecipient
from fulfilment.services import identifiers_of
from organisation.selectors import organisation_get
from requests_app.audit import event_record
from requests_app.lifecycle import Lifecycle
from requests_app.locks import request_lock
from requests_app.models import DataSubjectRequest, EventKind, Right
from requests_app.scope import scope_of

from .models import NoticeStatus, RecipientNotice

logger = logging.getLogger(__name__)

NOTICE_TYPE = "dsar.recipient_notice"

# The kinds of change Art. 19 covers: rectification (Art. 16), erasure (Art. 17(1)) and restriction (Art. 18), and
# the lifting of a restriction (Art. 18(3)), which recipients told of the restriction must also learn of.
NOTIFIED_KINDS = frozenset({ChangeKind.ERASE, ChangeKind.RECTIFY, ChangeKind.RESTRICT, ChangeKind.LIFT_RESTRICTION})

NOTICE_LIFECYCLE = Lifecycle(
    name="recipient notice",
    model=RecipientNotice,
    transitions={
        NoticeStatus.PLANNED: frozenset(
            {NoticeStatus.SENT, NoticeStatus.FAILED, NoticeStatus.NOT_SENT_DISPROPORTIONATE}
        ),
        NoticeStatus.SENT: frozenset({NoticeStatus.ACKNOWLEDGED}),
        # Staff send again, or judge that telling this recipient is impossible after all (it was never sent).
        NoticeStatus.FAILED: frozenset({NoticeStatus.PLANNED, NoticeStatus.NOT_SENT_DISPROPORTIONATE}),
        NoticeStatus.ACKNOWLEDGED: frozenset(),
        NoticeStatus.NOT_SENT_DISPROPORTIONATE: frozenset(),
    },
    event_kind=EventKind.RECIPIENT_NOTICE_CHANGED,
)


class NoticeError(Exception):
    """An action the rules refuse; the message is for staff (no personal data, no secret)."""


class NoticeTemporaryError(Exception):
    """The mail server or the recipient's endpoint could not take the notice now: the task retries with backoff."""


def max_attempts() -> int:
    """How many attempts before a notice fails and waits for staff."""
    return int(getattr(settings, "DSAR_RECIPIENT_NOTICE_MAX_ATTEMPTS", 5))


# --- Planning ------------------------------------------------------------------------------------------------------

KIND_WORDS = {
    ChangeKind.ERASE: gettext_lazy("erased"),
    ChangeKind.RECTIFY: gettext_lazy("rectified (corrected or completed)"),
    ChangeKind.RESTRICT: gettext_lazy("restricted: it is to be kept but not otherwise used"),
    ChangeKind.LIFT_RESTRICTION: gettext_lazy("no longer restricted"),
}
KIND_TITLE = {
    ChangeKind.ERASE: gettext_lazy("erasure"),
    ChangeKind.RECTIFY: gettext_lazy("rectification"),
    ChangeKind.RESTRICT: gettext_lazy("restriction"),
    ChangeKind.LIFT_RESTRICTION: gettext_lazy("restriction lifted"),
}
KIND_ARTICLE = {
    ChangeKind.ERASE: "Article 17",
    ChangeKind.RECTIFY: "Article 16",
    ChangeKind.RESTRICT: "Article 18",
    ChangeKind.LIFT_RESTRICTION: "Article 18(3)",
}


def what_changed_words(change_kind: str, disclosures: list[tuple[str, str]]) -> str:
    """What changed, in words, for one recipient: the systems and what the recipient receives from each, never the
    data themselves (the recipient learns nothing about the person it did not receive already)."""
    kind = ChangeKind(change_kind)
    lines = [
        _(
            "At the person's request (%(article)s GDPR) their personal data in the systems below has been "
            "%(done)s. Please do the same with the copy you received from us (Article 19 GDPR)."
        )
        % {"article": KIND_ARTICLE[kind], "done": KIND_WORDS[kind]}
    ]
    lines += [f"- {system}: {disclosed}" for system, disclosed in disclosures]
    return "\n".join(lines)


def _identifiers(request: DataSubjectRequest) -> dict[str, str]:
    found = identifiers_of(request)
    return {key: value for key in ("email", "phone", "customer_id") if (value := found.get(key))}


def notices_plan(
    *, request_id: int, system_ids: list[int], change_kind: str, actor: AbstractBaseUser | None = None
) -> list[RecipientNotice]:
    """One notice per recipient the register names for ``system_ids`` (GDPR Art. 19, first sentence), for one kind
    of change; sending is queued after commit. Idempotent: a notice already planned for this request, recipient and
    kind is the one returned (a still-planned one gains any newly named system)."""
    if change_kind not in NOTIFIED_KINDS:
        raise ValueError(f"Article 19 covers rectification, erasure and restriction, not {change_kind!r}.")
    links = list(
        SystemRecipient.objects.filter(system_id__in=system_ids)
        .select_related("system", "recipient")
        .order_by("recipient__name", "system__name")
    )
    by_recipient: dict[int, list[SystemRecipient]] = {}
    for link in links:
        by_recipient.setdefault(link.recipient_id, []).append(link)
    notices = []
    to_send = []
    with transaction.atomic():
        request = request_lock(request_id)
        identifiers = _identifiers(request)
        for recipient_links in by_recipient.values():
            recipient = recipient_links[0].recipient
            notice = RecipientNotice.objects.filter(
                request=request, recipient=recipient, change_kind=change_kind
            ).first()
            if notice is None:
                notice = _notice_create(request, recipient, change_kind, recipient_links, identifiers, actor)
                if notice.method != NotifyBy.POST:
                    to_send.append(notice.pk)
            elif notice.status == NoticeStatus.PLANNED:
                known = set(notice.systems.values_list("pk", flat=True))
                new = [link for link in recipient_links if link.system_id not in known]
                if new:
                    notice.systems.add(*[link.system for link in new])
                    every = SystemRecipient.objects.filter(
                        recipient=recipient, system__in=notice.systems.all()
                    ).select_related("system")
                    notice.what_changed = what_changed_words(
                        change_kind, [(link.system.name, link.disclosed) for link in every]
                    )
                    notice.save(update_fields=["what_changed", "updated_at"])
            notices.append(notice)
    if to_send:
        transaction.on_commit(lambda: _enqueue(to_send))
    return notices


def _notice_create(
    request: DataSubjectRequest,
    recipient: Recipient,
    change_kind: str,
    links: list[SystemRecipient],
    identifiers: dict[str, str],
    actor: AbstractBaseUser | None,
) -> RecipientNotice:
    notice = RecipientNotice.objects.create(
        request=request,
        recipient=recipient,
        change_kind=change_kind,
        what_changed=what_changed_words(change_kind, [(link.system.name, link.disclosed) for link in links]),
        identifiers=identifiers,
        method=recipient.notify_by,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    notice.systems.add(*[link.system for link in links])
    event_record(
        request_id=request.pk,
        kind=EventKind.RECIPIENT_NOTICE_CHANGED,
        actor=actor,
        actor_kind="staff" if actor is not None and actor.is_authenticated else "system",
        reason=f"Notice to {recipient.name} planned ({change_kind}, by {recipient.notify_by})",
        to_status=NoticeStatus.PLANNED,
    )
    return notice


def _enqueue(notice_ids: list[int]) -> None:
    from . import tasks

    for notice_id in notice_ids:
        try:
            tasks.send_recipient_notice.delay(notice_id)
        except Exception as error:  # noqa: BLE001 - the sweep sends planned notices later
            logger.warning("recipient notice %s not queued now (%s)", notice_id, type(error).__name__)


# --- Sending -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    http_status: int | None = None
    error: str = ""
    temporary: bool = False


def _context(notice: RecipientNotice) -> dict:
    words = {"email": _("E-mail address"), "phone": _("Telephone"), "customer_id": _("Customer number")}
    return {
        "notice": notice,
        "organisation": organisation_get(),
        "identifiers": [(words.get(key, key), value) for key, value in sorted(notice.identifiers.items())],
        "change_title": KIND_TITLE.get(notice.change_kind, notice.change_kind),
    }


def notice_email(notice: RecipientNotice) -> tuple[str, str]:
    """Subject and body of the e-mail: the opaque notice id, never the request's reference."""
    context = _context(notice)
    subject = " ".join(render_to_string("recipientnotices/notice_email_subject.txt", context).split())
    return subject, render_to_string("recipientnotices/notice_email.txt", context)


def notice_letter(notice: RecipientNotice) -> str:
    """The letter staff print and post (the same words as the e-mail)."""
    return render_to_string("recipientnotices/notice_letter.txt", _context(notice))


def notice_payload(notice: RecipientNotice, *, at: datetime) -> bytes:
    """The signed HTTP notice: the opaque id, the identifiers, the kind of change and the systems it was made in."""
    return json.dumps(
        {
            "type": NOTICE_TYPE,
            "id": str(notice.public_id),
            "identifiers": notice.identifiers,
            "change_kind": notice.change_kind,
            "systems": sorted(notice.systems.values_list("name", flat=True)),
            "at": at.isoformat(),
        },
        ensure_ascii=False,
    ).encode()


def _send_email(notice: RecipientNotice) -> Outcome:
    if not notice.recipient.email:
        return Outcome(False, error="The recipient has no contact e-mail in the register.")
    subject, body = notice_email(notice)
    try:
        EmailMessage(subject=subject, body=body, to=[notice.recipient.email]).send()
    except OSError as error:  # smtplib's errors, a refused or broken connection, a timeout
        return Outcome(
            False, error=f"The mail server did not take the e-mail ({type(error).__name__}).", temporary=True
        )
    return Outcome(True)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
        return None


def _secret(recipient: Recipient) -> str:
    name = recipient.notify_secret_env
    if not re.match(ENV_NAME_RE, name or ""):
        raise NoticeError("The register names no environment variable for the recipient's signing secret.")
    value = os.environ.get(name, "").strip()
    if not value:
        raise NoticeError(f"The environment variable {name} (the signing secret) is not set.")
    try:
        webhooks.check_secret(value)
    except webhooks.SecretError:
        raise NoticeError(f"The environment variable {name} does not hold a base64 signing secret.") from None
    return value


def _send_http(notice: RecipientNotice) -> Outcome:
    """A signed POST (Standard Webhooks); 2xx is sent. The same message id on every attempt, so the recipient can
    tell a retry from a new notice. GDPR Art. 32(1)(a): only to an address ``outbound_url_problem`` allows."""
    url = notice.recipient.notify_url
    if webhooks.outbound_url_problem(url) is not None:
        return Outcome(False, error="The recipient's endpoint is not an allowed https:// URL.")
    try:
        secret = _secret(notice.recipient)
    except NoticeError as error:
        return Outcome(False, error=str(error))
    now = datetime.now(tz=UTC)
    body = notice_payload(notice, at=now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "dsar-portal",
        **webhooks.sign(body, secret, msg_id=f"msg_{notice.public_id.hex}", timestamp=now),
    }
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (checked above)
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ssl.create_default_context()), _NoRedirect)
    timeout = int(settings.DSAR_CONNECTOR_HTTP_TIMEOUT)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
        error.close()  # the body is never read
        if status >= 500 or status == 429:
            return Outcome(False, status, f"The recipient answered {status}; will try again.", True)
        return Outcome(False, status, f"The recipient refused the notice: it answered {status}.")
    except TimeoutError:
        return Outcome(False, error="The recipient did not answer in time.", temporary=True)
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, ssl.SSLError):
            return Outcome(False, error=f"The recipient's TLS failed ({type(reason).__name__}).")
        return Outcome(False, error=f"The recipient could not be reached ({type(reason).__name__}).", temporary=True)
    except (OSError, ValueError) as error:
        return Outcome(False, error=f"The recipient could not be reached ({type(error).__name__}).", temporary=True)
    if 200 <= status < 300:
        return Outcome(True, http_status=status)
    return Outcome(False, status, f"The recipient answered {status}.")


def sending_timeout() -> timedelta:
    """A notice claimed for sending this long ago lost its worker: a later delivery of the task takes it over."""
    return timedelta(seconds=int(getattr(settings, "DSAR_RECIPIENT_NOTICE_SENDING_TIMEOUT_SECONDS", 30 * 60)))


def _locked(notice_id: int) -> RecipientNotice | None:
    """The notice's row, locked after its request's (the lock order of ``requests_app.locks``)."""
    request_id = RecipientNotice.objects.filter(pk=notice_id).values_list("request_id", flat=True).first()
    if request_id is None:
        return None
    request_lock(request_id)
    return RecipientNotice.objects.select_for_update(of=("self",)).select_related("recipient").get(pk=notice_id)


def _claim(notice_id: int, now: datetime) -> RecipientNotice | None:
    """Claim a planned e-mail or HTTP notice for this worker (``sending_since``), unless another worker is sending
    it; the claim is committed before anything is sent, so no lock is held while the network is waited on."""
    with transaction.atomic():
        notice = _locked(notice_id)
        if notice is None or notice.status != NoticeStatus.PLANNED or notice.method == NotifyBy.POST:
            return None
        if notice.sending_since is not None and notice.sending_since > now - sending_timeout():
            return None
        notice.sending_since = now
        notice.save(update_fields=["sending_since", "updated_at"])
        return notice


def notice_send(*, notice_id: int) -> str:
    """Send one planned notice by e-mail or HTTP (GDPR Art. 19) once: the worker claims the notice, sends, and
    records the outcome; a repeat finds it sent, or claimed by the worker sending it. A transient failure is counted
    and raises NoticeTemporaryError (the task retries with backoff) until ``max_attempts``; then, or on a permanent
    failure, the notice fails for staff. Returns the notice's status."""
    notice = _claim(notice_id, timezone.now())
    if notice is None:
        return RecipientNotice.objects.filter(pk=notice_id).values_list("status", flat=True).first() or ""
    outcome = _send_http(notice) if notice.method == NotifyBy.HTTP else _send_email(notice)
    with transaction.atomic():
        notice = _locked(notice_id)
        attempts = notice.attempts + 1
        changes = {"attempts": attempts, "sending_since": None, "last_error": outcome.error[:500]}
        changes["http_status"] = outcome.http_status
        if outcome.succeeded:
            status, reason = NoticeStatus.SENT, f"Notice sent to {notice.recipient.name} by {notice.method}"
            changes["sent_at"] = timezone.now()
            if outcome.http_status is not None:
                changes["answer"] = f"HTTP {outcome.http_status}"
        elif outcome.temporary and attempts < max_attempts():
            status, reason = NoticeStatus.PLANNED, ""
        else:
            status, reason = NoticeStatus.FAILED, f"Notice to {notice.recipient.name} failed: {outcome.error}"
        if status == NoticeStatus.PLANNED:
            for name, value in changes.items():
                setattr(notice, name, value)
            notice.save(update_fields=[*changes, "updated_at"])
        else:
            NOTICE_LIFECYCLE.move(notice, status, actor_kind="system", reason=reason[:1000], changes=changes)
    logger.info("recipient notice %s: attempt %s, %s", notice_id, attempts, status)
    if status == NoticeStatus.PLANNED:
        raise NoticeTemporaryError(outcome.error)
    return status


def notices_sweep(*, now: datetime | None = None) -> int:
    """Queue again the e-mail and HTTP notices left planned for ten minutes (a lost message, a broker that was
    away): the rows are the truth, and a repeat is harmless. Returns how many were queued."""
    now = now or timezone.now()
    ids = list(
        RecipientNotice.objects.filter(status=NoticeStatus.PLANNED, updated_at__lt=now - timedelta(minutes=10))
        .exclude(method=NotifyBy.POST)
        .values_list("pk", flat=True)
    )
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


# --- Staff actions -------------------------------------------------------------------------------------------------


def notice_mark_posted(*, notice: RecipientNotice, actor: AbstractBaseUser) -> bool:
    """Staff record that the printed letter was posted (the date of the notice, Art. 19). False if already sent."""
    if notice.method != NotifyBy.POST:
        raise NoticeError("This notice is not sent by post.")
    move = NOTICE_LIFECYCLE.move(
        notice,
        NoticeStatus.SENT,
        actor=actor,
        actor_kind="staff",
        reason=f"Letter to {notice.recipient.name} posted",
        changes={"sent_at": timezone.now(), "sent_by": actor},
    )
    return move.changed


def notice_acknowledge(*, notice: RecipientNotice, answer: str, actor: AbstractBaseUser) -> bool:
    """Record the recipient's answer to a sent notice (Art. 19 and 5(2): the organisation can show it was done)."""
    answer = answer.strip()
    if not answer:
        raise NoticeError("Say what the recipient answered.")
    previous = f"{notice.answer}\n" if notice.answer else ""
    move = NOTICE_LIFECYCLE.move(
        notice,
        NoticeStatus.ACKNOWLEDGED,
        actor=actor,
        actor_kind="staff",
        reason=f"Answer from {notice.recipient.name} recorded",
        changes={"answer": previous + answer, "answered_at": timezone.now(), "answered_recorded_by": actor},
    )
    return move.changed


def notice_judge_disproportionate(*, notice: RecipientNotice, reason: str, actor: AbstractBaseUser) -> bool:
    """Record that telling this recipient is impossible or involves disproportionate effort (GDPR Art. 19, first
    sentence), with the reason; only before the notice was sent. Nothing is sent after it."""
    reason = reason.strip()
    if not reason:
        raise NoticeError("Give the reason telling this recipient is impossible or disproportionate.")
    if notice.sending_since is not None and notice.sending_since > timezone.now() - sending_timeout():
        raise NoticeError("The notice is being sent right now: look at it again in a minute.")
    move = NOTICE_LIFECYCLE.move(
        notice,
        NoticeStatus.NOT_SENT_DISPROPORTIONATE,
        actor=actor,
        actor_kind="staff",
        reason=f"Notice to {notice.recipient.name} not sent (impossible or disproportionate effort): {reason}"[:1000],
        changes={"judgement_reason": reason, "judged_by": actor, "judged_at": timezone.now()},
    )
    return move.changed


def notice_retry(*, notice: RecipientNotice, actor: AbstractBaseUser) -> bool:
    """Send a failed notice again (after the register was corrected, say). False if it was not failed."""
    with transaction.atomic():
        move = NOTICE_LIFECYCLE.move(
            notice,
            NoticeStatus.PLANNED,
            actor=actor,
            actor_kind="staff",
            reason=f"Notice to {notice.recipient.name} to be sent again",
            changes={"attempts": 0, "last_error": ""},
        )
        if move.changed and notice.method != NotifyBy.POST:
            notice_id = notice.pk
            transaction.on_commit(lambda: _enqueue([notice_id]))
    return move.changed


# --- What the person is told (Art. 19, second sentence) ------------------------------------------------------------

ASKING_RIGHTS = frozenset({Right.RECTIFICATION, Right.ERASURE, Right.RESTRICTION})


def recipients_wanted(request: DataSubjectRequest) -> bool:
    """The person asked to be told who the recipients are (the checkbox on the rectification, erasure and
    restriction forms)."""
    return request.right in ASKING_RIGHTS and bool(getattr(scope_of(request), "recipients_wanted", False))


def recipients_for_answer(request_id: int) -> list[dict]:
    """The recipients the person's data was passed to and told of the change (GDPR Art. 19, second sentence): one
    entry per recipient with its name, what it receives, the date it was told (None if not yet) and, where it was
    not told, the recorded reason. Empty when the person did not ask."""
    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is None or not recipients_wanted(request):
        return []
    notices = (
        RecipientNotice.objects.filter(request_id=request_id)
        .select_related("recipient")
        .prefetch_related("systems")
        .order_by("recipient__name", "created_at")
    )
    by_recipient: dict[int, dict] = {}
    for notice in notices:
        entry = by_recipient.setdefault(
            notice.recipient_id,
            {"name": notice.recipient.name, "receives": [], "told_on": None, "not_told_reason": "", "_systems": set()},
        )
        entry["_systems"].update(system.pk for system in notice.systems.all())
        told_on = timezone.localdate(notice.sent_at) if notice.sent_at is not None else None
        if told_on is not None and (entry["told_on"] is None or told_on < entry["told_on"]):
            entry["told_on"] = told_on
        if notice.status == NoticeStatus.NOT_SENT_DISPROPORTIONATE:
            entry["not_told_reason"] = notice.judgement_reason
    answer = []
    for recipient_id, entry in by_recipient.items():
        disclosed = SystemRecipient.objects.filter(recipient_id=recipient_id, system_id__in=entry.pop("_systems"))
        entry["receives"] = sorted({link.disclosed for link in disclosed})
        answer.append(entry)
    return answer


def notices_of(request: DataSubjectRequest) -> list[RecipientNotice]:
    return list(
        RecipientNotice.objects.filter(request=request)
        .select_related("recipient", "sent_by", "judged_by", "answered_recorded_by")
        .prefetch_related("systems")
        .order_by("recipient__name", "created_at")
    )
