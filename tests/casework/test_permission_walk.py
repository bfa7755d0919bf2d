"""Every /staff/ page of the staff area, as each role and as an anonymous visitor (issue 11).

The walk resolves every URL pattern of the casework app, so a page added later is walked too; a pattern the walk
cannot fill in fails the test rather than being skipped.
"""

import pytest
from django.conf import settings
from django.urls import URLPattern, get_resolver, reverse

from casework import services, views_pack
from casework.actions import ACTIONS
from casework.complaint_forms import COMPLAINT_STEPS
from casework.models import StaffRoleChange
from requests_app.models import EventKind
from tests.factories import give_second_factor, in_progress_request

pytestmark = pytest.mark.django_db

# What each visitor gets on each page: "ok" (200, or a redirect after a POST that did its work), "login", 403, 404.
# The requests: "mine" is assigned to handler-a, "theirs" to handler-b, "free" to no one.
GET_EXPECTED = {
    # visitor: (queue, case mine, case theirs, case free)
    "anonymous": ("login", "login", "login", "login"),
    "dpo": (200, 200, 200, 200),
    "handler": (200, 200, 404, 200),
    "auditor": (200, 200, 200, 200),
    "system_owner": (403, 403, 403, 403),
    "staff_without_role": (403, 403, 403, 403),
}


# The metrics page and its CSV downloads: the DPO only (the accountability figures, issue 11).
METRICS_EXPECTED = {
    "anonymous": "login",
    "dpo": 200,
    "handler": 403,
    "auditor": 403,
    "system_owner": 403,
    "staff_without_role": 403,
}
URL_ARGUMENTS = {"table": "open-by-status", "message_id": 1, "key": "no-such-document", "template_id": 1}


def _casework_patterns() -> list[URLPattern]:
    resolver = get_resolver()
    (staff,) = [p for p in resolver.url_patterns if getattr(p, "namespace", None) == "casework"]
    return list(staff.url_patterns)


def test_the_walk_covers_every_casework_page():
    names = {pattern.name for pattern in _casework_patterns()}
    assert names == {
        "queue",
        "request_detail",
        "request_assign",
        "requests_assign",
        "metrics",
        "metrics_csv",
        "metrics_recompute",
        "request_log",
        "letter_posted",
        "request_pack",
        "request_pack_pdf",
        "people",
        "complaints_register",
        "complaint_log",
        "complaint_detail",
        "complaint_letter_posted",
        *(f"complaint_{name}" for name in COMPLAINT_STEPS),
        "verification_decide",
        "evidence_document",
        "message_templates",
        "message_template_new",
        "message_template_edit",
        *(f"action_{name}" for name in ACTIONS),
    }


@pytest.fixture
def visitors(dpo, handler, other_handler, auditor, system_owner):
    from tests.factories import StaffUserFactory

    return {
        "anonymous": None,
        "dpo": dpo,
        "handler": handler,
        "auditor": auditor,
        "system_owner": system_owner,
        "staff_without_role": StaffUserFactory(username="no-role"),
    }


@pytest.fixture
def cases(dpo, handler, other_handler):
    mine, theirs, free = (in_progress_request(email=f"{n}@example.com") for n in ("mine", "theirs", "free"))
    services.request_assign(request=mine, assignee=handler, actor=dpo)
    services.request_assign(request=theirs, assignee=other_handler, actor=dpo)
    return {"mine": mine, "theirs": theirs, "free": free}


def _outcome(response) -> object:
    if response.status_code == 302 and response.url.startswith(reverse(settings.LOGIN_URL)):
        return "login"
    return response.status_code


@pytest.mark.parametrize("visitor", list(GET_EXPECTED))
def test_each_visitor_sees_only_the_pages_and_cases_they_may(client, visitors, cases, visitor):
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    queue, mine, theirs, free = GET_EXPECTED[visitor]
    assert _outcome(client.get(reverse("casework:queue"))) == queue
    for which, expected in (("mine", mine), ("theirs", theirs), ("free", free)):
        path = reverse("casework:request_detail", args=[cases[which].reference])
        assert _outcome(client.get(path)) == expected, f"{visitor} opening {which}"


