"""Issue 13, done when: against a real Celery worker on Redis and PostgreSQL, an erasure in the demo removes or
anonymises the person's data in each connector kind (the demo CRM, an external SQL database, a system with an API that
answers later by a signed callback, a system owner's task) with the exceptions recorded, notifies the recipients
(Art. 19) and produces the answer to the person (Art. 12(4), 17(3)); rectification (Art. 16), restriction with its
lift after the Art. 18(3) notice, and a marketing objection (Art. 21(3)) each change the demo data as they should; a
worker killed in the middle of an erasure and a new one complete it exactly once; and the retention job, run twice
over cases of every age and a held one, deletes exactly what the schedule says (Art. 5(1)(e))."""

import json
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from django.db.models import Max
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from changes import rectifications, restrictions, services, tasks_decisions
from changes import tasks as change_tasks
from changes.models import ChangeItem, ChangeJob, ChangeJobStatus, ChangeRun, ErasureTombstone, RunStatus
from changes.models_decisions import Restriction, RestrictionStatus
from changes.objections import suppression_timing
from changes.rectifications import Correction
from complaints.models import Complaint, ComplaintEvent, ComplaintStatus
from complaints.services import ComplaintSubmission, complaint_resolve, complaint_submit
from datasystems import webhooks
from datasystems.connectors.changes import KEYED_HASH_PREFIX, ChangeKind, keyed_hash
from datasystems.models import DataSystem, NotifyBy, SystemRecipient
from democrm import processing
from democrm.models import (
    Account,
    AdAudienceMember,
    Customer,
    CustomerInsight,
    Event,
    MarketingPreference,
    MarketingProfile,
    Order,
    OrderLine,
    SupplementaryStatement,
    SupportTicket,
    TicketMessage,
)
from dsar_portal.crypto import email_lookup_hash
from recipientnotices.models import NoticeStatus, RecipientNotice
from requests_app.models import DataSubjectRequest, MarketingSuppression, Outcome, Right, Status
from requests_app.scope import ErasureScope, RectificationScope, RestrictionGround, RestrictionScope
from retention import tasks as retention_tasks
from retention.models import ClosedCaseFigure, HoldReason
from retention.services import legal_hold_place
from tests.connectors import conftest as external_crm
from tests.factories import StaffUserFactory, give_second_factor, in_progress_objection, submitted_request
from tests.fulfilment.conftest import (  # noqa: F401 (fixtures)
    alan_request,
    dpo,
    handler,
    register,
    staff_roles,
)
from tests.integration.test_celery_worker import _sent_emails, _wait_for
from tests.integration.test_compiled_answer_end_to_end import (  # noqa: F401 (fixtures)
    SECRET,
    SECRET_ENV,
    crm_database,
    owner,
    workers,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CRM = "Customer relationship management (CRM)"
BILLING = "Billing"
ANALYTICS = "Website analytics"
MAILING = "Marketing e-mail"
PROFILING = "Marketing profiling"
ADVERTS = "Advertising audiences"
# The demo CRM, through the demo application's connector.
DEMO_SYSTEMS = (CRM, BILLING, ANALYTICS, MAILING, PROFILING, ADVERTS)
SQL = "Product trial accounts"  # here an outside database (tests/connectors/conftest.py), through the SQL connector
HTTP = "Customer surveys"  # a system with an API that accepts a change with 202 and answers by a signed callback
MANUAL = "Call recordings and live-chat transcripts"  # a system owner's task
UNUSED = "Business contacts from a data provider"

ALAN_NUMBER = "C-1001"
ALAN_EMAIL = "alan@demo.example"
ALAN_EXTERNAL_EMAIL = "Alan@Demo.Example"  # as the outside database stores it (matched lower-cased)
ALAN_ID = 1  # his customer id in the outside database

TAX = "Orders are accounting records we must keep for six years (Companies Act 2006 s.388)."
SQL_CONFIG = {
    "url_env": "CRM_DATABASE_URL",
    "tables": [
        {
            "name": "customers",
            "table": "customer",
            "match": {"email": {"column": "email_address", "lower": True}, "customer_id": "customer_ref"},
            "columns": ["customer_ref", "full_name", "email_address", "mobile"],
            "erasure": {
                "action": "anonymise",
                "fields": {"full_name": {"fixed": "Erased customer"}, "email_address": "keyed_hash", "mobile": "null"},
                "ground": "erasure_legal_obligation",
                "reason": "The account holder of the orders we must keep. " + TAX,
            },
        },
        {
            "name": "orders",
            "table": "sales_order",
            "via": {"table": "customers", "column": "customer_id", "references": "id"},
            "columns": ["order_no", "placed_on", "total"],
            "erasure": {"action": "keep", "ground": "erasure_legal_obligation", "reason": TAX},
        },
        {
            "name": "events",
            "table": "web_event",
            "via": {"table": "customers", "column": "customer_id", "references": "id"},
            "columns": ["seen_at", "ip"],
        },
        {
            "name": "risk",
            "table": "risk_score",
            "via": {"table": "customers", "column": "customer_id", "references": "id"},
            "columns": ["score"],
            "provided_or_observed": False,
        },
    ],
}

PRIZE_DRAW = "The entry to the prize draw is kept until the draw's dispute period ends."
# What the survey system holds of Alan, per table (the rows its API says it changed).
SURVEY_ROWS = {"responses": 3, "prize_draw_entries": 1}
HTTP_TABLES = [
    {"name": "responses"},
    {
        "name": "prize_draw_entries",
        "erasure": {"action": "keep", "ground": "erasure_legal_claims", "reason": PRIZE_DRAW},
    },
]


# --- The services around the portal: the survey system's API ---------------------------------------------------


class SurveySystem:
    """The survey system's API on a local port: it checks the portal's signature; a dry run (the estimate) is
    answered at once with the rows per table; a change is accepted with 202 and, a moment later, its result is posted,
    signed, to the callback URL the portal sent (which the live server answers)."""

    def __init__(self) -> None:
        self.changes: list[dict] = []
        self.callbacks: list[int] = []
        system = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    webhooks.verify_signature(dict(self.headers.items()), body, SECRET)
                except webhooks.SignatureError:
                    self._answer(401, {})
                    return
                change = json.loads(body)
                tables = [{"table": item["table"], "rows": SURVEY_ROWS[item["table"]]} for item in change["changes"]]
                if change["dry_run"]:
                    self._answer(200, {"tables": tables})
                    return
                system.changes.append(change)
                token = f"survey-{uuid.uuid4().hex}"
                self._answer(202, {"callback_token": token})
                threading.Thread(target=system.answer_later, args=(change, token), daemon=True).start()

            def _answer(self, status: int, payload: dict) -> None:
                answer = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dsar/change"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer_later(self, change: dict, token: str) -> None:
        payload = json.dumps(
            {
                "callback_token": token,
                "request_status": "completed",
                "tables": [
                    {"table": item["table"], "action": item["action"], "rows": SURVEY_ROWS[item["table"]]}
                    for item in change["changes"]
                ],
            }
        ).encode()
        # The worker records that the change waits only after the 202: until then the portal answers 409.
        for _ in range(80):
            request = urllib.request.Request(  # noqa: S310 (the live server's URL, from the portal)
                change["status_callback_urls"][0],
                data=payload,
                headers={"Content-Type": "application/json", **webhooks.sign(payload, SECRET)},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    self.callbacks.append(response.status)
                    return
            except urllib.error.HTTPError as error:
                self.callbacks.append(error.code)
                if error.code != 409:
                    return
            time.sleep(0.25)


@pytest.fixture
def survey_system():
    system = SurveySystem()
    yield system
    system.server.shutdown()
    system.server.server_close()


@pytest.fixture
def demo_systems(register):  # noqa: F811
    """The demo register with only the systems the demo CRM holds in use (restriction, rectification and marketing
    reach them alone)."""
    DataSystem.objects.exclude(name__in=DEMO_SYSTEMS).update(active=False)
    return {system.name: system for system in DataSystem.objects.filter(active=True)}


@pytest.fixture
def every_kind(register, owner, crm_database, survey_system, monkeypatch):  # noqa: F811
    """The demo register with a system of each connector kind: the demo CRM's four, the product trials in an outside
    SQL database, the customer surveys behind an API, and the call recordings (a task for ``owner``)."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv("CRM_DATABASE_URL", crm_database[0])
    DataSystem.objects.filter(name=UNUSED).update(active=False)
    DataSystem.objects.filter(name=SQL).update(connector="sql", connector_config=SQL_CONFIG)
    DataSystem.objects.filter(name=HTTP).update(
        connector="http",
        connector_config={
            "url": survey_system.url,
            "secret_env": SECRET_ENV,
            "identities": ["email", "customer_id"],
            "tables": HTTP_TABLES,
        },
    )
    DataSystem.objects.filter(name=MANUAL).update(owner=owner)
    return {system.name: system for system in DataSystem.objects.filter(active=True)}


# --- Reading the source data --------------------------------------------------------------------------------


DEMO_MODELS = {
    Customer: "customer_number",
    Account: "customer__customer_number",
    Order: "customer__customer_number",
    OrderLine: "order__customer__customer_number",
    MarketingPreference: "customer__customer_number",
    SupportTicket: "customer__customer_number",
    TicketMessage: "ticket__customer__customer_number",
    Event: "customer__customer_number",
    CustomerInsight: "customer__customer_number",
    MarketingProfile: "customer__customer_number",
    AdAudienceMember: "customer__customer_number",
}


def _others_in_democrm() -> dict[str, list[dict]]:
    """Every row of the demo CRM that is not Alan's, in full."""
    return {
        model.__name__: [model_to_dict(row) for row in model.objects.exclude(**{path: ALAN_NUMBER}).order_by("pk")]
        for model, path in DEMO_MODELS.items()
    }


def _alans(model):
    return model.objects.filter(**{DEMO_MODELS[model]: ALAN_NUMBER})


def _external(engine, query: str, **params) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(query), params)]


