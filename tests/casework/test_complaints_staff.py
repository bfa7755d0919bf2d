"""Complaints in the staff area (UK DPA 2018 s.164A): the register, one complaint's page and its steps, logging one
that arrived another way, the case page's panel, and who sees which complaint."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from casework import complaint_selectors, reminders, services
from casework.models import ReminderKind, StaffReminder
from complaints import services as complaint_services
from complaints.deadlines import acknowledgement_due
from complaints.models import Channel, Complaint, ComplaintMessage, ComplaintMessageKind, ComplaintStatus
from requests_app.models import EventKind, RequestEvent
from tests.factories import in_progress_request

pytestmark = pytest.mark.django_db


def _log(actor, *, request=None, days_ago: int = 1, email: str = "grace@example.com") -> Complaint:
    return complaint_services.complaint_log(
        actor=actor,
        name="Grace Hopper",
        email=email,
        text="Late reply.",
        channel=Channel.LETTER,
        received_at=timezone.now() - timedelta(days=days_ago),
        request=request,
        # Without an e-mail address the complainant is answered by post.
        postal_address="" if email else "3 Bletchley Park Road",
    )


@pytest.fixture
def cases(dpo, handler, other_handler):
    mine, theirs, free = (in_progress_request(email=f"{n}@example.com") for n in ("mine", "theirs", "free"))
    services.request_assign(request=mine, assignee=handler, actor=dpo)
    services.request_assign(request=theirs, assignee=other_handler, actor=dpo)
    return {"mine": mine, "theirs": theirs, "free": free}


@pytest.fixture
def complaints(dpo, cases):
    return {
        "mine": _log(dpo, request=cases["mine"]),
        "theirs": _log(dpo, request=cases["theirs"]),
        "free": _log(dpo, request=cases["free"]),
        "unlinked": _log(dpo),
    }


# --- Who sees which complaint ------------------------------------------------------------------------------------


def test_a_case_handler_sees_only_complaints_about_requests_they_may_see(handler, complaints):
    """Not a colleague's request's, and not one about no request (the DPO's): the rule of complaint_selectors."""
    visible = set(complaint_selectors.complaints_visible_to(handler))
    assert visible == {complaints["mine"], complaints["free"]}


def test_the_dpo_and_the_auditor_see_every_complaint_and_others_none(dpo, auditor, system_owner, complaints):
    assert set(complaint_selectors.complaints_visible_to(dpo)) == set(complaints.values())
    assert set(complaint_selectors.complaints_visible_to(auditor)) == set(complaints.values())
    assert not complaint_selectors.complaints_visible_to(system_owner).exists()


def test_a_complaint_follows_its_request_when_it_is_reassigned(dpo, handler, other_handler, cases, complaints):
    services.request_assign(request=cases["mine"], assignee=other_handler, actor=dpo)
    assert complaints["mine"] not in complaint_selectors.complaints_visible_to(handler)


def test_a_handler_opening_a_colleagues_complaint_gets_404_and_the_register_leaves_it_out(client, handler, complaints):
    client.force_login(handler)
    assert client.get(reverse("casework:complaint_detail", args=[complaints["theirs"].reference])).status_code == 404
    assert client.get(reverse("casework:complaint_detail", args=[complaints["unlinked"].reference])).status_code == 404
    page = client.get(reverse("casework:complaints_register")).content.decode()
    assert complaints["mine"].reference in page and complaints["free"].reference in page
    assert complaints["theirs"].reference not in page and complaints["unlinked"].reference not in page


def test_the_auditor_reads_the_register_and_the_history_but_never_the_complainant_and_cannot_act(
    client, auditor, complaints
):
    client.force_login(auditor)
    complaint = complaints["mine"]
    page = client.get(reverse("casework:complaint_detail", args=[complaint.reference])).content.decode()
    assert complaint.reference in page
    assert "Grace Hopper" not in page and "grace@example.com" not in page and "Late reply." not in page
    assert "Acknowledge and tell the complainant" not in page
    register = client.get(reverse("casework:complaints_register")).content.decode()
    assert "Grace Hopper" not in register
    response = client.post(reverse("casework:complaint_acknowledge", args=[complaint.reference]), {})
    assert response.status_code == 403
    assert client.get(reverse("casework:complaint_log")).status_code == 403
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RECEIVED


# --- The register --------------------------------------------------------------------------------------------------


def test_the_register_lists_open_complaints_by_acknowledgement_due_date_with_days_left_in_words(client, dpo):
    later = _log(dpo, days_ago=1)
    sooner = _log(dpo, days_ago=20)
    late = _log(dpo, days_ago=35)
    closed = _log(dpo, days_ago=40)
    complaint_services.complaint_resolve(complaint=closed, actor=dpo, outcome="We apologised.")
    client.force_login(dpo)

    page = client.get(reverse("casework:complaints_register")).content.decode()

    positions = [page.index(c.reference) for c in (late, sooner, later)]
    assert positions == sorted(positions)
    assert closed.reference not in page
    assert "10 days left" in page  # received 20 days ago: 30 - 20
    assert "Acknowledgement overdue: 5 days overdue" in page


@pytest.mark.parametrize(
    ("show", "expected"),
    [
        ("open", {"received", "acknowledged", "late"}),
        ("acknowledged", {"acknowledged"}),
        ("overdue", {"late"}),
        ("resolved", {"resolved", "withdrawn"}),
        ("all", {"received", "acknowledged", "late", "resolved", "withdrawn"}),
        ("nonsense", {"received", "acknowledged", "late"}),
    ],
)
def test_the_register_filters_open_acknowledged_overdue_and_resolved(dpo, show, expected):
    made = {
        "received": _log(dpo, days_ago=2),
        "acknowledged": _log(dpo, days_ago=3),
        "late": _log(dpo, days_ago=31),
        "resolved": _log(dpo, days_ago=4),
        "withdrawn": _log(dpo, days_ago=5),
    }
    complaint_services.complaint_acknowledge(complaint=made["acknowledged"], actor=dpo)
    complaint_services.complaint_resolve(complaint=made["resolved"], actor=dpo, outcome="Fixed.")
    complaint_services.complaint_withdraw(complaint=made["withdrawn"], actor=dpo, reason="Phoned to withdraw.")
    names = {complaint.pk: name for name, complaint in made.items()}

    shown = complaint_selectors.complaints_register(user=dpo, show=show, today=timezone.localdate())

    assert {names[c.pk] for c in shown} == expected


def test_all_complaints_show_the_open_ones_first(dpo):
    closed_early = _log(dpo, days_ago=50)
    complaint_services.complaint_resolve(complaint=closed_early, actor=dpo, outcome="Done.")
    open_late = _log(dpo, days_ago=1)
    shown = list(complaint_selectors.complaints_register(user=dpo, show="all", today=timezone.localdate()))
    assert shown == [open_late, closed_early]


# --- One complaint's steps -------------------------------------------------------------------------------------


def test_acknowledging_progress_and_outcome_each_email_the_complainant_and_write_the_requests_trail(
    client, dpo, cases, mailoutbox, django_capture_on_commit_callbacks
):
    complaint = _log(dpo, request=cases["free"])
    client.force_login(dpo)
    mailoutbox.clear()
    steps = [
        ("acknowledge", {"acknowledge-note": "We are on it."}, ComplaintStatus.ACKNOWLEDGED),
        ("progress", {"progress-note": "We found the e-mail."}, ComplaintStatus.INVESTIGATING),
        ("progress", {"progress-note": "We spoke to the team."}, ComplaintStatus.INVESTIGATING),
        ("resolve", {"resolve-outcome": "We apologise and have retrained staff."}, ComplaintStatus.RESOLVED),
    ]
    for step, data, status in steps:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse(f"casework:complaint_{step}", args=[complaint.reference]), data)
        assert response.status_code == 302, step
        complaint.refresh_from_db()
        assert complaint.status == status

    assert [m.to for m in mailoutbox] == [["grace@example.com"]] * 4
    assert "We apologise and have retrained staff." in mailoutbox[-1].body
    assert set(ComplaintMessage.objects.filter(complaint=complaint).values_list("kind", flat=True)) >= {
        ComplaintMessageKind.ACKNOWLEDGEMENT,
        ComplaintMessageKind.PROGRESS,
        ComplaintMessageKind.OUTCOME,
    }
    kinds = set(RequestEvent.objects.filter(request=cases["free"]).values_list("kind", flat=True))
    assert {EventKind.COMPLAINT_ACKNOWLEDGED, EventKind.COMPLAINT_RESOLVED} <= kinds
    page = client.get(reverse("casework:complaint_detail", args=[complaint.reference])).content.decode()
    assert "We spoke to the team." in page  # the timeline
    assert reverse("casework:request_detail", args=[cases["free"].reference]) in page  # the link to the request