@pytest.mark.parametrize("visitor", list(METRICS_EXPECTED))
def test_only_the_dpo_sees_the_metrics_and_their_downloads(client, visitors, visitor):
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    for path in (
        reverse("casework:metrics"),
        reverse("casework:metrics_csv", kwargs={"table": URL_ARGUMENTS["table"]}),
    ):
        assert _outcome(client.get(path)) == METRICS_EXPECTED[visitor], f"{visitor} opening {path}"
    recompute = client.post(reverse("casework:metrics_recompute"))
    assert _outcome(recompute) == (302 if METRICS_EXPECTED[visitor] == 200 else METRICS_EXPECTED[visitor])


# Assigning: only the DPO and case handlers, and a handler only what they may see.
POST_EXPECTED = {
    "anonymous": ("login", "login"),
    "dpo": (302, 302),
    "handler": (302, 404),
    "auditor": (403, 403),
    "system_owner": (403, 403),
    "staff_without_role": (403, 403),
}


@pytest.mark.parametrize("visitor", list(POST_EXPECTED))
def test_each_visitor_may_assign_only_what_they_may(client, visitors, cases, handler, visitor):
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    on_free, on_theirs = POST_EXPECTED[visitor]
    for which, expected in (("free", on_free), ("theirs", on_theirs)):
        path = reverse("casework:request_assign", args=[cases[which].reference])
        assert _outcome(client.post(path, {"assignee": handler.pk})) == expected, f"{visitor} assigning {which}"
    bulk = client.post(
        reverse("casework:requests_assign"), {"references": [cases["free"].reference], "assignee": handler.pk}
    )
    assert _outcome(bulk) == ("login" if user is None else 302 if on_free == 302 else 403)


# Acting on a case: the DPO on any, a case handler on those they may see, nobody else. An empty form is sent, so
# the walk changes nothing: "ok" is the case page sent back with the form's errors.
ACTION_EXPECTED = {
    "anonymous": ("login", "login"),
    "dpo": (200, 200),
    "handler": (200, 404),
    "auditor": (403, 403),
    "system_owner": (403, 403),
    "staff_without_role": (403, 403),
}


@pytest.mark.parametrize("visitor", list(ACTION_EXPECTED))
def test_each_visitor_may_act_only_on_what_they_may(client, visitors, cases, visitor):
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    on_free, on_theirs = ACTION_EXPECTED[visitor]
    for name in ACTIONS:
        for which, expected in (("free", on_free), ("theirs", on_theirs)):
            path = reverse(f"casework:action_{name}", args=[cases[which].reference])
            assert _outcome(client.post(path, {})) == expected, f"{visitor} doing {name} on {which}"
            assert _outcome(client.get(path)) in ("login", 405), f"{visitor} GET {name}"
    for case in cases.values():
        case.refresh_from_db()
        assert case.status == "in_progress", f"{visitor} changed {case.reference}"


# Logging a request received another way, and recording a letter as posted: those who act on requests.
LOG_EXPECTED = {
    "anonymous": ("login", "login", "login"),
    "dpo": (200, 302, 302),
    "handler": (200, 302, 404),
    "auditor": (403, 403, 403),
    "system_owner": (403, 403, 403),
    "staff_without_role": (403, 403, 403),
}


@pytest.mark.parametrize("visitor", list(LOG_EXPECTED))
def test_each_visitor_may_log_requests_and_record_letters_only_if_they_may(client, visitors, cases, visitor):
    from requests_app.models import Message

    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    log_page, on_free, on_theirs = LOG_EXPECTED[visitor]
    assert _outcome(client.get(reverse("casework:request_log"))) == log_page
    for which, expected in (("free", on_free), ("theirs", on_theirs)):
        case = cases[which]
        case.notices_by_post = True
        case.save(update_fields=["notices_by_post"])
        letter = Message.objects.create(
            request=case, direction=Message.Direction.TO_REQUESTER, kind="receipt", subject="s", body="b", by_post=True
        )
        path = reverse("casework:letter_posted", args=[case.reference, letter.pk])
        # No day given: the walk changes nothing ("ok" is the redirect back with a message).
        assert _outcome(client.post(path, {})) == expected, f"{visitor} recording a letter on {which}"
        letter.refresh_from_db()
        assert letter.posted_on is None


@pytest.mark.parametrize("method", ["get", "post"])
def test_no_staff_page_answers_an_anonymous_visitor(client, cases, method):
    """Whatever the method, an anonymous visitor is sent to sign in (or refused the method), never shown data."""
    for pattern in _casework_patterns():
        kwargs = {
            name: URL_ARGUMENTS[name] if name in URL_ARGUMENTS else cases["free"].reference
            for name in pattern.pattern.converters
        }
        response = getattr(client, method)(reverse(f"casework:{pattern.name}", kwargs=kwargs))
        assert _outcome(response) in ("login", 405), pattern.name