EXTERNAL_TABLES = ("customer", "sales_order", "order_item", "web_event", "risk_score")


def _others_in_external(engine) -> dict[str, list[tuple]]:
    others = {
        "customer": "SELECT * FROM customer WHERE id <> :alan ORDER BY id",
        "sales_order": "SELECT * FROM sales_order WHERE customer_id <> :alan ORDER BY id",
        "order_item": "SELECT * FROM order_item ORDER BY id",
        "web_event": "SELECT * FROM web_event WHERE customer_id <> :alan ORDER BY id",
        "risk_score": "SELECT * FROM risk_score WHERE customer_id <> :alan ORDER BY id",
    }
    return {table: _external(engine, query, alan=ALAN_ID) for table, query in others.items()}


def _count(engine, table: str) -> int:
    return _external(engine, f"SELECT count(*) FROM {table} WHERE customer_id = :alan", alan=ALAN_ID)[0][0]  # noqa: S608


# --- Steps -------------------------------------------------------------------------------------------------------


def _approve_on_the_case_page(client, request, run: ChangeRun, user) -> None:
    """``user`` approves the change on the case page: allauth asks for a fresh second factor first (step-up)."""
    client.force_login(user)
    approve = reverse("changes:run_approve", args=[request.reference, run.pk])
    assert "reauthenticate" in client.post(approve).url
    give_second_factor(client)
    assert client.post(approve).status_code == 302
    client.logout()


