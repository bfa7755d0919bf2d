"""The case pack (issue 11, accountability; GDPR Art. 5(2)): one request's file for a regulator, as a staff page and
as a tagged PDF from the same template, with every element the issue names, shown only to those who may read it,
and every copy written to the request's trail."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from casework import services as casework_services
from casework.case_pack import case_pack
from complaints import services as complaint_services
from requests_app import services
from requests_app.models import EventKind, ExtensionBasis, Message, MessageKind, Outcome, RefusalGround, Right
from requests_app.scope import ErasureScope
from tests.factories import in_progress_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def handled(dpo, handler):
    """An access request handled end to end: clarified with the clock stopped, resumed, extended, completed,
    reopened and completed again, with a letter posted, an e-mail that failed and a complaint about it."""
    request = in_progress_request(email="pack@example.com", name="Grace Hopper")
    casework_services.request_assign(request=request, assignee=handler, actor=dpo)
    today = timezone.localdate()
    services.request_clarification_ask(
        request=request,
        actor=handler,
        question="Which accounts do you mean?",
        asked_on=today,
        stops_clock=True,
        condition="We hold forty years of records",
    )
    services.request_clarification_resume(request=request, actor=handler, on=today, reason="No reply came")
    services.request_extend(
        request=request, actor=handler, months=1, basis=[ExtensionBasis.COMPLEXITY], reasons="Twelve systems hold it."
    )
    services.request_complete(request=request, actor=handler, outcome=Outcome.FULFILLED, summary="All data sent.")
    services.request_reopen(request=request, actor=dpo, reason="The person found a missing account")
    services.request_complete(request=request, actor=handler, outcome=Outcome.FULFILLED, summary="Account added.")
    extension = request.messages.get(kind=MessageKind.EXTENSION)
    Message.objects.filter(pk=extension.pk).update(sent_at=timezone.now())
    Message.objects.create(
        request=request,
        direction=Message.Direction.TO_REQUESTER,
        kind=MessageKind.RECEIPT,
        subject="Receipt by post",
        body="We have your letter.",
        by_post=True,
        posted_on=today - timedelta(days=1),
    )
    completion = request.messages.filter(kind=MessageKind.COMPLETION).first()
    Message.objects.filter(pk=completion.pk).update(delivery_failed_at=timezone.now(), sent_at=None)
    complaint = complaint_services.complaint_log(
        actor=dpo,
        name="Grace Hopper",
        email="pack@example.com",
        text="You took too long.",
        channel="letter",
        received_at=timezone.now() - timedelta(hours=1),
        request=request,
    )
    complaint_services.complaint_acknowledge(complaint=complaint, actor=dpo)
    request.refresh_from_db()
    return request


def _pack_url(request, pdf: bool = False) -> str:
    return reverse("casework:request_pack_pdf" if pdf else "casework:request_pack", args=[request.reference])


def test_the_pack_lists_every_clock_event_with_its_legal_basis_calendar_and_time_zone(handled, dpo):
    pack = case_pack(request=handled, reader=dpo, generated_at=timezone.now())

    by_kind = {row.what.split(" (")[0].split(":")[0]: row for row in pack.clock}
    assert "Request submitted" in by_kind
    assert "Art. 12(3)" in by_kind["Request submitted"].basis
    paused = by_kind["Clock paused"]
    assert "Clarification" in paused.what or "clarify" in paused.what
    assert "Art. 12A" in paused.basis and "Recital 63" in paused.basis
    assert "Art. 12A" in by_kind["Clock resumed"].basis  # the pause it ends gives its basis
    extended = by_kind["Deadline extended"]
    assert "Art. 12(3)" in extended.basis
    assert extended.due_on is not None and extended.previous_due_on < extended.due_on
    assert extended.calendar["holidays"] and extended.calendar["digest"]
    assert pack.time_zone == handled.received_time_zone != ""


def test_the_pack_shows_the_extension_basis_and_the_day_its_notice_went(handled, dpo):
    pack = case_pack(request=handled, reader=dpo, generated_at=timezone.now())

    assert pack.extension_basis == [str(ExtensionBasis.COMPLEXITY.label)]
    (notice,) = pack.extension_notices
    assert notice.delivered and notice.delivery.startswith("E-mailed ")
    assert pack.latest_extension_notice_on is not None


def test_the_pack_has_each_notice_with_its_delivery_record_letters_included(handled, dpo):
    pack = case_pack(request=handled, reader=dpo, generated_at=timezone.now())
    records = [(row.message.subject, row.delivery) for row in pack.notices]

    posted = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert ("Receipt by post", f"Posted on {posted}") in records
    assert any(words.startswith("E-mail failed after every retry") for _subject, words in records)
    assert len(pack.notices) == handled.messages.filter(direction=Message.Direction.TO_REQUESTER).count()


def test_the_pack_has_decisions_with_reasons_reopenings_and_complaints(handled, dpo):
    pack = case_pack(request=handled, reader=dpo, generated_at=timezone.now())

    decisions = [(row.what, row.reason) for row in pack.decision_events]
    assert ("Status changed: Completed", "All data sent.") in decisions
    assert ("Status changed: Completed", "Account added.") in decisions
    assert pack.decision["outcome"] == str(Outcome.FULFILLED.label)
    assert pack.decision["answered_on"] == timezone.localdate()
    assert [row.reason for row in pack.reopenings] == ["The person found a missing account"]
    (complaint,) = pack.complaints
    assert complaint.complaint.request_id == handled.pk
    assert [row.what.split(":")[0] for row in complaint.history] == ["Complaint received", "Complaint acknowledged"]
    assert complaint.notices


def test_a_refusal_shows_its_ground_and_reasons(dpo):
    request = in_progress_request(right=Right.ERASURE, details=ErasureScope().as_details())
    services.request_refuse(
        request=request,
        actor=dpo,
        ground=RefusalGround.ERASURE_LEGAL_OBLIGATION,
        reasons="Tax law requires us to keep invoices for six years.",
    )
    request.refresh_from_db()

    pack = case_pack(request=request, reader=dpo, generated_at=timezone.now())

    assert pack.decision["refusal_ground"] == str(RefusalGround.ERASURE_LEGAL_OBLIGATION.label)
    assert ("Status changed: Refused", "Tax law requires us to keep invoices for six years.") in [
        (row.what, row.reason) for row in pack.decision_events
    ]


def test_the_html_pack_shows_each_section_and_is_written_to_the_trail(client, handled, dpo):
    client.force_login(dpo)
    before = handled.events.filter(kind=EventKind.CASE_PACK_GENERATED).count()

    response = client.get(_pack_url(handled))

    assert response.status_code == 200
    html = response.content.decode()
    for heading in (
        "The request as received",
        "Identity and authority",
        "The statutory clock",
        "Extension",
        "Decisions and reasons",
        "Notices sent and their delivery",
        "Complaints about this request",
        "Reopenings",
    ):
        assert heading in html, heading
    assert "Grace Hopper" in html and "Twelve systems hold it." in html
    assert "Posted on" in html and "E-mail failed after every retry" in html
    event = handled.events.filter(kind=EventKind.CASE_PACK_GENERATED).last()
    assert handled.events.filter(kind=EventKind.CASE_PACK_GENERATED).count() == before + 1
    assert event.actor == dpo and event.reason == "Case pack (HTML)"
    assert response["Cache-Control"] == "no-store"


def test_the_case_page_links_to_the_pack(client, handled, dpo):
    client.force_login(dpo)
    response = client.get(reverse("casework:request_detail", args=[handled.reference]))
    assert _pack_url(handled) in response.content.decode()


def test_the_pdf_is_a_tagged_accessible_pdf_never_cached_and_audited(client, handled, dpo):
    client.force_login(dpo)

    response = client.get(_pack_url(handled, pdf=True))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"] == f'attachment; filename="case-pack-{handled.reference}.pdf"'
    assert response.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.content))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root  # tagged: a structure tree for assistive technology
    assert bool(root["/MarkInfo"]["/Marked"])
    assert str(root["/Lang"]).lower().startswith("en")
    assert reader.metadata.title.startswith(f"Case pack {handled.reference}")
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "The statutory clock" in text and handled.reference in text
    tags = _structure_tags(root["/StructTreeRoot"])
    assert {"/H1", "/H2", "/Table", "/TH", "/TD"} <= tags
    event = handled.events.filter(kind=EventKind.CASE_PACK_GENERATED).last()
    assert event.reason == "Case pack (PDF)" and event.actor == dpo


def _structure_tags(node, seen=None) -> set[str]:
    """The structure types (/S) in a PDF structure tree."""
    seen = set() if seen is None else seen
    node = node.get_object()
    if isinstance(node, list) or hasattr(node, "__iter__") and not hasattr(node, "keys"):
        for child in node:
            _structure_tags(child, seen)
        return seen
    if not hasattr(node, "keys"):
        return seen
    if "/S" in node:
        seen.add(str(node["/S"]))
    if "/K" in node:
        _structure_tags(node["/K"], seen)
    return seen


def test_an_auditor_reads_the_pack_without_personal_data_or_evidence(client, handled, auditor):
    client.force_login(auditor)

    response = client.get(_pack_url(handled))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Grace Hopper" not in html and "pack@example.com" not in html
    assert "Twelve systems hold it." not in html  # free text is personal data
    assert str(ExtensionBasis.COMPLEXITY.label) in html  # the structured basis is not
    assert "You took too long." not in html
    assert handled.events.filter(kind=EventKind.CASE_PACK_GENERATED, actor=auditor).exists()


def test_the_pack_never_includes_identity_evidence_documents(client, handled, dpo):
    from tests.factories import RequestDocumentFactory

    RequestDocumentFactory(request=handled, purpose="identity_evidence", original_name="passport-grace.png")
    client.force_login(dpo)
    html = client.get(_pack_url(handled)).content.decode()
    assert "passport-grace.png" not in html
    assert "Proof of identity" not in html