def test_identity_has_no_staff_pages_of_its_own_any_more(client, dpo, cases):
    """Identity's old staff pages (not scoped to the case: a handler could open a colleague's) are gone; the identity
    check is a panel of the case page."""
    client.force_login(dpo)
    assert client.get("/staff/verification/").status_code == 404
    assert client.get(f"/staff/verification/{cases['free'].reference}/").status_code == 404
    assert client.get("/staff/evidence/anything/").status_code == 404


# The identity panel: deciding needs to act and to decide identity; viewing evidence needs the evidence permission
# (never an auditor's: they read the evidence-views log in the trail, never the evidence). Scoped to the case.
VERIFICATION_EXPECTED = {
    # visitor: (decide on free, decide on theirs, evidence of free, evidence of theirs)
    "anonymous": ("login", "login", "login", "login"),
    "dpo": (400, 400, 200, 200),
    "handler": (400, 404, 200, 404),
    "auditor": (403, 403, 403, 403),
    "system_owner": (403, 403, 403, 403),
    "staff_without_role": (403, 403, 403, 403),
}


@pytest.fixture
def evidence(cases):
    """Each case awaiting identity with one document of evidence the requester sent."""
    from identity.models import IdentityVerification, VerificationStatus
    from requests_app import services as request_services
    from requests_app.models import DataSubjectRequest, DocumentPurpose, Status
    from tests.factories import IdentityVerificationFactory, png_upload

    documents = {}
    for which, case in cases.items():
        if not IdentityVerification.objects.filter(request=case).exists():
            IdentityVerificationFactory(request=case)
        IdentityVerification.objects.filter(request=case).update(status=VerificationStatus.EVIDENCE_RECEIVED)
        DataSubjectRequest.objects.filter(pk=case.pk).update(status=Status.AWAITING_IDENTITY_VERIFICATION)
        documents[which] = request_services.request_document_store(
            request=case, upload=png_upload(), purpose=DocumentPurpose.IDENTITY_EVIDENCE
        )
    return documents


@pytest.mark.parametrize("visitor", list(VERIFICATION_EXPECTED))
def test_each_visitor_may_decide_identity_and_view_evidence_only_on_what_they_may(
    client, visitors, cases, evidence, visitor
):
    from requests_app.models import EventKind
    from tests.factories import give_second_factor

    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
        give_second_factor(client)
    decide_free, decide_theirs, view_free, view_theirs = VERIFICATION_EXPECTED[visitor]
    for which, expected in (("free", decide_free), ("theirs", decide_theirs)):
        # No outcome chosen: the walk decides nothing ("ok" is the case page sent back with the form's errors).
        path = reverse("casework:verification_decide", args=[cases[which].reference])
        assert _outcome(client.post(path, {})) == expected, f"{visitor} deciding {which}"
        assert _outcome(client.get(path)) in ("login", 405)
    for which, expected in (("free", view_free), ("theirs", view_theirs)):
        key = evidence[which].storage_key.removesuffix(".bin")
        path = reverse("casework:evidence_document", args=[cases[which].reference, key])
        assert _outcome(client.get(path)) == expected, f"{visitor} viewing evidence of {which}"
        viewed = cases[which].events.filter(kind=EventKind.DOCUMENT_VIEWED).exists()
        assert viewed == (expected == 200), f"{visitor}: a view is recorded exactly when it happened"
    # A document of another case is never served under this one's reference.
    if user is not None and view_free == 200:
        key = evidence["mine"].storage_key.removesuffix(".bin")
        path = reverse("casework:evidence_document", args=[cases["free"].reference, key])
        assert client.get(path).status_code == 404


# The message templates: the DPO only.
TEMPLATES_EXPECTED = {
    "anonymous": "login",
    "dpo": 200,
    "handler": 403,
    "auditor": 403,
    "system_owner": 403,
    "staff_without_role": 403,
}