def test_a_blank_progress_note_is_sent_back_with_a_message_and_nothing_changes_or_is_sent(client, dpo, mailoutbox):
    complaint = _log(dpo)
    client.force_login(dpo)
    mailoutbox.clear()
    response = client.post(reverse("casework:complaint_progress", args=[complaint.reference]), {"progress-note": "   "})
    assert response.status_code == 400
    assert "was not done" in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RECEIVED
    assert mailoutbox == []


def test_a_step_raced_by_a_colleague_gives_a_message_and_keeps_what_was_typed(client, dpo, handler, cases):
    """Progress typed on a complaint a colleague has just closed: no 500, a message, the note still there."""
    complaint = _log(dpo, request=cases["free"])
    complaint_services.complaint_acknowledge(complaint=complaint, actor=dpo)
    complaint_services.complaint_resolve(complaint=Complaint.objects.get(pk=complaint.pk), actor=dpo, outcome="Done.")
    client.force_login(handler)

    response = client.post(
        reverse("casework:complaint_progress", args=[complaint.reference]), {"progress-note": "My careful note"}
    )

    assert response.status_code == 409
    body = response.content.decode()
    assert "changed while you were working on it" in body and "Outcome sent" in body
    assert "My careful note" in body


def test_acknowledging_twice_sends_one_acknowledgement(client, dpo, django_capture_on_commit_callbacks, mailoutbox):
    complaint = _log(dpo)
    client.force_login(dpo)
    mailoutbox.clear()
    url = reverse("casework:complaint_acknowledge", args=[complaint.reference])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {})
        second = client.post(url, {}, follow=True)
    assert "Already done" in second.content.decode()
    assert len(mailoutbox) == 1


