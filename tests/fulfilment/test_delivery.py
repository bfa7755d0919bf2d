"""Secure delivery of a released answer (issue 12): a fresh code before a short download window, the archive streamed
or handed to the front server, every download recorded, expiry keeping the manifest, further copies (Art. 15(3))."""

import hashlib
import os
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from casework import roles
from fulfilment import delivery
from fulfilment.delivery import RELEASES
from fulfilment.models import (
    Download,
    DownloadCode,
    DownloadMethod,
    FurtherCopy,
    FurtherCopyStatus,
    ReleaseRecipient,
    ReleaseStatus,
)
from requests_app import services as request_services
from requests_app.models import DataSubjectRequest, EventKind, MessageKind, Outcome, RequestEvent, Status
from tests.factories import (
    AgentFilingFactory,
    StaffUserFactory,
    agent_request,
    give_second_factor,
    in_progress_request,
)
from tests.fulfilment.delivery_support import (
    ARCHIVE_FILES,
    available_release,
    open_status_page,
    zip_contents,
)

from .test_delivery_codes import code_from, read_download

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def completed_request():
    request = in_progress_request(email="alan.t@example.net", name="Alan Turing")
    request_services.request_complete(request=request, actor=StaffUserFactory(), outcome=Outcome.FULFILLED)
    request.refresh_from_db()
    return request


def _unlock(client, request, mailoutbox) -> None:
    client.post(reverse("delivery:code_send", args=[request.reference]))
    client.post(reverse("delivery:code_enter", args=[request.reference]), {"code": code_from(mailoutbox[-1])})


def test_a_completed_request_shows_the_answer_ready_until_its_date(client, completed_request):
    release = available_release(completed_request)
    page = client.get(open_status_page(client, completed_request))
    body = page.content.decode()
    assert completed_request.status == Status.COMPLETED
    assert 'id="answer-ready"' in body
    assert timezone.localtime(release.expires_at).strftime("%-d %B %Y") in body
    # No download link before a code is entered.
    assert reverse("delivery:download", args=[completed_request.reference]) not in body
    # The status's own words are still there.
    assert "Your request is complete" in body


def test_a_request_still_in_progress_shows_an_answer_released_already(client):
    request = in_progress_request()
    available_release(request)
    body = client.get(open_status_page(client, request)).content.decode()
    assert "We are working on your request" in body
    assert 'id="answer-ready"' in body


def test_the_download_needs_a_code(client, completed_request):
    available_release(completed_request)
    open_status_page(client, completed_request)
    response = client.get(reverse("delivery:download", args=[completed_request.reference]))
    assert response.status_code == 302
    assert not Download.objects.exists()


def test_another_browser_cannot_use_the_download_address(client, completed_request, mailoutbox):
    available_release(completed_request)
    open_status_page(client, completed_request)
    _unlock(client, completed_request, mailoutbox)
    client.cookies.clear()
    response = client.get(reverse("delivery:download", args=[completed_request.reference]))
    assert response.status_code == 404


def test_the_code_goes_to_the_confirmed_address_and_opens_a_download_of_exactly_the_archive(
    client, completed_request, mailoutbox
):
    release = available_release(completed_request)
    open_status_page(client, completed_request)
    sent = len(mailoutbox)
    client.post(reverse("delivery:code_send", args=[completed_request.reference]))
    email = mailoutbox[sent]
    assert email.to == ["alan.t@example.net"]
    code = code_from(email)
    # Only the keyed hash is stored.
    assert DownloadCode.objects.get(release=release).code_hash not in ("", code)
    response = client.post(reverse("delivery:code_enter", args=[completed_request.reference]), {"code": code})
    assert response.status_code == 302
    response = client.get(reverse("delivery:download", args=[completed_request.reference]))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"] == f'attachment; filename="answer-{completed_request.reference}.zip"'
    assert "no-store" in response["Cache-Control"]
    data = read_download(response)
    assert hashlib.sha256(data).hexdigest() == release.archive_sha256
    assert zip_contents(data) == ARCHIVE_FILES
    download = Download.objects.get()
    assert (download.release, download.by, download.bytes, download.method) == (
        release,
        ReleaseRecipient.SUBJECT,
        release.archive_bytes,
        DownloadMethod.STREAM,
    )
    assert RequestEvent.objects.filter(request=completed_request, kind=EventKind.ANSWER_DOWNLOADED).count() == 1
    assert RequestEvent.objects.filter(request=completed_request, kind=EventKind.DOWNLOAD_CODE_SENT).count() == 1