@pytest.mark.parametrize("visitor", list(TEMPLATES_EXPECTED))
def test_only_the_dpo_writes_message_templates(client, visitors, visitor):
    from casework.models import MessageTemplate

    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    template = MessageTemplate.objects.order_by("pk").first()
    expected = TEMPLATES_EXPECTED[visitor]
    for path in (
        reverse("casework:message_templates"),
        reverse("casework:message_template_new"),
        reverse("casework:message_template_edit", args=[template.pk]),
    ):
        assert _outcome(client.get(path)) == expected, f"{visitor} opening {path}"
    # An empty form changes nothing: 400 (shown again with what to fix) for the DPO.
    posted = _outcome(client.post(reverse("casework:message_template_edit", args=[template.pk]), {}))
    assert posted == (400 if expected == 200 else expected)
    assert client.post(reverse("casework:message_templates"), {}).status_code in (302, 403, 405)
    template.refresh_from_db()
    assert template.translations.exists()


# The case pack (HTML and PDF): the DPO and auditors on every case, a case handler on the cases assigned to them only
# (not the unassigned ones they may otherwise open), nobody else. Each copy made is in the request's trail.
PACK_EXPECTED = {
    # visitor: (mine, theirs, free)
    "anonymous": ("login", "login", "login"),
    "dpo": (200, 200, 200),
    "handler": (200, 404, 403),
    "auditor": (200, 200, 200),
    "system_owner": (403, 403, 403),
    "staff_without_role": (403, 403, 403),
}


@pytest.mark.parametrize("visitor", list(PACK_EXPECTED))
def test_each_visitor_reads_the_case_pack_only_where_they_may(client, visitors, cases, visitor, monkeypatch):
    # The walk is about who gets in; the PDF's rendering is tested in test_case_pack.
    monkeypatch.setattr(views_pack, "case_pack_pdf", lambda html, **kwargs: b"%PDF-1.7 walk")
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    for which, expected in zip(("mine", "theirs", "free"), PACK_EXPECTED[visitor], strict=True):
        case = cases[which]
        for name in ("casework:request_pack", "casework:request_pack_pdf"):
            before = case.events.filter(kind=EventKind.CASE_PACK_GENERATED).count()
            response = client.get(reverse(name, args=[case.reference]))
            assert _outcome(response) == expected, f"{visitor} opening {name} of {which}"
            made = case.events.filter(kind=EventKind.CASE_PACK_GENERATED).count() - before
            assert made == (1 if expected == 200 else 0), f"{visitor}: {name} of {which} audited {made} times"
            assert _outcome(client.post(reverse(name, args=[case.reference]))) in ("login", 405)


# The people page (roles and accounts): the DPO only, and only with a recent second factor (step-up, tested in
# test_people). The walk gives the factor, so what it sees is the permission alone; an empty POST changes nothing.
PEOPLE_EXPECTED = {
    "anonymous": ("login", "login"),
    "dpo": (200, 302),
    "handler": (403, 403),
    "auditor": (403, 403),
    "system_owner": (403, 403),
    "staff_without_role": (403, 403),
}


@pytest.mark.parametrize("visitor", list(PEOPLE_EXPECTED))
def test_only_the_dpo_opens_the_people_page(client, visitors, visitor):
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
        give_second_factor(client)
    page, post = PEOPLE_EXPECTED[visitor]
    assert _outcome(client.get(reverse("casework:people"))) == page
    assert _outcome(client.post(reverse("casework:people"), {})) == post
    assert not StaffRoleChange.objects.exists()


# Complaints (UK DPA 2018 s.164A; casework.complaint_selectors): the DPO sees and acts on all; a case handler those
# about a request they may see ("free" is about an unassigned request, "theirs" about handler-b's, "unlinked" about
# none); the auditor reads all, acts on none; nobody else sees any.
# visitor: (register, log page, open free, open theirs, open unlinked, step on free, step on theirs)
COMPLAINT_EXPECTED = {
    "anonymous": ("login",) * 7,
    "dpo": (200, 200, 200, 200, 200, 400, 400),
    "handler": (200, 200, 200, 404, 404, 400, 404),
    "auditor": (200, 403, 200, 200, 200, 403, 403),
    "system_owner": (403, 403, 403, 403, 403, 403, 403),
    "staff_without_role": (403, 403, 403, 403, 403, 403, 403),
}


@pytest.fixture
def complaints(dpo, cases):
    from django.utils import timezone

    from complaints.services import complaint_log

    def log(request):
        return complaint_log(
            actor=dpo,
            name="Grace Hopper",
            email="grace@example.com",
            text="t",
            channel="letter",
            received_at=timezone.now(),
            request=request,
        )

    return {"free": log(cases["free"]), "theirs": log(cases["theirs"]), "unlinked": log(None)}