def test_the_page_offers_only_the_steps_the_complaint_allows(client, dpo):
    complaint = _log(dpo)
    client.force_login(dpo)
    page = client.get(reverse("casework:complaint_detail", args=[complaint.reference])).content.decode()
    assert "Acknowledge and tell the complainant" in page
    assert "Record and send the update" not in page  # acknowledge first (s.164A(3)), then progress
    complaint_services.complaint_acknowledge(complaint=complaint, actor=dpo)
    page = client.get(reverse("casework:complaint_detail", args=[complaint.reference])).content.decode()
    assert "Acknowledge and tell the complainant" not in page
    assert "Record and send the update" in page and "Record and send the outcome" in page


# --- Logging a complaint that arrived another way -----------------------------------------------------------------


def _log_form(**overrides) -> dict:
    values = {
        "channel": Channel.PHONE,
        "received_at": (timezone.localtime() - timedelta(days=6)).strftime("%Y-%m-%dT%H:%M"),
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "text": "She phoned: nobody answered her request.",
        "request_reference": "",
    }
    values.update(overrides)
    return values


def test_a_phoned_complaint_is_logged_with_its_true_receipt_day_and_linked_to_the_request(client, handler, cases):
    client.force_login(handler)
    response = client.post(
        reverse("casework:complaint_log"), _log_form(request_reference=cases["mine"].reference.lower())
    )
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("casework:complaint_detail", args=[complaint.reference])
    assert complaint.channel == Channel.PHONE
    assert complaint.logged_by == handler
    assert complaint.received_on == timezone.localdate() - timedelta(days=6)
    assert complaint.acknowledge_by == acknowledgement_due(complaint.received_on)
    assert complaint.request == cases["mine"]
    # The case page shows it.
    page = client.get(reverse("casework:request_detail", args=[cases["mine"].reference])).content.decode()
    assert "Complaints about this request" in page and complaint.reference in page


def test_logging_refuses_a_future_time_and_a_request_the_handler_may_not_see_keeping_what_was_typed(
    client, handler, cases
):
    client.force_login(handler)
    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("casework:complaint_log"), _log_form(received_at=future))
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()
    assert "She phoned: nobody answered her request." in response.content.decode()

    response = client.post(reverse("casework:complaint_log"), _log_form(request_reference=cases["theirs"].reference))
    assert response.status_code == 400
    assert "No request you may see has this reference." in response.content.decode()
    assert not Complaint.objects.exists()