def test_a_wrong_code_is_refused_and_the_tries_are_limited(client, completed_request, mailoutbox, settings):
    settings.DSAR_DOWNLOAD_CODE_MAX_ATTEMPTS = 3
    available_release(completed_request)
    open_status_page(client, completed_request)
    client.post(reverse("delivery:code_send", args=[completed_request.reference]))
    code = code_from(mailoutbox[-1])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    enter = reverse("delivery:code_enter", args=[completed_request.reference])
    for _ in range(3):
        response = client.post(enter, {"code": wrong})
        assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    # The right code after the tries ran out opens nothing.
    response = client.post(enter, {"code": code})
    assert response.status_code == 400
    assert "expired or has been used too many times" in response.content.decode()
    assert client.get(reverse("delivery:download", args=[completed_request.reference])).status_code == 302
    assert RequestEvent.objects.filter(request=completed_request, kind=EventKind.DOWNLOAD_CODE_FAILED).count() == 3


def test_an_expired_code_opens_nothing(client, completed_request, mailoutbox):
    available_release(completed_request)
    open_status_page(client, completed_request)
    client.post(reverse("delivery:code_send", args=[completed_request.reference]))
    DownloadCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(
        reverse("delivery:code_enter", args=[completed_request.reference]), {"code": code_from(mailoutbox[-1])}
    )
    assert response.status_code == 400
    assert client.get(reverse("delivery:download", args=[completed_request.reference])).status_code == 302


def test_the_download_window_ends_and_a_new_code_is_needed(client, completed_request, mailoutbox, settings):
    available_release(completed_request)
    open_status_page(client, completed_request)
    _unlock(client, completed_request, mailoutbox)
    download = reverse("delivery:download", args=[completed_request.reference])
    assert client.get(download).status_code == 200
    session = client.session
    session[delivery.SESSION_KEY] = {key: time.time() - 1 for key in session[delivery.SESSION_KEY]}
    session.save()
    assert client.get(download).status_code == 302


def test_codes_are_not_sent_in_a_tight_loop(client, completed_request, mailoutbox):
    available_release(completed_request)
    open_status_page(client, completed_request)
    send = reverse("delivery:code_send", args=[completed_request.reference])
    client.post(send)
    client.post(send)
    assert DownloadCode.objects.count() == 1
    assert len([m for m in mailoutbox if "download" in m.subject.lower()]) == 1


def test_code_sending_is_rate_limited_per_request(client, completed_request, settings):
    settings.DSAR_DOWNLOAD_CODE_RESEND_SECONDS = 0
    settings.DSAR_RATE_LIMITS = {**settings.DSAR_RATE_LIMITS, "download_code_per_request": (2, 3600)}
    available_release(completed_request)
    open_status_page(client, completed_request)
    send = reverse("delivery:code_send", args=[completed_request.reference])
    for _ in range(4):
        client.post(send)
    assert DownloadCode.objects.count() == 2