@pytest.mark.parametrize("visitor", list(COMPLAINT_EXPECTED))
def test_each_visitor_sees_and_acts_on_only_the_complaints_they_may(client, visitors, complaints, visitor):
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    register, log_page, free, theirs, unlinked, step_free, step_theirs = COMPLAINT_EXPECTED[visitor]
    assert _outcome(client.get(reverse("casework:complaints_register"))) == register
    assert _outcome(client.get(reverse("casework:complaint_log"))) == log_page
    # An empty logging form changes nothing: 400 with the errors for those who may log.
    assert _outcome(client.post(reverse("casework:complaint_log"), {})) == (400 if log_page == 200 else log_page)
    for which, expected in (("free", free), ("theirs", theirs), ("unlinked", unlinked)):
        path = reverse("casework:complaint_detail", args=[complaints[which].reference])
        assert _outcome(client.get(path)) == expected, f"{visitor} opening {which}"
    # Empty forms: "ok" is the complaint page sent back with the form's errors (400), so the walk changes nothing.
    for name in COMPLAINT_STEPS:
        for which, expected in (("free", step_free), ("theirs", step_theirs)):
            path = reverse(f"casework:complaint_{name}", args=[complaints[which].reference])
            outcome = _outcome(client.post(path, {}))
            if name == "acknowledge" and expected == 400:
                expected = 302  # the note is optional: acknowledging needs nothing typed
            assert outcome == expected, f"{visitor} doing {name} on {which}"
            assert _outcome(client.get(path)) in ("login", 405), f"{visitor} GET {name}"


# Recording a letter to a complainant who gets notices by post as posted: whoever may act on the complaint.
# visitor: (on free, on theirs, on unlinked); "ok" with no day given is the redirect back with a message (302).
COMPLAINT_LETTER_EXPECTED = {
    "anonymous": ("login",) * 3,
    "dpo": (302, 302, 302),
    "handler": (302, 404, 404),
    "auditor": (403, 403, 403),
    "system_owner": (403, 403, 403),
    "staff_without_role": (403, 403, 403),
}


@pytest.mark.parametrize("visitor", list(COMPLAINT_LETTER_EXPECTED))
def test_each_visitor_may_record_a_complaint_letter_as_posted_only_if_they_may(client, visitors, complaints, visitor):
    from complaints.models import ComplaintMessage

    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    for which, expected in zip(("free", "theirs", "unlinked"), COMPLAINT_LETTER_EXPECTED[visitor], strict=True):
        letter = ComplaintMessage.objects.create(
            complaint=complaints[which], kind="receipt", subject="s", body="b", by_post=True
        )
        path = reverse("casework:complaint_letter_posted", args=[complaints[which].reference, letter.pk])
        assert _outcome(client.post(path, {})) == expected, f"{visitor} recording a letter on {which}"
        assert _outcome(client.get(path)) in ("login", 405), f"{visitor} GET on {which}"
        letter.refresh_from_db()
        assert letter.posted_on is None
    if visitor == "dpo":
        # An e-mail is not a letter: recording it as posted is a 404, even for the DPO.
        email = ComplaintMessage.objects.create(complaint=complaints["free"], kind="receipt", subject="s", body="b")
        path = reverse("casework:complaint_letter_posted", args=[complaints["free"].reference, email.pk])
        assert _outcome(client.post(path, {"posted_on": "2026-01-01"})) == 404


# Review before release (fulfilment, issue 12): whoever may act on the request, on the requests they may see. Each
# case's answer was compiled from an empty register, so each has a release in review with no tables. Empty forms
# change nothing: "ok" is the review page sent back with what to fix (400), or the redirect back with a message
# (sending back with no reason); approving without a fresh factor is sent to give one ("step-up"); undoing a
# decision that does not exist is a 404 for those who may.
# visitor: (page, decide, undo, approve, send back), each on (free, theirs)
REVIEW_EXPECTED = {
    "anonymous": (("login", "login"),) * 5,
    "dpo": ((200, 200), (400, 400), (404, 404), ("step-up", "step-up"), (302, 302)),
    "handler": ((200, 404), (400, 404), (404, 404), ("step-up", 404), (302, 404)),
    "auditor": ((403, 403),) * 5,
    "system_owner": ((403, 403),) * 5,
    "staff_without_role": ((403, 403),) * 5,
}