def test_the_case_page_panel_leaves_out_nothing_the_user_may_see(client, dpo, cases, complaints):
    client.force_login(dpo)
    page = client.get(reverse("casework:request_detail", args=[cases["theirs"].reference])).content.decode()
    assert complaints["theirs"].reference in page
    assert complaints["mine"].reference not in page


def test_the_staff_nav_names_the_complaints_for_those_who_may_see_them(client, dpo, system_owner):
    client.force_login(dpo)
    assert reverse("casework:complaints_register") in client.get(reverse("casework:queue")).content.decode()


def test_a_reminder_about_an_unacknowledged_complaint_links_to_its_page(dpo):
    complaint = _log(dpo, days_ago=25)
    reminder = StaffReminder.objects.create(
        kind=ReminderKind.COMPLAINT_UNACKNOWLEDGED, complaint=complaint, due_on=complaint.acknowledge_by, recipient=dpo
    )
    _subject, body = reminders.reminder_email(reminder)
    assert settings.DSAR_PUBLIC_URL + reverse("casework:complaint_detail", args=[complaint.reference]) in body
    assert "Grace Hopper" not in body and "grace@example.com" not in body


def test_an_acknowledgement_a_colleague_sent_first_keeps_the_note_typed_for_it(
    client, dpo, handler, cases, django_capture_on_commit_callbacks, mailoutbox
):
    """Nothing typed is dropped unseen: the second acknowledgement's note comes back, with nothing sent twice."""
    complaint = _log(dpo, request=cases["free"])
    complaint_services.complaint_acknowledge(complaint=complaint, actor=dpo)
    client.force_login(handler)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("casework:complaint_acknowledge", args=[complaint.reference]),
            {"acknowledge-note": "We will call you on Monday"},
        )

    assert response.status_code == 409
    body = response.content.decode()
    assert "A colleague did this first" in body
    assert "We will call you on Monday" in body
    assert mailoutbox == []


# --- A complainant answered by post ---------------------------------------------------------------------------------

POSTAL_ADDRESS = "3 Bletchley Park Road\nMilton Keynes MK3 6EB"


def test_a_letter_from_someone_with_no_email_is_logged_and_its_letters_are_posted_from_the_complaint_page(
    client, dpo, cases, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(dpo)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("casework:complaint_log"),
            _log_form(channel=Channel.LETTER, email="", postal_address=POSTAL_ADDRESS),
        )
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert complaint.notices_by_post and complaint.postal_address == POSTAL_ADDRESS
    assert mailoutbox == []
    page_url = reverse("casework:complaint_detail", args=[complaint.reference])

    page = client.get(page_url).content.decode()
    assert "Letters to post" in page and "Bletchley Park Road" in page
    [receipt] = complaint.messages.all()
    assert receipt.by_post
    posted_url = reverse("casework:complaint_letter_posted", args=[complaint.reference, receipt.pk])
    assert posted_url in page
    assert "waiting to be posted" in page

    # Acknowledging writes a second letter; the complaint counts as acknowledged now, not when it is posted.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("casework:complaint_acknowledge", args=[complaint.reference]), {})
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.ACKNOWLEDGED and complaint.acknowledged_at is not None
    assert mailoutbox == []
    acknowledgement = complaint.messages.get(kind=ComplaintMessageKind.ACKNOWLEDGEMENT)
    assert acknowledgement.by_post
    assert complaint_selectors.acknowledgement_letter(complaint) == acknowledgement
    assert "not yet recorded as posted" in client.get(page_url).content.decode()

    today = timezone.localdate()
    response = client.post(posted_url, {"posted_on": today.isoformat()}, follow=True)
    page = response.content.decode()
    assert f"Recorded as posted on {today.isoformat()}" in page
    receipt.refresh_from_db()
    assert receipt.posted_on == today
    # The posted letter leaves the list, the other waits; the timeline shows both and the posting step.
    assert posted_url not in page
    assert reverse("casework:complaint_letter_posted", args=[complaint.reference, acknowledgement.pk]) in page
    assert "Letter posted to the complainant" in page
    assert f"posted on {today.strftime('%-d %b %Y')}" in page
    assert [e.kind for e in complaint.events.order_by("pk")].count(EventKind.LETTER_POSTED) == 1