def test_the_x_accel_path_sends_the_header_and_no_body(client, completed_request, mailoutbox, settings, tmp_path):
    settings.DSAR_DOWNLOAD_ACCEL_REDIRECT = "/protected-downloads/"
    settings.DSAR_DOWNLOAD_ACCEL_DIR = tmp_path / "accel"
    release = available_release(completed_request)
    open_status_page(client, completed_request)
    _unlock(client, completed_request, mailoutbox)
    response = client.get(reverse("delivery:download", args=[completed_request.reference]))
    assert response.status_code == 200
    assert response.content == b""
    name = response["X-Accel-Redirect"].removeprefix("/protected-downloads/")
    assert response["X-Accel-Redirect"].startswith("/protected-downloads/")
    handed = (tmp_path / "accel" / name).read_bytes()
    assert hashlib.sha256(handed).hexdigest() == release.archive_sha256
    # Readable by the portal and the front server sharing its group, not by others.
    assert (tmp_path / "accel" / name).stat().st_mode & 0o007 == 0
    assert Download.objects.get().method == DownloadMethod.ACCEL
    # The sweep removes it after a few minutes, not before.
    assert delivery.accel_sweep() == 0
    old = time.time() - 10 * 60
    os.utime(tmp_path / "accel" / name, (old, old))
    assert delivery.accel_sweep() == 1
    assert not (tmp_path / "accel" / name).exists()


def test_the_agent_recipient_gets_the_code_and_the_dashboard_shows_the_answer(client, mailoutbox):
    from agents.views import SECOND_FACTOR_DONE

    request = agent_request()
    filing = AgentFilingFactory(request=request)
    release = available_release(request, recipient=ReleaseRecipient.AGENT)
    client.force_login(filing.agent.user)
    session = client.session
    session[SECOND_FACTOR_DONE] = True
    session.save()
    dashboard = client.get(reverse("agents:dashboard")).content.decode()
    assert "Answer ready to download until" in dashboard
    # The agent opens the request from the dashboard and asks for the code: it goes to the agent's own address.
    client.get(reverse("agents:request_open", args=[request.reference]))
    sent = len(mailoutbox)
    client.post(reverse("delivery:code_send", args=[request.reference]))
    assert mailoutbox[sent].to == ["sol@lawfirm.example"]
    client.post(reverse("delivery:code_enter", args=[request.reference]), {"code": code_from(mailoutbox[sent])})
    response = client.get(reverse("delivery:download", args=[request.reference]))
    assert zip_contents(read_download(response)) == ARCHIVE_FILES
    assert Download.objects.get(release=release).by == ReleaseRecipient.AGENT


def test_the_subject_recipient_of_an_agents_request_gets_the_code_at_their_own_address():
    request = agent_request()
    DataSubjectRequest.objects.filter(pk=request.pk).update(subject_email="pat@example.org")
    request.refresh_from_db()
    release = available_release(request, recipient=ReleaseRecipient.SUBJECT)
    assert delivery.recipient_email(release) == "pat@example.org"
    agent_release = available_release(request, recipient=ReleaseRecipient.AGENT)
    assert delivery.recipient_email(agent_release) == "sol@lawfirm.example"


def test_the_subjects_own_release_is_not_on_the_agents_dashboard():
    request = agent_request()
    available_release(request, recipient=ReleaseRecipient.SUBJECT)
    from agents.dashboard import dashboard_notes

    assert dashboard_notes([request]) == {}


# --- Expiry ---------------------------------------------------------------------------------------------------------


def test_the_expiry_sweep_deletes_the_archive_keeps_the_manifest_and_is_idempotent(client, completed_request):
    release = available_release(completed_request, expires_in=timedelta(days=14))
    expired = available_release(completed_request, expires_in=timedelta(seconds=-1))
    manifest = list(expired.manifest)
    assert delivery.releases_expire() == 1
    expired.refresh_from_db()
    assert expired.status == ReleaseStatus.EXPIRED
    assert expired.archive_deleted_at is not None
    assert expired.manifest == manifest
    assert not RELEASES.exists(expired.archive_name)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.AVAILABLE and RELEASES.exists(release.archive_name)
    assert delivery.releases_expire() == 0
    moves = RequestEvent.objects.filter(
        request=completed_request, kind=EventKind.RELEASE_STATUS_CHANGED, to_status=ReleaseStatus.EXPIRED
    )
    assert moves.count() == 1


def test_the_expiry_job_is_on_the_one_schedule(settings):
    entries = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "fulfilment.tasks.expire_releases" in entries
    call_command("run_scheduled_jobs")