def test_the_walk_covers_every_review_page():
    resolver = get_resolver()
    (fulfilment,) = [p for p in resolver.url_patterns if getattr(p, "namespace", None) == "fulfilment"]
    # Walked in tests/fulfilment: retrying a search (test_case_panel), further copies (test_delivery_permission_walk),
    # direct transmission (test_transmission_pages).
    elsewhere = {"job_retry", "transmission_decide", "transmission_retry"} | {
        name for name in (pattern.name for pattern in fulfilment.url_patterns) if name.startswith("further_copy_")
    }
    names = {pattern.name for pattern in fulfilment.url_patterns} - elsewhere
    assert names == {
        "review",
        "redaction_add",
        "redaction_undo",
        "release_approve",
        "release_send_back",
        "release_build_again",
    }


@pytest.mark.parametrize("visitor", list(REVIEW_EXPECTED))
def test_each_visitor_may_review_and_approve_only_what_they_may(client, visitors, cases, visitor):
    from fulfilment import services as fulfilment_services
    from fulfilment.models import Release, ReleaseStatus

    for case in cases.values():
        # Compiled in this test's transaction (the on-commit planning never runs here), from an empty register.
        compilation = fulfilment_services.compilation_plan(request_id=case.pk)
        fulfilment_services.compilation_assemble(compilation_id=compilation.pk)
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    page, decide, undo, approve, send_back = REVIEW_EXPECTED[visitor]

    def outcome(response):
        if response.status_code == 302 and "/reauthenticate/" in response.url:
            return "step-up"
        return _outcome(response)

    for index, which in enumerate(("free", "theirs")):
        reference = cases[which].reference
        assert Release.objects.filter(request=cases[which]).exists()
        walked = {
            "page": outcome(client.get(reverse("fulfilment:review", args=[reference]))),
            "decide": outcome(client.post(reverse("fulfilment:redaction_add", args=[reference]), {})),
            "undo": outcome(client.post(reverse("fulfilment:redaction_undo", args=[reference, 1]))),
            "approve": outcome(client.post(reverse("fulfilment:release_approve", args=[reference]))),
            "send back": outcome(client.post(reverse("fulfilment:release_send_back", args=[reference]), {})),
        }
        expected = {
            "page": page[index],
            "decide": decide[index],
            "undo": undo[index],
            "approve": approve[index],
            "send back": send_back[index],
        }
        assert walked == expected, f"{visitor} on {which}"
        for name in ("redaction_add", "release_approve", "release_send_back"):
            assert outcome(client.get(reverse(f"fulfilment:{name}", args=[reference]))) in ("login", 405, 403)
    assert set(Release.objects.values_list("status", flat=True)) == {ReleaseStatus.IN_REVIEW}


# Building a released archive again after its build kept failing: whoever may act on the request, on the requests they
# may see. Here each release is still in review, so those who may are sent back with a message (302); it changes
# nothing.
BUILD_AGAIN_EXPECTED = {
    "anonymous": ("login", "login"),
    "dpo": (302, 302),
    "handler": (302, 404),
    "auditor": (403, 403),
    "system_owner": (403, 403),
    "staff_without_role": (403, 403),
}


@pytest.mark.parametrize("visitor", list(BUILD_AGAIN_EXPECTED))
def test_each_visitor_may_build_a_release_again_only_where_they_may(client, visitors, cases, visitor):
    from fulfilment import services as fulfilment_services
    from fulfilment.models import Release, ReleaseStatus

    for case in cases.values():
        compilation = fulfilment_services.compilation_plan(request_id=case.pk)
        fulfilment_services.compilation_assemble(compilation_id=compilation.pk)
    user = visitors[visitor]
    if user is not None:
        client.force_login(user)
    for index, which in enumerate(("free", "theirs")):
        release = Release.objects.get(request=cases[which])
        url = reverse("fulfilment:release_build_again", args=[cases[which].reference, release.pk])
        assert _outcome(client.post(url)) == BUILD_AGAIN_EXPECTED[visitor][index], f"{visitor} on {which}"
        assert _outcome(client.get(url)) in ("login", 405, 403)
    assert set(Release.objects.values_list("status", flat=True)) == {ReleaseStatus.IN_REVIEW}
    assert not Release.objects.exclude(build_attempts=0).exists()