def test_the_staff_form_needs_an_email_or_a_postal_address_and_keeps_what_was_typed(client, handler):
    client.force_login(handler)
    url = reverse("casework:complaint_log")

    response = client.post(url, _log_form(email="", postal_address=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give a postal address, or an e-mail address, to answer at." in page
    assert "She phoned: nobody answered her request." in page and "Grace Hopper" in page

    response = client.post(url, _log_form(by_post="on", postal_address=""))
    assert response.status_code == 400
    assert "Give the postal address to send the letters to." in response.content.decode()
    assert "grace@example.com" in response.content.decode()

    response = client.post(url, _log_form(channel=Channel.EMAIL, email="", postal_address=POSTAL_ADDRESS))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give the address the complaint came from." in page
    assert "Bletchley Park Road" in page
    assert not Complaint.objects.exists()


def test_a_complainant_with_an_email_who_asks_for_post_gets_letters(
    client, dpo, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(dpo)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("casework:complaint_log"), _log_form(postal_address=POSTAL_ADDRESS, by_post="on"))
    complaint = Complaint.objects.get()
    assert complaint.notices_by_post and complaint.complainant_email == "grace@example.com"
    assert complaint.messages.get().by_post
    assert mailoutbox == []


def test_a_posting_day_to_come_or_missing_is_refused_with_a_message_and_nothing_is_recorded(client, dpo):
    complaint = _log(dpo, email="")
    client.force_login(dpo)
    letter = complaint.messages.get()
    url = reverse("casework:complaint_letter_posted", args=[complaint.reference, letter.pk])
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()

    for sent in ({"posted_on": tomorrow}, {"posted_on": "not a day"}, {}):
        response = client.post(url, sent, follow=True)
        assert response.status_code == 200
        page = response.content.decode()
        assert "still to come" in page or "Give the day the letter was posted" in page
    letter.refresh_from_db()
    assert letter.posted_on is None
    assert not complaint.events.filter(kind=EventKind.LETTER_POSTED).exists()


def test_the_case_pack_lists_a_complaints_letters_with_the_day_each_was_posted(client, dpo, cases):
    from casework.case_pack import case_pack

    complaint = _log(dpo, request=cases["free"], email="")
    complaint_services.complaint_acknowledge(complaint=complaint, actor=dpo)
    receipt = complaint.messages.get(kind=ComplaintMessageKind.RECEIPT)
    today = timezone.localdate()
    complaint_services.complaint_letter_posted(message=receipt, actor=dpo, posted_on=today)

    pack = case_pack(request=cases["free"], reader=dpo, generated_at=timezone.now())
    [entry] = pack.complaints
    assert "Letter posted to the complainant" in [row.what for row in entry.history]
    records = {message.kind: delivery for message, delivery in entry.notices}
    assert records == {
        ComplaintMessageKind.RECEIPT: f"Posted on {today.isoformat()}",
        ComplaintMessageKind.ACKNOWLEDGEMENT: "To post: not yet recorded as posted",
    }
    client.force_login(dpo)
    page = client.get(reverse("casework:request_pack", args=[cases["free"].reference])).content.decode()
    assert f"Posted on {today.isoformat()}" in page
    assert "notices by post" in page


def test_the_complaint_page_shows_the_day_the_acknowledgement_letter_was_posted(client, dpo):
    complaint = _log(dpo, email="")
    complaint_services.complaint_acknowledge(complaint=complaint, actor=dpo)
    letter = complaint.messages.get(kind=ComplaintMessageKind.ACKNOWLEDGEMENT)
    today = timezone.localdate()
    complaint_services.complaint_letter_posted(message=letter, actor=dpo, posted_on=today)
    client.force_login(dpo)

    page = client.get(reverse("casework:complaint_detail", args=[complaint.reference])).content.decode()
    assert "Acknowledgement letter" in page
    assert "not yet recorded as posted" not in page
    # An e-mailed complaint has no acknowledgement letter to show.
    emailed = _log(dpo)
    complaint_services.complaint_acknowledge(complaint=emailed, actor=dpo)
    assert complaint_selectors.acknowledgement_letter(emailed) is None