def test_after_expiry_the_page_says_so_and_offers_a_further_copy(client, completed_request):
    release = available_release(completed_request, expires_in=timedelta(seconds=-1))
    delivery.releases_expire()
    body = client.get(open_status_page(client, completed_request)).content.decode()
    assert 'id="answer-expired"' in body
    assert 'id="answer-further-copy"' in body
    assert client.get(reverse("delivery:download", args=[completed_request.reference])).status_code == 302
    release.refresh_from_db()
    assert release.status == ReleaseStatus.EXPIRED


# --- Further copies (GDPR Art. 15(3)) -------------------------------------------------------------------------------


@pytest.fixture
def handler_client(client):
    roles.roles_ensure()
    user = StaffUserFactory(username="handler-delivery")
    user.groups.add(Group.objects.get(name=roles.DPO))
    client.force_login(user)
    give_second_factor(client)
    return client


def test_a_further_copy_is_asked_for_shown_to_staff_and_issued_free_from_the_kept_archive(
    client, completed_request, mailoutbox
):
    source = available_release(completed_request)
    open_status_page(client, completed_request)
    client.post(reverse("delivery:further_copy", args=[completed_request.reference]))
    client.post(reverse("delivery:further_copy", args=[completed_request.reference]))
    further = FurtherCopy.objects.get()
    assert further.status == FurtherCopyStatus.ASKED
    assert RequestEvent.objects.filter(
        request=completed_request, kind=EventKind.FURTHER_COPY_STATUS_CHANGED, to_status="asked"
    ).exists()
    body = client.get(reverse("requests_app:status_detail", args=[completed_request.reference])).content.decode()
    assert 'id="further-copy-asked"' in body

    roles.roles_ensure()
    dpo = StaffUserFactory(username="dpo-delivery")
    dpo.groups.add(Group.objects.get(name=roles.DPO))
    staff = client_for(dpo)
    case = staff.get(reverse("casework:request_detail", args=[completed_request.reference])).content.decode()
    assert "Further copies asked for" in case
    response = staff.post(
        reverse("fulfilment:further_copy_free", args=[completed_request.reference, further.pk]), {"free-reasons": ""}
    )
    assert response.status_code == 302
    further.refresh_from_db()
    assert further.status == FurtherCopyStatus.ISSUED
    copy = further.release
    assert (copy.copy_number, copy.status, copy.manifest) == (2, ReleaseStatus.AVAILABLE, source.manifest)
    assert copy.archive_name != source.archive_name
    assert RELEASES.read_bytes(copy.archive_name) == RELEASES.read_bytes(source.archive_name)
    assert copy.expires_at > timezone.now() + timedelta(days=13)
    assert completed_request.messages.filter(kind=MessageKind.ANSWER_READY).exists()
    # The person downloads copy 2, named as such.
    _unlock(client, completed_request, mailoutbox)
    response = client.get(reverse("delivery:download", args=[completed_request.reference]))
    assert f"answer-{completed_request.reference}-copy-2.zip" in response["Content-Disposition"]
    assert zip_contents(read_download(response)) == ARCHIVE_FILES
    assert Download.objects.get().release == copy


def client_for(user):
    from django.test import Client

    staff = Client()
    staff.force_login(user)
    give_second_factor(staff)
    return staff


