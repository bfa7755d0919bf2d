"""Review before release (issue 12): a case handler withholds items and redacts fields of the compiled answer with a
ground and a reason, undoes a decision, approves behind a fresh second factor (two different people for an agent),
and the released archive is built once, without what was withheld, with markers where fields were redacted, a report
that says so on what ground (GDPR Art. 12(4), 15(4)) and a manifest that matches."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from agents.models import AuthorityType
from casework import roles
from fulfilment import releases, review, services, tasks
from fulfilment.models import (
    OTHERS_GROUND,
    Compilation,
    Redaction,
    RedactionKind,
    Release,
    ReleaseRecipient,
    ReleaseStatus,
    SearchPart,
)
from requests_app.lifecycle import IllegalTransition
from requests_app.models import EventKind, Exemption, RequesterRole
from requests_app.scope import AccessScope, AgentAuthority
from tests.factories import StaffUserFactory, give_second_factor

from .conftest import alan_request

pytestmark = pytest.mark.django_db(transaction=True)


def _part(request, table: str) -> SearchPart:
    return SearchPart.objects.get(job__compilation__request=request, table=table)


def _release(request) -> Release:
    return Release.objects.get(request=request)


def _archive(release: Release) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(releases.RELEASES.read_bytes(release.archive_name)))


def _csv_rows(archive: zipfile.ZipFile, table: str) -> list[list[str]]:
    name = next(name for name in archive.namelist() if name.endswith(f"/{table}.csv"))
    return list(csv.reader(io.StringIO(archive.read(name).decode())))


def _decide(client, request, part, **fields):
    data = {"part": part.pk, "ground": OTHERS_GROUND, "reason": "Her sister's details are in the notes.", **fields}
    return client.post(reverse("fulfilment:redaction_add", args=[request.reference]), data)


def _second_handler(username: str = "handler-b"):
    user = StaffUserFactory(username=username)
    user.groups.add(Group.objects.get(name=roles.CASE_HANDLER))
    return user


def test_an_assembled_answer_goes_into_review_once_as_the_first_copy_to_the_subject(automated_register):
    request = alan_request()
    release = _release(request)
    assert (release.status, release.copy_number, release.recipient) == (
        ReleaseStatus.IN_REVIEW,
        1,
        ReleaseRecipient.SUBJECT,
    )
    compilation = Compilation.objects.get(request=request)
    tasks.assemble_compilation(compilation.pk)
    assert review.release_open(compilation=compilation) == release
    assert Release.objects.filter(request=request).count() == 1
    assert request.events.filter(kind=EventKind.RELEASE_STATUS_CHANGED, to_status=ReleaseStatus.IN_REVIEW).count() == 1


def test_a_handler_withholds_and_redacts_with_a_ground_and_undoes_a_decision(client, automated_register, handler):
    request = alan_request()
    client.force_login(handler)
    customers, orders = _part(request, "customers"), _part(request, "orders")
    page = client.get(reverse("fulfilment:review", args=[request.reference]) + f"?part={customers.pk}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Rows of customers" in text and "alan@demo.example" in text
    # Exemptions of the request's law (UK here) are offered beside Art. 15(4).
    assert str(Exemption.UK_SCH2_PARA16.label) in text and str(Exemption.EU_ART23.label) not in text
    assert _decide(client, request, customers, kind=RedactionKind.COLUMN, column="email").status_code == 302
    assert _decide(client, request, orders, kind=RedactionKind.ROW, row=1).status_code == 302
    assert _decide(client, request, orders, kind=RedactionKind.CELL, row=2, column=orders.columns[0]).status_code == 302
    assert _decide(client, request, _part(request, "events"), kind=RedactionKind.TABLE).status_code == 302
    release = _release(request)
    assert release.redactions.filter(undone_at=None).count() == 4
    # The page shows the marker where the column was redacted, never the value.
    text = client.get(reverse("fulfilment:review", args=[request.reference]) + f"?part={customers.pk}").content
    assert b"[withheld: Art 15(4)]" in text and b"alan@demo.example" not in text
    # Undo, once; a second click says so.
    row = release.redactions.get(kind=RedactionKind.ROW)
    undo = reverse("fulfilment:redaction_undo", args=[request.reference, row.pk])
    assert client.post(undo).status_code == 302
    assert "undone already" in client.post(undo, follow=True).content.decode()
    row.refresh_from_db()
    assert row.undone_at is not None and row.undone_by == handler
    # Everything is in the trail, by whom, naming tables, columns and rows, never a value nor the typed reason.
    events = list(request.events.filter(kind=EventKind.RELEASE_REVIEWED).order_by("pk"))
    assert len(events) == 5 and all(event.actor == handler for event in events)
    assert "column email of table customers" in events[0].reason
    assert events[-1].reason.startswith("Undone: Withhold one row: row 1 of table orders")
    assert not any("alan" in event.reason or "sister" in event.reason for event in events)


def test_a_decision_needs_its_ground_and_reason_and_keeps_what_was_typed(client, automated_register, handler):
    request = alan_request()
    client.force_login(handler)
    orders = _part(request, "orders")
    response = _decide(client, request, orders, kind=RedactionKind.CELL, row=3, column="", reason="")
    assert response.status_code == 400
    text = response.content.decode()
    assert "Say why, in your own words" in text and "Choose the column." in text
    assert 'value="3"' in text  # the row number typed is kept
    response = _decide(client, request, orders, kind=RedactionKind.ROW, row=orders.rows + 1)
    assert response.status_code == 400 and f"between 1 and {orders.rows}" in response.content.decode()
    response = _decide(client, request, orders, kind=RedactionKind.TABLE, ground="no_such_ground")
    assert response.status_code == 400
    assert not Redaction.objects.exists()
    with pytest.raises(review.ReviewError):
        review.redaction_add(
            release=_release(request),
            part=orders,
            kind=RedactionKind.TABLE,
            ground=OTHERS_GROUND,
            reason="  ",
            actor=handler,
        )


def test_approving_asks_for_a_fresh_second_factor(client, automated_register, handler):
    request = alan_request()
    client.force_login(handler)
    response = client.post(reverse("fulfilment:release_approve", args=[request.reference]))
    assert response.status_code == 302 and "reauthenticate" in response.url
    assert _release(request).status == ReleaseStatus.IN_REVIEW
    give_second_factor(client)
    response = client.post(reverse("fulfilment:release_approve", args=[request.reference]))
    assert response.status_code == 302
    release = _release(request)
    # To the data subject one approval is enough: built at once (eager worker here) and available for 14 days.
    assert release.status == ReleaseStatus.AVAILABLE and release.approved_by == handler
    assert release.expires_at - release.available_at == timedelta(days=14)
    moves = list(request.events.filter(kind=EventKind.RELEASE_STATUS_CHANGED).values_list("from_status", "to_status"))
    assert moves[-2:] == [
        (ReleaseStatus.IN_REVIEW, ReleaseStatus.PREPARING),
        (ReleaseStatus.PREPARING, ReleaseStatus.AVAILABLE),
    ]
    # Decisions can no longer change.
    with pytest.raises(review.ReviewError):
        review.redaction_add(
            release=release,
            part=_part(request, "orders"),
            kind=RedactionKind.TABLE,
            ground=OTHERS_GROUND,
            reason="late",
            actor=handler,
        )
    assert (
        "approved already"
        in client.post(reverse("fulfilment:release_approve", args=[request.reference]), follow=True).content.decode()
    )


def _agent_request():
    details = {
        **AccessScope().as_details(),
        **AgentAuthority(
            subject_name="Alan Turing", relationship="solicitor", authority_type=AuthorityType.LETTER_OF_AUTHORITY
        ).as_details(),
    }
    return alan_request(
        requester_role=RequesterRole.AGENT, name="Sam Solicitor", email="sol@law.example", details=details
    )


def test_a_release_to_an_agent_needs_a_second_different_approver(client, automated_register, handler, settings):
    settings.DSAR_DOWNLOAD_DAYS = 7
    request = _agent_request()
    release = _release(request)
    assert release.recipient == ReleaseRecipient.AGENT
    client.force_login(handler)
    give_second_factor(client)
    approve = reverse("fulfilment:release_approve", args=[request.reference])
    client.post(approve)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.AWAITING_SECOND_APPROVAL and release.approved_by == handler
    # The same person again is refused with a message, never a 500.
    page = client.post(approve, follow=True).content.decode()
    assert "needs a second, different person" in page
    release.refresh_from_db()
    assert release.status == ReleaseStatus.AWAITING_SECOND_APPROVAL
    # The case page says who approved and that someone else must.
    case = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    assert "waiting for a second approval by someone else" in case
    # The second approver sends it back with a reason (required), then it is approved twice again.
    second = _second_handler()
    client.force_login(second)
    give_second_factor(client)
    send_back = reverse("fulfilment:release_send_back", args=[request.reference])
    assert "Say why" in client.post(send_back, {"reason": ""}, follow=True).content.decode()
    client.post(send_back, {"reason": "Check the call notes for the neighbour's name."})
    release.refresh_from_db()
    assert release.status == ReleaseStatus.IN_REVIEW and release.approved_by is None
    client.post(approve)
    client.force_login(handler)
    give_second_factor(client)
    client.post(approve)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.AVAILABLE
    assert (release.approved_by, release.second_approved_by) == (second, handler)
    assert release.expires_at - release.available_at == timedelta(days=7)


def test_the_released_archive_lacks_what_was_withheld_and_says_so_with_the_ground(automated_register, handler):
    request = alan_request()
    release = _release(request)
    customers, orders, events = (_part(request, name) for name in ("customers", "orders", "events"))
    compiled = zipfile.ZipFile(
        io.BytesIO(services.ARCHIVES.read_bytes(Compilation.objects.get(request=request).archive_name))
    )
    first_order = _csv_rows(compiled, "orders")[1]
    add = dict(release=release, actor=handler, reason="Someone else's data.")
    review.redaction_add(part=customers, kind=RedactionKind.COLUMN, column="email", ground=OTHERS_GROUND, **add)
    review.redaction_add(part=orders, kind=RedactionKind.ROW, row=1, ground=OTHERS_GROUND, **add)
    review.redaction_add(
        part=orders, kind=RedactionKind.CELL, row=2, column=orders.columns[0], ground=Exemption.UK_SCH2_PARA16, **add
    )
    review.redaction_add(part=events, kind=RedactionKind.TABLE, ground=OTHERS_GROUND, **add)
    assert review.release_approve(release=release, actor=handler) == ReleaseStatus.PREPARING
    release.refresh_from_db()
    assert release.status == ReleaseStatus.AVAILABLE
    archive = _archive(release)
    names = archive.namelist()
    # Withheld: the events table is gone (CSV, JSON and dictionary), and order 1 with it.
    assert not any(name.endswith("/events.csv") for name in names)
    orders_rows = _csv_rows(archive, "orders")
    assert len(orders_rows) - 1 == orders.rows - 1
    assert first_order[0] not in {row[0] for row in orders_rows[1:]}
    assert orders_rows[1][0] == "[withheld: DPA 2018 Sch. 2 para 16]"
    customers_rows = _csv_rows(archive, "customers")
    email = customers_rows[0].index("email")
    assert {row[email] for row in customers_rows[1:]} == {"[withheld: Art 15(4)]"}
    whole = b"".join(archive.read(name) for name in names)
    assert b"alan@demo.example" not in whole.replace(b"account_email", b"")  # the identifier's name, not its value
    systems = [json.loads(archive.read(n)) for n in names if n.startswith("systems/") and n.endswith(".json")]
    assert all("events" not in system["tables"] for system in systems)
    orders_json = next(system["tables"]["orders"] for system in systems if "orders" in system["tables"])
    assert len(orders_json) == orders.rows - 1 and orders_json[0][orders.columns[0]].startswith("[withheld: DPA")
    assert all("events" != entry["table"] for entry in json.loads(archive.read("data-dictionary.json")))
    # The report tells the person, per system, how much and on what ground, and how to complain (Art. 12(4)).
    report = archive.read("report.html").decode()
    assert "What we did not give you, and why" in report
    assert report.count("1 item withheld: GDPR Art. 15(4)") == 2  # order 1 (billing), the events (analytics)
    assert "1 field redacted: GDPR Art. 15(4)" in report  # the customers' e-mail column (CRM)
    assert "1 field redacted: DPA 2018 Sch. 2 para 16: information about other people" in report
    assert "found data about you in this system, but withheld all of it" in report
    # What the law says we must tell about the analytics system is still there (Art. 15(1)(a)-(h)).
    assert report.count("<h3>Website analytics</h3>") == 2
    assert "How to complain" in report and "Information Commissioner" in report
    # A fresh manifest whose hashes match every file, kept on the release too.
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["copy"] == 1 and [item["path"] for item in manifest["files"]] == names[:-1]
    for item in manifest["files"]:
        assert hashlib.sha256(archive.read(item["path"])).hexdigest() == item["sha256"]
    assert release.manifest[:-1] == manifest["files"]
    assert hashlib.sha256(releases.RELEASES.read_bytes(release.archive_name)).hexdigest() == release.archive_sha256


def test_building_twice_gives_one_archive_and_reads_parts_as_streams(automated_register, handler, monkeypatch):
    request = alan_request()
    release = _release(request)
    review.redaction_add(
        release=release,
        part=_part(request, "orders"),
        kind=RedactionKind.ROW,
        row=1,
        ground=OTHERS_GROUND,
        reason="r",
        actor=handler,
    )
    # Never a whole part in memory: the build reads parts only through their streaming readers.
    monkeypatch.setattr(services.PARTS, "read_bytes", lambda name: pytest.fail("a part was read whole"))
    assert review.release_approve(release=release, actor=handler) == ReleaseStatus.PREPARING
    release.refresh_from_db()
    name = release.archive_name
    assert tasks.build_release(release.pk) == ReleaseStatus.AVAILABLE
    releases.release_build(release_id=release.pk)
    release.refresh_from_db()
    assert release.archive_name == name and list(releases.RELEASES.names()) == [name]
    assert request.events.filter(kind=EventKind.RELEASE_STATUS_CHANGED, to_status=ReleaseStatus.AVAILABLE).count() == 1


def test_the_release_lifecycle_allows_only_its_moves(automated_register):
    request = alan_request()
    release = _release(request)
    for illegal in (ReleaseStatus.AVAILABLE, ReleaseStatus.EXPIRED):
        with pytest.raises(IllegalTransition):
            review.RELEASE_LIFECYCLE.move(release, illegal, actor_kind="system")
    review.RELEASE_LIFECYCLE.move(release, ReleaseStatus.PREPARING, actor_kind="system")
    with pytest.raises(IllegalTransition):
        review.RELEASE_LIFECYCLE.move(release, ReleaseStatus.IN_REVIEW, actor_kind="system")
    assert review.RELEASE_LIFECYCLE.can_move(ReleaseStatus.AVAILABLE, ReleaseStatus.EXPIRED)
    assert review.RELEASE_LIFECYCLE.can_move(ReleaseStatus.AWAITING_SECOND_APPROVAL, ReleaseStatus.IN_REVIEW)
    assert not review.RELEASE_LIFECYCLE.can_move(ReleaseStatus.EXPIRED, ReleaseStatus.AVAILABLE)


def test_the_case_page_shows_the_release_state_with_links_for_those_who_may_act(client, automated_register, handler):
    request = alan_request()
    client.force_login(handler)
    page = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    assert "Review and release" in page and "In review" in page
    assert reverse("fulfilment:review", args=[request.reference]) in page
    assert reverse("fulfilment:release_approve", args=[request.reference]) in page
    auditor = StaffUserFactory(username="auditor")
    auditor.groups.add(Group.objects.get(name=roles.AUDITOR))
    client.force_login(auditor)
    page = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    assert "Review and release" in page
    assert reverse("fulfilment:release_approve", args=[request.reference]) not in page
    assert reverse("fulfilment:review", args=[request.reference]) not in page
    release = _release(request)
    review.release_approve(release=release, actor=handler)
    release.refresh_from_db()
    client.force_login(handler)
    page = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    assert "available to download until" in page


def test_approval_queues_the_build_once_on_commit_with_the_release_id(automated_register, handler):
    request = alan_request()
    release = _release(request)
    with mock.patch.object(review, "release_build_enqueue") as enqueue:
        review.release_approve(release=release, actor=handler)
        enqueue.assert_called_once_with(release.pk)
        with pytest.raises(review.ReviewError):
            review.release_approve(release=release, actor=handler)
        enqueue.assert_called_once_with(release.pk)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PREPARING and not release.archive_name
    # Its message was lost: the sweep queues the build again once it is overdue, and the worker builds it once.
    assert releases.releases_sweep() == 0
    later = timezone.now() + services.running_timeout() + timedelta(minutes=1)
    assert releases.releases_sweep(now=later) == 1
    release.refresh_from_db()
    assert release.status == ReleaseStatus.AVAILABLE and list(releases.RELEASES.names()) == [release.archive_name]