def _wait_for_run(run: ChangeRun, *statuses: str, timeout: float = 60) -> ChangeRun:
    statuses = statuses or (RunStatus.DONE,)
    reached = ChangeRun.objects.filter(pk=run.pk, status__in=statuses)
    assert _wait_for(reached.exists, timeout=timeout), f"the {run.kind} run did not reach {statuses}: " + str(
        list(run.jobs.values_list("system__name", "status", "last_error"))
    )
    return reached.get()


def _complete_change_task(client, job: ChangeJob, owner) -> None:  # noqa: F811
    """The owner of the call recordings records on the task page what they deleted in the telephony console, and
    what they kept and why."""
    client.force_login(owner)
    path = reverse("changes_tasks:task_detail", args=[job.public_id])
    assert client.get(reverse("changes_tasks:task_list")).content.decode().count(path) == 1
    assert client.get(path).status_code == 200
    items = [
        {"table": "call recordings", "action": "delete", "rows": "2"},
        {
            "table": "complaint call",
            "action": "keep",
            "rows": "1",
            "ground": "erasure_legal_claims",
            "reason": "The recording of a call about an open complaint is kept until it is settled.",
        },
    ]
    data = {"action": "done", "items-TOTAL_FORMS": "2", "items-INITIAL_FORMS": "0", "done-note": "Deleted in VoiceLine"}
    for index, item in enumerate(items):
        data.update({f"items-{index}-{key}": value for key, value in item.items()})
    response = client.post(path, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    client.logout()


def _emails_to(mail_dir, address: str) -> list:
    if not mail_dir.exists():
        return []
    return [message for message in _sent_emails(mail_dir) if address in message["To"]]


# --- 1. Erasure in every connector kind ---------------------------------------------------------------------


def test_an_erasure_reaches_every_connector_kind_with_its_exceptions_recipients_and_answer(
    client,
    workers,  # noqa: F811
    every_kind,
    crm_database,  # noqa: F811
    survey_system,
    owner,  # noqa: F811
    handler,  # noqa: F811
    dpo,  # noqa: F811
    settings,
):
    settings.DSAR_CHANGE_DPO_APPROVAL_ROWS = 100  # Alan's 2,500 web events make this erasure a large one
    engine = crm_database[1]
    workers.start()
    # Alan objected to direct marketing before: the portal's suppression entry outlives his erasure (Art. 21(3)).
    suppression = MarketingSuppression.objects.create(email_hash=email_lookup_hash(ALAN_EMAIL), source_request_id=1)
    request = alan_request(Right.ERASURE, details=ErasureScope().as_details())
    others_demo, others_external = _others_in_democrm(), _others_in_external(engine)
    alans_orders = {order.pk: order for order in _alans(Order)}
    alans_lines = _alans(OrderLine).count()
    assert alans_orders and alans_lines and _alans(Event).exists() and _alans(MarketingPreference).exists()

    # The case handler plans it on the case page; it waits for approval, the case handler's and then the DPO's.
    client.force_login(handler)
    assert client.post(reverse("changes:erasure_plan", args=[request.reference])).status_code == 302
    client.logout()
    run = ChangeRun.objects.get(request=request, kind=ChangeKind.ERASE)
    assert run.status == RunStatus.AWAITING_APPROVAL and run.rows_estimate > 100
    assert set(run.jobs.values_list("system__name", flat=True)) == set(every_kind)
    _approve_on_the_case_page(client, request, run, handler)
    run.refresh_from_db()
    assert run.status == RunStatus.AWAITING_APPROVAL and run.approved_by == handler and run.dpo_approved_by is None
    assert not ChangeJob.objects.filter(run=run).exclude(status=ChangeJobStatus.QUEUED).exists()
    _approve_on_the_case_page(client, request, run, dpo)
    run.refresh_from_db()
    assert run.dpo_approved_by == dpo and run.status == RunStatus.RUNNING

    # The call recordings are a task for their owner; the survey system answers by its signed callback.
    manual = ChangeJob.objects.get(run=run, system__name=MANUAL)
    assert manual.status == ChangeJobStatus.WAITING
    _complete_change_task(client, manual, owner)
    run = _wait_for_run(run)
    assert 200 in survey_system.callbacks
    sent = survey_system.changes[0]
    assert sent["subject_request_type"] == "erasure" and sent["dry_run"] is False
    assert {item["identity_type"] for item in sent["subject_identities"]} == {"email", "controller_customer_id"}

    jobs = {job.system.name: job for job in run.jobs.select_related("system")}
    assert {name: job.status for name, job in jobs.items()} == dict.fromkeys(every_kind, ChangeJobStatus.DONE)
    # The systems whose erasure removes the identifiers the others find Alan by (the CRM's customer record and the
    # outside customer table) went last, after every other system had finished.
    others_finished = max(job.finished_at for name, job in jobs.items() if name not in (CRM, SQL))
    assert jobs[CRM].started_at >= others_finished and jobs[SQL].started_at >= others_finished
    for name in (*DEMO_SYSTEMS, SQL):
        assert jobs[name].worker.startswith("e2e-0@"), name

    # The demo CRM: Alan's customer record anonymised, keeping his number for the invoices; his orders kept without
    # the delivery address and with the payment reference hashed; his order lines kept; everything else deleted.
    alan = Customer.objects.get(customer_number=ALAN_NUMBER)
    assert alan.name == "Erased customer" and alan.email.startswith(KEYED_HASH_PREFIX)
    assert not alan.phone and not alan.address_line and not alan.city and not alan.postcode
    assert alan.date_of_birth is None
    orders = {order.pk: order for order in _alans(Order)}
    reference_length = Order._meta.get_field("payment_reference").max_length  # the hash cut to fit the column
    assert orders.keys() == alans_orders.keys()
    for pk, order in orders.items():
        assert not order.delivery_address
        assert order.payment_reference == keyed_hash(
            services.hash_key(), alans_orders[pk].payment_reference, max_length=reference_length
        )
        assert (order.total, order.order_number) == (alans_orders[pk].total, alans_orders[pk].order_number)
    assert _alans(OrderLine).count() == alans_lines
    for model in (
        Account,
        MarketingPreference,
        SupportTicket,
        TicketMessage,
        Event,
        CustomerInsight,
        MarketingProfile,
        AdAudienceMember,
    ):
        assert not _alans(model).exists(), model.__name__
    # The outside database: his customer row anonymised, his orders kept, his events and risk score deleted.
    (customer,) = _external(engine, "SELECT full_name, email_address, mobile FROM customer WHERE id = :i", i=ALAN_ID)
    # (The mobile column takes no NULL: "null" empties it.)
    assert customer == ("Erased customer", keyed_hash(services.hash_key(), ALAN_EXTERNAL_EMAIL), "")
    assert _count(engine, "sales_order") == 3
    assert _count(engine, "web_event") == 0 and _count(engine, "risk_score") == 0
    # Nobody else's data changed, in either database.
    assert _others_in_democrm() == others_demo
    assert _others_in_external(engine) == others_external

    # The proof per table, with what was kept and on what Art. 17(3) ground (the register's, also for the API's).
    items = {
        (job.system.name, item.table): (item.action, item.rows, item.ground)
        for job in jobs.values()
        for item in ChangeItem.objects.filter(job=job)
    }
    assert items[(BILLING, "orders")] == ("anonymise", len(alans_orders), "erasure_legal_obligation")
    assert items[(BILLING, "order_lines")][0::2] == ("keep", "erasure_legal_obligation")
    assert items[(CRM, "customers")] == ("anonymise", 1, "erasure_legal_obligation")
    assert items[(SQL, "orders")][0::2] == ("keep", "erasure_legal_obligation")
    assert items[(SQL, "events")] == ("delete", external_crm.EVENTS_FOR_ALAN, "")
    assert items[(HTTP, "responses")] == ("delete", 3, "")
    assert items[(HTTP, "prize_draw_entries")] == ("keep", 1, "erasure_legal_claims")
    assert items[(MANUAL, "complaint call")] == ("keep", 1, "erasure_legal_claims")
    assert items[(ANALYTICS, "events")][0] == "delete" and items[(ANALYTICS, "events")][1] > 0

    # The tombstone: keyed hashes of his identifiers, never the values, naming every system erased.
    tombstone = ErasureTombstone.objects.get(run_id=run.pk)
    assert tombstone.hashes["email"] == services.keyed_hash(ALAN_EMAIL)
    assert tombstone.hashes["customer_id"] == services.keyed_hash(ALAN_NUMBER)
    assert ALAN_EMAIL not in json.dumps(tombstone.hashes) and ALAN_NUMBER not in json.dumps(tombstone.hashes)
    assert sorted(tombstone.system_ids) == sorted(job.system_id for job in jobs.values())
    # The portal's marketing suppression entry is never erased.
    assert MarketingSuppression.objects.filter(pk=suppression.pk).exists()

    # Art. 19: one notice per recipient of the systems erased; e-mailed by the worker, or left to be posted.
    expected = {
        link.recipient.name: link.recipient
        for link in SystemRecipient.objects.filter(system__in=every_kind.values()).select_related("recipient")
    }
    notices = RecipientNotice.objects.filter(request=request).select_related("recipient")
    assert sorted(notice.recipient.name for notice in notices) == sorted(expected)
    emailed = notices.filter(method=NotifyBy.EMAIL)
    assert emailed.exists() and notices.filter(method=NotifyBy.POST).exists()
    assert _wait_for(lambda: not emailed.exclude(status=NoticeStatus.SENT).exists(), timeout=60)
    assert set(notices.filter(method=NotifyBy.POST).values_list("status", flat=True)) == {NoticeStatus.PLANNED}
    for notice in emailed:
        (message,) = _emails_to(workers.mail_dir, notice.recipient.email)
        # The recipient learns the notice's opaque id, never the case reference.
        text = message["Subject"] + message.get_content()
        assert str(notice.public_id) in text and request.reference not in text

    # The answer to Alan: what was erased, what was kept and why (Art. 12(4)), sent from the case page.
    client.force_login(handler)
    assert client.post(reverse("changes:answer_send", args=[request.reference, run.pk])).status_code == 302
    request.refresh_from_db()
    assert request.status == Status.COMPLETED and request.outcome == Outcome.PARTLY_FULFILLED

    def answer():
        return next(
            (m for m in _emails_to(workers.mail_dir, request.requester_email) if "erased your data" in m.get_content()),
            None,
        )

    assert _wait_for(lambda: answer() is not None, timeout=60), "the answer was not e-mailed"
    words = " ".join(answer().get_content().split())
    for erased in (f"{ANALYTICS}: events (delete", f"{HTTP}: responses (delete", f"{MANUAL}: call recordings"):
        assert erased in words, erased
    for kept in (TAX, PRIZE_DRAW, "The recording of a call about an open complaint"):
        assert kept in words, kept
    assert MarketingSuppression.objects.filter(pk=suppression.pk).exists()


# --- 2. Rectification -------------------------------------------------------------------------------------------


def test_a_rectification_corrects_the_crm_and_a_supplementary_statement_is_stored(
    workers,  # noqa: F811
    demo_systems,
    handler,  # noqa: F811
):
    workers.start()
    crm = demo_systems[CRM]
    before = model_to_dict(Customer.objects.get(customer_number=ALAN_NUMBER))
    others = _others_in_democrm()
    correction = alan_request(
        Right.RECTIFICATION,
        details=RectificationScope(
            wrong="My phone number and town are out of date", correct="07700900999, Cambridge"
        ).as_details(),
    )
    decision = rectifications.rectification_decide(
        request=correction,
        actor=handler,
        outcome="corrected",
        corrections=[
            Correction(system=crm, table="customers", column="phone", value="07700900999"),
            Correction(system=crm, table="customers", column="city", value="Cambridge"),
        ],
    )
    run = decision.run
    assert run.status == RunStatus.AWAITING_APPROVAL  # a destructive change: the case handler approves it first
    services.change_run_approve(run=run, actor=handler)
    run = _wait_for_run(run)
    assert run.jobs.get().worker.startswith("e2e-0@")
    after = model_to_dict(Customer.objects.get(customer_number=ALAN_NUMBER))
    assert (after["phone"], after["city"]) == ("07700900999", "Cambridge")
    assert {key: value for key, value in after.items() if key not in ("phone", "city")} == {
        key: value for key, value in before.items() if key not in ("phone", "city")
    }
    assert _others_in_democrm() == others
    assert _wait_for(lambda: DataSubjectRequest.objects.get(pk=correction.pk).status == Status.COMPLETED, timeout=30)

    statement = "I moved to Cambridge in May 2026; letters to my old address never reached me."
    completion = alan_request(
        Right.RECTIFICATION, details=RectificationScope(supplementary_statement=statement).as_details()
    )
    decision = rectifications.rectification_decide(
        request=completion, actor=handler, outcome="statement_added", systems=[crm]
    )
    services.change_run_approve(run=decision.run, actor=handler)
    _wait_for_run(decision.run)
    stored = SupplementaryStatement.objects.filter(customer__customer_number=ALAN_NUMBER)
    assert list(stored.values_list("statement", flat=True)) == [statement]
    assert model_to_dict(Customer.objects.get(customer_number=ALAN_NUMBER)) == after
    assert not SupplementaryStatement.objects.exclude(customer__customer_number=ALAN_NUMBER).exists()


# --- 3. Restriction and its lift ----------------------------------------------------------------------------------


def test_a_restriction_flags_the_crm_and_is_lifted_by_the_sweep_only_on_the_day_its_notice_gave(
    workers,  # noqa: F811
    demo_systems,
    handler,  # noqa: F811
):
    workers.start()
    alan = Customer.objects.get(customer_number=ALAN_NUMBER)
    MarketingPreference.objects.create(
        customer=alan, channel="email", consent=True, changed_at=timezone.now() - timedelta(days=1), source="Sign-up"
    )
    assert processing.customers_in_use().filter(pk=alan.pk).exists()
    assert processing.marketing_audience("email").filter(pk=alan.pk).exists()
    scope = RestrictionScope(grounds=(RestrictionGround.LEGAL_CLAIMS,), data="My order history")
    request = alan_request(Right.RESTRICTION, details=scope.as_details())
    restriction = restrictions.restriction_start(
        request=request, grounds=["legal_claims"], scope="Order history", actor=handler
    )
    _wait_for_run(restriction.restrict_run)
    in_force = Restriction.objects.filter(pk=restriction.pk, status=RestrictionStatus.IN_FORCE)
    assert _wait_for(in_force.exists, timeout=30), "the restriction did not come into force"
    alan.refresh_from_db()
    assert alan.restricted is True
    assert not processing.customers_in_use().filter(pk=alan.pk).exists()
    assert not processing.marketing_audience("email").filter(pk=alan.pk).exists()
    assert not Customer.objects.exclude(pk=alan.pk).filter(restricted=True).exists()

    # Lifting is refused before the person was told (Art. 18(3)), and before the day the notice gives.
    today = timezone.localdate()
    with pytest.raises(restrictions.RestrictionError, match=r"18\(3\)"):
        restrictions.restriction_lift(restriction=in_force.get(), actor=handler, today=today + timedelta(days=30))
    restrictions.restriction_lift_notify(
        restriction=in_force.get(), lift_on=today + timedelta(days=3), reason="The claim was settled", actor=handler
    )
    with pytest.raises(restrictions.RestrictionError, match="cannot be lifted before"):
        restrictions.restriction_lift(restriction=Restriction.objects.get(pk=restriction.pk), actor=handler)
    assert workers.run_again([(tasks_decisions.sweep_decisions,)])[0]["lifts_started"] == 0
    alan.refresh_from_db()
    assert alan.restricted is True
    assert _wait_for(lambda: _emails_to(workers.mail_dir, request.requester_email), timeout=30)

    # The day comes: the decisions' sweep on the worker lifts it.
    Restriction.objects.filter(pk=restriction.pk).update(lift_on=today)
    assert workers.run_again([(tasks_decisions.sweep_decisions,)])[0]["lifts_started"] == 1
    lifted = Restriction.objects.filter(pk=restriction.pk, status=RestrictionStatus.LIFTED)
    assert _wait_for(lifted.exists, timeout=60), "the restriction was not lifted"
    assert lifted.get().lift_run.status == RunStatus.DONE
    alan.refresh_from_db()
    assert alan.restricted is False
    assert processing.customers_in_use().filter(pk=alan.pk).exists()
    assert workers.run_again([(tasks_decisions.sweep_decisions,)])[0]["lifts_started"] == 0


# --- 4. A marketing objection ------------------------------------------------------------------------------------


def test_a_marketing_objection_is_suppressed_at_once_on_the_worker_in_every_channel(
    workers,  # noqa: F811
    demo_systems,
):
    workers.start()
    alan = Customer.objects.get(customer_number=ALAN_NUMBER)
    channels = MarketingPreference.Channel.values
    for channel in channels:
        MarketingPreference.objects.create(
            customer=alan, channel=channel, consent=True, changed_at=timezone.now() - timedelta(days=1), source="Form"
        )
        assert processing.marketing_audience(channel).filter(pk=alan.pk).exists()
    others = {
        channel: set(processing.marketing_audience(channel).values_list("pk", flat=True)) - {alan.pk}
        for channel in channels
    }
    # Profiled for marketing and in an ad platform's audience (the demo generates both for him).
    MarketingProfile.objects.filter(customer=alan).update(segment="loyal", profiling_stopped=False)
    audience = AdAudienceMember.objects.get(customer=alan).audience
    assert processing.marketing_targets("loyal").filter(pk=alan.pk).exists()
    assert processing.audience_upload(audience).filter(customer=alan).exists()
    others_profiled = set(processing.marketing_profiling_population().exclude(pk=alan.pk).values_list("pk", flat=True))
    others_uploaded = set(processing.audience_upload(audience).exclude(customer=alan).values_list("pk", flat=True))
    request = in_progress_objection(
        name="Alan Turing",
        email=ALAN_EMAIL,
        identifiers={"customer_number": ALAN_NUMBER, "account_email": ALAN_EMAIL},
    )
    completed = DataSubjectRequest.objects.filter(pk=request.pk, status=Status.COMPLETED)
    assert _wait_for(completed.exists, timeout=60), "the objection was not carried out"
    request = completed.get()
    run = ChangeRun.objects.get(request=request, kind=ChangeKind.SUPPRESS_MARKETING)
    # No approval: started at once on the worker, in every system that markets, for every channel.
    assert run.approved_by is None and run.status == RunStatus.DONE
    assert run.payload["channels"] == ["email", "sms", "post", "phone", "audiences", "profiling"]
    assert sorted(run.jobs.values_list("system__name", flat=True)) == sorted([MAILING, PROFILING, ADVERTS])
    assert all(job.worker.startswith("e2e-0@") for job in run.jobs.all())
    for channel in channels:
        latest = MarketingPreference.objects.filter(customer=alan, channel=channel).order_by("-changed_at", "-pk")[0]
        assert latest.consent is False and latest.source == "Objection to direct marketing"
        assert not processing.marketing_audience(channel).filter(pk=alan.pk).exists()
        assert set(processing.marketing_audience(channel).values_list("pk", flat=True)) == others[channel]
    # Art. 21(2): his profiling for marketing stopped and cleared; excluded from the next audience upload.
    profile = MarketingProfile.objects.get(customer=alan)
    assert (profile.profiling_stopped, profile.segment, profile.offer_propensity) == (True, "", None)
    assert not processing.marketing_profiling_population().filter(pk=alan.pk).exists()
    assert not processing.audience_upload(audience).filter(customer=alan).exists()
    assert set(processing.marketing_profiling_population().values_list("pk", flat=True)) == others_profiled
    assert set(processing.audience_upload(audience).values_list("pk", flat=True)) == others_uploaded
    assert request.suppressed_at == run.jobs.aggregate(last=Max("finished_at"))["last"]
    timing = suppression_timing(request)
    assert timing.met is True and timing.working_days <= 1 and timing.hours is not None
    assert MarketingSuppression.objects.filter(email_hash=email_lookup_hash(ALAN_EMAIL)).exists()


# --- 5. A worker killed mid-erasure ----------------------------------------------------------------------------------


BIG = 60_000
BATCH = 200
KILL_AFTER = 20  # batches


def test_a_worker_killed_mid_erasure_and_a_new_one_complete_it_exactly_once(
    workers,  # noqa: F811
    register,  # noqa: F811
    crm_database,  # noqa: F811
    handler,  # noqa: F811
    dpo,  # noqa: F811
    monkeypatch,
):
    """Alan has 62,500 web events in the outside database; the erasure runs in batches of 200; the first worker is
    killed (SIGKILL) wherever it is once more than 20 batches are recorded, perhaps between a batch's commit in the
    database and its record in the portal; a new worker and the sweep finish it: every row changed once, and
    counted once."""
    url, engine = crm_database
    monkeypatch.setenv("CRM_DATABASE_URL", url)
    DataSystem.objects.exclude(name=SQL).update(active=False)
    DataSystem.objects.filter(name=SQL).update(connector="sql", connector_config=SQL_CONFIG)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO web_event (customer_id, seen_at, ip) "
                "SELECT :alan, timestamp '2026-03-01' + n * interval '1 second', '203.0.113.' || (n % 250) "
                "FROM generate_series(1, :n) AS n"
            ),
            {"alan": ALAN_ID, "n": BIG},
        )
    alans_events = _count(engine, "web_event")
    assert alans_events == BIG + external_crm.EVENTS_FOR_ALAN
    others = _others_in_external(engine)
    first = workers.start(DSAR_CHANGE_BATCH_ROWS=str(BATCH))
    request = alan_request(Right.ERASURE, details=ErasureScope().as_details())
    run = services.change_run_start(request=request, kind=ChangeKind.ERASE, actor=handler)
    assert run.rows_estimate == alans_events + 2  # his events, risk score and customer row; his orders are kept
    services.change_run_approve(run=run, actor=handler)
    services.change_run_approve(run=run, actor=dpo)  # over 10,000 rows: the DPO as well

    under_way = ChangeJob.objects.filter(run=run, batches__gt=KILL_AFTER)
    assert _wait_for(under_way.exists, timeout=60), "the erasure did not start"
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    job = ChangeJob.objects.get(run=run)
    assert job.status == ChangeJobStatus.RUNNING and job.attempts == 1
    assert KILL_AFTER < job.batches < alans_events // BATCH
    assert 0 < _count(engine, "web_event") < alans_events  # partly erased in the source
    killed_at = job.batches

    workers.start(DSAR_CHANGE_BATCH_ROWS=str(BATCH), E2E_RUNNING_TIMEOUT_SECONDS="1")
    # The killed worker's job looks lost (started long ago); the periodic sweep, run here rather than by beat.
    ChangeJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=1))
    assert change_tasks.sweep_change_jobs()["requeued"] == 1
    run = _wait_for_run(run, timeout=90)

    job.refresh_from_db()
    assert job.status == ChangeJobStatus.DONE and job.attempts == 2 and job.worker.startswith("e2e-1@")
    assert job.rows_changed == alans_events + 2
    assert job.batches > killed_at
    items = {item.table: (item.action, item.rows) for item in ChangeItem.objects.filter(job=job)}
    assert items == {
        "customers": ("anonymise", 1),
        "orders": ("keep", 0),
        "events": ("delete", alans_events),
        "risk": ("delete", 1),
    }
    # Exactly once in the source: every event gone, the e-mail hashed once (a second hash would differ), the rest
    # untouched.
    assert _count(engine, "web_event") == 0 and _count(engine, "risk_score") == 0
    (customer,) = _external(engine, "SELECT full_name, email_address FROM customer WHERE id = :i", i=ALAN_ID)
    assert customer == ("Erased customer", keyed_hash(services.hash_key(), ALAN_EXTERNAL_EMAIL))
    assert _count(engine, "sales_order") == 3
    assert _others_in_external(engine) == others
    assert ErasureTombstone.objects.filter(run_id=run.pk).count() == 1