def test_a_further_copy_may_carry_a_fee_told_first_and_is_issued_when_paid(completed_request):
    source = available_release(completed_request, expires_in=timedelta(seconds=-1))
    delivery.releases_expire()
    source.refresh_from_db()
    further = delivery.further_copy_ask(request=completed_request, source=source, asked_by=ReleaseRecipient.SUBJECT)
    staff = StaffUserFactory()
    with pytest.raises(delivery.DeliveryError):
        delivery.further_copy_fee_request(further=further, actor=staff, amount="0", reasons="Copying")
    with pytest.raises(delivery.DeliveryError):
        delivery.further_copy_fee_request(further=further, actor=staff, amount="10.00", reasons=" ")
    delivery.further_copy_fee_request(further=further, actor=staff, amount="10.00", reasons="Staff time to copy")
    further.refresh_from_db()
    assert (further.status, further.fee_amount, further.fee_currency) == ("fee_requested", 10, "GBP")
    assert completed_request.messages.filter(kind=MessageKind.FURTHER_COPY_FEE).exists()
    release = delivery.further_copy_fee_paid(
        further=further, actor=staff, paid_on=timezone.localdate(), reference="PAY-1"
    )
    further.refresh_from_db()
    assert further.status == FurtherCopyStatus.ISSUED and further.payment_reference == "PAY-1"
    receipt = RequestEvent.objects.get(
        request=completed_request, kind=EventKind.FURTHER_COPY_STATUS_CHANGED, to_status=FurtherCopyStatus.ISSUED
    )
    assert "10.00 GBP" in receipt.reason and "PAY-1" in receipt.reason
    # The source archive was deleted on expiry: the copy waits for the review work's builder.
    assert release.status == ReleaseStatus.PREPARING and release.copy_number == 2
    assert release.manifest == source.manifest


def test_a_further_copy_whose_archive_was_deleted_calls_the_registered_builder(completed_request):
    source = available_release(completed_request, expires_in=timedelta(seconds=-1))
    delivery.releases_expire()
    source.refresh_from_db()
    built = []
    delivery.release_builder_register(built.append)
    try:
        further = delivery.further_copy_ask(request=completed_request, source=source, asked_by="subject")
        release = delivery.further_copy_issue_free(further=further, actor=StaffUserFactory())
    finally:
        delivery._release_builders.clear()
    assert built == [release.pk]


def test_a_portability_answer_has_no_further_copy_fee():
    from requests_app.models import Right
    from requests_app.scope import PortabilityScope

    request = in_progress_request(right=Right.PORTABILITY, details=PortabilityScope().as_details())
    source = available_release(request)
    further = delivery.further_copy_ask(request=request, source=source, asked_by="subject")
    with pytest.raises(delivery.DeliveryError):
        delivery.further_copy_fee_request(further=further, actor=StaffUserFactory(), amount="5.00", reasons="Costs")


def test_the_case_page_lists_downloads(client, completed_request, mailoutbox):
    available_release(completed_request)
    open_status_page(client, completed_request)
    _unlock(client, completed_request, mailoutbox)
    client.get(reverse("delivery:download", args=[completed_request.reference]))
    roles.roles_ensure()
    dpo = StaffUserFactory(username="dpo-downloads")
    dpo.groups.add(Group.objects.get(name=roles.DPO))
    case = client_for(dpo).get(reverse("casework:request_detail", args=[completed_request.reference]))
    body = case.content.decode()
    assert 'class="download"' in body
    assert "Answer downloaded" in body


def test_the_periodic_job_removes_release_files_no_release_names_after_a_day(completed_request):
    import io

    release = available_release(completed_request)
    orphan = RELEASES.save(io.BytesIO(b"left by a crash"), suffix=".zip")
    old = time.time() - 2 * 24 * 3600
    for name in (orphan.name, release.archive_name):
        os.utime(RELEASES.folder / name, (old, old))
    result = delivery.expiry_sweep()
    assert result["orphan_release_files_removed"] == 1
    assert not RELEASES.exists(orphan.name)
    assert RELEASES.exists(release.archive_name)


def test_a_fee_form_with_errors_comes_back_with_what_was_typed(completed_request):
    source = available_release(completed_request)
    further = delivery.further_copy_ask(request=completed_request, source=source, asked_by=ReleaseRecipient.SUBJECT)
    roles.roles_ensure()
    dpo = StaffUserFactory(username="dpo-fee-form")
    dpo.groups.add(Group.objects.get(name=roles.DPO))
    staff = client_for(dpo)
    response = staff.post(
        reverse("fulfilment:further_copy_fee", args=[completed_request.reference, further.pk]),
        {"fee-amount": "", "fee-reasons": "Staff time to copy the archive"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Staff time to copy the archive" in body
    further.refresh_from_db()
    assert further.status == FurtherCopyStatus.ASKED