# --- 6. Retention --------------------------------------------------------------------------------------------------


def test_the_retention_job_run_twice_on_the_worker_deletes_exactly_what_the_schedule_says(
    workers,  # noqa: F811
    staff_roles,  # noqa: F811
):
    """Defaults of LAW.md §6(h): requests closed unconfirmed 90 days, closed case files 730 days after closure. A day
    either side of each boundary; a held case and one with an open complaint, long past their period; complaints
    closed at different times (a case file's period runs from its complaint's closure, and the complaint goes with
    it; a complaint about no case has its own period)."""
    workers.start()
    now = timezone.now()
    emails = iter(f"person{n}@example.com" for n in range(100))

    def closed(status: str, days_ago: int) -> DataSubjectRequest:
        request = submitted_request(email=next(emails))
        DataSubjectRequest.objects.filter(pk=request.pk).update(status=status, closed_at=now - timedelta(days=days_ago))
        return request

    unconfirmed_young = closed(Status.CLOSED_UNCONFIRMED, 89)
    unconfirmed_old = closed(Status.CLOSED_UNCONFIRMED, 91)
    completed_young = closed(Status.COMPLETED, 729)
    completed_old = closed(Status.COMPLETED, 731)
    held = closed(Status.COMPLETED, 2000)
    legal_hold_place(request=held, reason=HoldReason.CLAIM, note="Claim N-1", actor=StaffUserFactory())
    complained = closed(Status.COMPLETED, 2000)
    complaint = complaint_submit(submission=ComplaintSubmission(name="Ada", email="ada@example.com", text="Late."))
    Complaint.objects.filter(pk=complaint.pk).update(request=complained)

    def closed_complaint(about: DataSubjectRequest | None, days_ago: int) -> Complaint:
        closed_complaint = complaint_submit(
            submission=ComplaintSubmission(name="Ada", email=next(emails), text="You took too long.")
        )
        Complaint.objects.filter(pk=closed_complaint.pk).update(request=about)
        closed_complaint.refresh_from_db()
        complaint_resolve(complaint=closed_complaint, actor=StaffUserFactory(), outcome="We were late; sorry.")
        ComplaintEvent.objects.filter(complaint=closed_complaint, to_status=ComplaintStatus.RESOLVED).update(
            created_at=now - timedelta(days=days_ago)
        )
        return closed_complaint

    recently_answered = closed(Status.COMPLETED, 900)
    recent_complaint = closed_complaint(recently_answered, 100)
    long_answered = closed(Status.COMPLETED, 900)
    old_complaint = closed_complaint(long_answered, 800)
    unlinked_old = closed_complaint(None, 800)
    unlinked_young = closed_complaint(None, 100)
    everything = [
        unconfirmed_young,
        unconfirmed_old,
        completed_young,
        completed_old,
        held,
        complained,
        recently_answered,
        long_answered,
    ]
    complaints = [complaint, recent_complaint, old_complaint, unlinked_old, unlinked_young]

    first = workers.run_again([(retention_tasks.apply_retention_schedule,)])[0]
    second = workers.run_again([(retention_tasks.apply_retention_schedule,)])[0]

    alive = set(DataSubjectRequest.objects.filter(pk__in=[r.pk for r in everything]).values_list("pk", flat=True))
    assert alive == {unconfirmed_young.pk, completed_young.pk, held.pk, complained.pk, recently_answered.pk}
    complaints_alive = set(Complaint.objects.filter(pk__in=[c.pk for c in complaints]).values_list("pk", flat=True))
    assert complaints_alive == {complaint.pk, recent_complaint.pk, unlinked_young.pk}
    assert first == {"case_file": 2, "complaint": 1, "held": 2, "unconfirmed_request": 1}
    assert second == {"held": 2}, "a second run deletes nothing more"
    # The anonymous figures the metrics need are kept, one per deleted case.
    assert ClosedCaseFigure.objects.count() == 3
