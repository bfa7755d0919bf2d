"""Demo data for a newcomer: the organisation, a DPO login, and requests in different states.

Safe to run again: the organisation and the DPO are kept, and the demo
requests are only created once.
"""

import io
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw

from agents import services as agent_services
from casework import roles
from casework.roles import roles_ensure
from changes.services import change_run_start
from datasystems.connectors.changes import ChangeKind
from demo.register import SYSTEM_OWNER_USERNAME, demo_register_load
from dsar_portal.crypto import email_lookup_hash
from dsar_portal.staff_auth import totp_authenticator_add
from fulfilment.models import JobStatus
from fulfilment.selectors import compilation_latest
from fulfilment.services import compilation_plan
from identity import services as identity_services
from identity.services import demo_customer_save
from organisation.selectors import organisation_get
from requests_app import services
from requests_app.confirmation import email_code_issue
from requests_app.models import (
    DataSubjectRequest,
    Exemption,
    ExtensionBasis,
    FeeBasis,
    Outcome,
    RefusalGround,
    Right,
    Status,
)
from requests_app.scope import (
    AccessScope,
    AgentAuthority,
    AutomatedDecisionScope,
    ConsentWithdrawalScope,
    DecisionSafeguard,
    ErasureGround,
    ErasureScope,
    ObjectionScope,
    ObjectionType,
    PortabilityScope,
    RectificationScope,
    RestrictionGround,
    RestrictionScope,
    Scope,
)

DPO_USERNAME = "dpo"


@dataclass(frozen=True)
class CompilationExample:
    request: DataSubjectRequest
    waiting: list[str]  # the systems whose manual search waits for the demo's system owner


DEMO_EMAIL_DOMAIN = "demo.example"
# Try them: file an access request as alan@demo.example with customer number C-1001
# and identity is confirmed from our records without any document.
DEMO_CUSTOMERS = [
    ("C-1001", "Alan Turing", "alan@demo.example", "07700 900001", "SW1A 1AA"),
    ("C-1002", "Grace Hopper", "grace@demo.example", "07700 900002", "M1 1AE"),
    ("C-1003", "Katherine Johnson", "katherine@demo.example", "07700 900003", "EH1 1YZ"),
    ("C-1004", "Tim Berners-Lee", "tim@demo.example", "07700 900004", "CB2 1TN"),
    ("C-1005", "Ada Lovelace", "ada@demo.example", "07700 900005", "W1J 7NT"),
    ("C-1006", "Edsger Dijkstra", "edsger@demo.example", "07700 900006", "OX1 3QD"),
    ("C-1007", "Margaret Hamilton", "margaret@demo.example", "07700 900007", "BS1 4DJ"),
    ("C-1008", "Claude Shannon", "claude@demo.example", "07700 900008", "LS1 4AP"),
    ("C-1009", "Barbara Liskov", "barbara@demo.example", "07700 900009", "NE1 7RU"),
    ("C-1010", "Donald Knuth", "donald@demo.example", "07700 900010", "G1 1XQ"),
    ("C-1011", "Frances Allen", "frances@demo.example", "07700 900011", "CF10 1EP"),
    ("C-1012", "Hedy Lamarr", "hedy@demo.example", "07700 900012", "L1 8JQ"),
    ("C-1013", "Kay McNulty", "kay@demo.example", "07700 900013", "BT1 5GS"),
    ("C-1014", "Radia Perlman", "radia@demo.example", "07700 900014", "B1 1BB"),
    ("C-1015", "Annie Easley", "annie@demo.example", "07700 900015", "NG1 5FS"),
]
SOLICITOR = ("Sam Patel", "sam.patel@demo.example", "Patel & Co Solicitors", "Solicitor")
PARENT = ("Priya Sharma", "priya@demo.example", "", "Parent")

# What the demo shows, one line each: whose request (the requester's address), which right, and the rule it
# illustrates. The latest request of that address and right is the example.
EXAMPLES = [
    ("rosa@demo.example", Right.RESTRICTION, "nothing starts until the e-mail address is confirmed"),
    ("alan@demo.example", Right.ACCESS, "identity confirmed from our records, no document asked"),
    ("grace@demo.example", Right.ERASURE, "a question on an erasure request: the clock keeps running"),
    ("katherine@demo.example", Right.OBJECTION, "objection to direct marketing: absolute, suppression entry kept"),
    ("tim@demo.example", Right.PORTABILITY, "address known, so one more detail is asked before any document"),
    ("mary@demo.example", Right.RECTIFICATION, "refused as accurate (Art. 16), the person's statement recorded"),
    ("claude@demo.example", Right.ACCESS, "clarification stopped the clock, statutory condition recorded"),
    ("margaret@demo.example", Right.ACCESS, "clarification never answered: resumed on a recorded date"),
    ("ada@demo.example", Right.ACCESS, "waiting for a fee for a further copy (Art. 15(3)); the first was free"),
    ("edsger@demo.example", Right.ACCESS, "further-copy fee paid: the UK clock restarted on payment"),
    ("barbara@demo.example", Right.ACCESS, "extended by two months for complexity, reasons sent (Art. 12(3))"),
    ("donald@demo.example", Right.ERASURE, "erasure refused: legal obligation to keep (Art. 17(3)(b))"),
    ("edsger@demo.example", Right.ERASURE, "erasure planned in every system: approve it on the case page (Art. 17)"),
    ("frances@demo.example", Right.ACCESS, "refused under an exemption: DPA 2018 Sch. 2 para 24"),
    ("hedy@demo.example", Right.ACCESS, "partly fulfilled: other people's data withheld, Sch. 2 para 16"),
    ("kay@demo.example", Right.RESTRICTION, "UK and Irish law both apply: the earlier due date governs"),
    ("radia@demo.example", Right.CONSENT_WITHDRAWAL, "consent withdrawn for one purpose (Art. 7(3))"),
    ("annie@demo.example", Right.AUTOMATED_DECISION, "human review of an automated decision (Art. 22)"),
    (SOLICITOR[1], Right.ACCESS, "agent's request: the subject is asked at the address we hold"),
    (PARENT[1], Right.ACCESS, "parent for a child in Scotland: competence decision pending"),
]


class Command(BaseCommand):
    help = "Load demo data (organisation, DPO account, sample requests) and print the DPO login."

    def handle(self, *args, **options) -> None:
        organisation_get()
        self._customers()
        password = self._secret_file("demo-dpo-password", lambda: secrets.token_urlsafe(12))
        dpo = self._dpo(password)
        totp_secret = self._second_factor(dpo, "demo-dpo-totp")
        # The demo organisation's own CRM, which the register's connectors search (issue 12): its data is generated
        # once; it is an outside system, so it is reached by its command, never imported.
        call_command("democrm_generate", "--if-empty", "--people", "100", "--rows-per-person", "30", stdout=self.stdout)
        # The register of data systems and the privacy notice published from it (issue 12), before the requests, so
        # the access request going into progress below is compiled from the whole register.
        demo_register_load(dpo=dpo)
        if not DataSubjectRequest.objects.exists():
            self._requests(dpo)
        compiling = self._compilation_example()
        # The system owner answers the manual search tasks of their systems (issue 12): they sign in like the DPO.
        owner_password = self._secret_file("demo-owner-password", lambda: secrets.token_urlsafe(12))
        owner = get_user_model().objects.get(username=SYSTEM_OWNER_USERNAME)
        owner.set_password(owner_password)
        owner.save(update_fields=["password"])
        owner_totp = self._second_factor(owner, "demo-owner-totp")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        login_url = f"http://127.0.0.1:8000{reverse('account_login')}"
        totp_uri = pyotp.TOTP(totp_secret).provisioning_uri(name=DPO_USERNAME, issuer_name=settings.MFA_TOTP_ISSUER)
        self.stdout.write(f"  Staff login:  {login_url}  user: {DPO_USERNAME}  password: {password}")
        self.stdout.write(f"  Second factor (authenticator app, TOTP): secret {totp_secret}  or this URI: {totp_uri}")
        self.stdout.write(
            "  System owner (answers the manual search tasks at "
            f"http://127.0.0.1:8000{reverse('fulfilment_tasks:task_list')}): "
            f"user: {SYSTEM_OWNER_USERNAME}  password: {owner_password}  TOTP secret: {owner_totp}"
        )
        self.stdout.write("  What the demo shows:")
        for request, rule in self._shown():
            self.stdout.write(f"    {request.reference}  {request.right}  {request.get_status_display()}: {rule}")
        self.stdout.write(
            f"  Data systems (the register): http://127.0.0.1:8000{reverse('datasystems:system_list')}  "
            f"privacy notice: http://127.0.0.1:8000{reverse('privacy_notice:latest')}"
        )
        self.stdout.write(f"  E-mails the portal sends are written to: {getattr(settings, 'EMAIL_FILE_PATH', 'SMTP')}")
        if compiling is not None:
            owner_tasks = ", ".join(compiling.waiting) or "none"
            self.stdout.write(
                f"  A compiled answer arriving (issue 12): http://127.0.0.1:8000"
                f"{reverse('casework:request_detail', args=[compiling.request.reference])}  (the case page shows the "
                f"worker's progress, systems searched of total and rows so far; the answer is assembled once the "
                f"system owner {SYSTEM_OWNER_USERNAME} answers their waiting manual search tasks ({owner_tasks}); "
                "then the DPO reviews and approves it, and the person downloads it from their status page with a code)"
            )

    def _compilation_example(self) -> "CompilationExample | None":
        """Alan Turing's access request, verified from our records and in progress, planned against the register:
        the real worker (``make run``: honcho's worker on the folder broker) searches the demo CRM's systems, and the
        manual systems wait for their owners' tasks (GDPR Art. 15; issue 12, "make run shows a compiled answer
        arriving"). Idempotent: ``compilation_plan`` keeps a live or assembled compilation."""
        request = self._shown_request("alan@demo.example", Right.ACCESS)
        if request is None or request.status != Status.IN_PROGRESS:
            return None
        compilation = compilation_plan(request_id=request.pk) or compilation_latest(request_id=request.pk)
        if compilation is None:
            return None
        waiting = [
            job.system.name
            for job in compilation.jobs.select_related("system__owner").filter(
                status=JobStatus.WAITING, system__owner__username=SYSTEM_OWNER_USERNAME
            )
        ]
        return CompilationExample(request=request, waiting=waiting)

    def _customers(self) -> None:
        """Customer records the demo records matcher checks requesters against."""
        for number, name, email, phone, postcode in DEMO_CUSTOMERS:
            demo_customer_save(customer_number=number, name=name, email=email, phone=phone, postcode=postcode)

    def _secret_file(self, name: str, make) -> str:
        """A demo login's secret, kept in the data folder (readable by its owner only) so every run prints the same."""
        path = settings.DATA_DIR / name
        if not path.exists():
            path.write_text(make())
            path.chmod(0o600)
        return path.read_text().strip()

    def _second_factor(self, user, file_name: str) -> str:
        """A demo staff member's authenticator app secret, kept in the data folder like the password (staff need a
        factor)."""
        secret = self._secret_file(file_name, pyotp.random_base32)
        current = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if current is None or decrypt(current.data["secret"]) != secret:
            Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
            totp_authenticator_add(user=user, secret=secret)
        return secret

    def _dpo(self, password: str):
        user_model = get_user_model()
        dpo, _ = user_model.objects.get_or_create(
            username=DPO_USERNAME,
            defaults={"first_name": "Dana", "last_name": "Okafor", "email": f"dpo@{DEMO_EMAIL_DOMAIN}"},
        )
        dpo.is_staff = True
        dpo.set_password(password)
        dpo.save()
        # The staff roles (casework.roles): the demo's DPO has the DPO role, with every permission.
        roles_ensure()
        dpo.groups.add(Group.objects.get(name=roles.DPO))
        return dpo

    def _shown(self) -> list[tuple[DataSubjectRequest, str]]:
        """The examples present in the database (an older demo database may lack the newer ones)."""
        shown = []
        for email, right, rule in EXAMPLES:
            request = self._shown_request(email, right)
            if request is not None:
                shown.append((request, rule))
        return shown

    def _submit(
        self,
        scope: Scope,
        name: str,
        days_ago: int,
        *,
        hours_ago: int = 0,
        second_jurisdiction: str = "",
        description: str = "",
        **identifiers,
    ) -> DataSubjectRequest:
        email = f"{name.split()[0].lower()}@{DEMO_EMAIL_DOMAIN}"
        return services.request_submit(
            submission=services.Submission(
                right=scope.right,
                requester_role="data_subject",
                name=name,
                email=email,
                identifiers=identifiers,
                details=scope.as_details(),
                description=description,
                second_jurisdiction=second_jurisdiction,
            ),
            received_at=timezone.now() - timedelta(days=days_ago, hours=hours_ago),
        )

    def _customer_request(self, scope: Scope, number: str, days_ago: int, **options) -> DataSubjectRequest:
        """A demo customer's request, confirmed: their customer number verifies them from our records."""
        name = next(customer[1] for customer in DEMO_CUSTOMERS if customer[0] == number)
        request = self._submit(scope, name, days_ago, customer_number=number, **options)
        self._confirm(request)
        return request

    def _confirm(self, request: DataSubjectRequest) -> None:
        code = email_code_issue(request=request)
        identity_services.request_confirm_email(request=request, code=code)

    def _requests(self, dpo) -> None:
        waiting = self._submit(RestrictionScope(grounds=(RestrictionGround.ACCURACY_CONTESTED,)), "Rosa Mendes", 0)
        del waiting  # stays awaiting e-mail confirmation

        access = self._submit(AccessScope(), "Alan Turing", 6, customer_number="C-1001")
        self._confirm(access)  # matches customer C-1001: verified from our records

        erasure = self._submit(
            ErasureScope(grounds=(ErasureGround.CONSENT_WITHDRAWN,)), "Grace Hopper", 10, customer_number="C-1002"
        )
        self._confirm(erasure)
        services.request_clarification_ask(
            request=erasure, actor=dpo, question="Do you also want us to close your loyalty card account?"
        )

        # GDPR Art. 21(3): acted on within the hour, the same or next working day (time to suppression).
        objection = self._submit(
            ObjectionScope(type=ObjectionType.DIRECT_MARKETING), "Katherine Johnson", 0, hours_ago=1
        )
        self._confirm(objection)
        services.request_complete(
            request=objection, actor=dpo, outcome=Outcome.FULFILLED, summary="You will receive no more marketing."
        )

        # Issue 13: an erasure planned in every system from the register's rules (the demo CRM's orders kept,
        # anonymised, for the tax records: Art. 17(3)(b)), waiting for a case handler's approval behind a fresh
        # second factor; once approved the worker carries it out and the case page offers the answer to send.
        planned = self._customer_request(
            ErasureScope(grounds=(ErasureGround.CONSENT_WITHDRAWN,)), "C-1006", 2, hours_ago=3
        )
        change_run_start(request=planned, kind=ChangeKind.ERASE, actor=dpo)

        portability = self._submit(PortabilityScope(), "Tim Berners-Lee", 1)
        self._confirm(portability)  # only the e-mail matches: asked for one more detail

        rectification = self._submit(
            RectificationScope(wrong="Date of birth", correct="1921-04-09"), "Mary Jackson", 12
        )
        self._confirm(rectification)  # not a known customer: asked for a document
        services.request_refuse(
            request=rectification,
            actor=dpo,
            # GDPR Art. 16: the data checked and found accurate, the person's own statement kept with them.
            ground=RefusalGround.RECTIFICATION_DATA_ACCURATE,
            reasons="We checked the date of birth on your account against the document you sent when you joined; "
            "they match.",
            statement_recorded="Your statement that your date of birth is 9 April 1921 is now kept on your account "
            "next to the date we hold.",
        )
        self._clock_examples(dpo)
        self._fee_examples(dpo)
        self._decision_examples(dpo)
        self._new_kinds(dpo)
        self._agent_examples()

    def _clock_examples(self, dpo) -> None:
        """Clarification (access only, on the statutory condition), resuming without an answer, an extension."""
        today = timezone.localdate()
        waiting = self._customer_request(AccessScope(), "C-1008", 8)
        services.request_clarification_ask(
            request=waiting,
            actor=dpo,
            question="We hold ten years of your orders, calls and loyalty-card records. Which of them, or which "
            "years, would you like? If you want everything, just say so.",
            asked_on=today - timedelta(days=5),
            # UK GDPR Art. 12A / EDPB 01/2022 §5.3: a large amount of information, so the person can narrow it.
            stops_clock=True,
            condition="We process a large amount of information about this customer across six systems.",
        )

        resumed = self._customer_request(AccessScope(), "C-1007", 30)
        services.request_clarification_ask(
            request=resumed,
            actor=dpo,
            question="We hold recordings of your calls and your store visits on camera as well as your account. "
            "Which would you like?",
            asked_on=today - timedelta(days=27),
            stops_clock=True,
            condition="A large amount of information is held, including call recordings and CCTV.",
        )
        # ICO: with no reply we still comply, by making reasonable searches.
        services.request_clarification_resume(
            request=resumed,
            actor=dpo,
            on=today - timedelta(days=12),
            reason="No reply after two weeks: we are searching all the systems.",
        )

        extended = self._customer_request(
            AccessScope(subset="Everything about my complaint, including call recordings", everything=False),
            "C-1009",
            20,
        )
        services.request_extend(
            request=extended,
            actor=dpo,
            months=2,
            basis=[ExtensionBasis.COMPLEXITY],
            reasons="Your complaint ran for two years across our call centre, stores and two outside suppliers; "
            "the call recordings must be reviewed one by one to remove other customers' details.",
            on=today - timedelta(days=4),
        )

    def _fee_examples(self, dpo) -> None:
        """Art. 15(3): the first copy free, a further copy for a reasonable fee; UK: the clock restarts on payment."""
        today = timezone.localdate()
        for number, first_days_ago, again_days_ago in (("C-1005", 70, 6), ("C-1006", 100, 20)):
            first = self._customer_request(AccessScope(), number, first_days_ago)
            services.request_complete(
                request=first,
                actor=dpo,
                outcome=Outcome.FULFILLED,
                summary="Your data and the information about how we use it are attached.",
                on=today - timedelta(days=first_days_ago - 12),
            )
            again = self._customer_request(AccessScope(), number, again_days_ago)
            services.request_fee_request(
                request=again,
                actor=dpo,
                amount="10.00",
                basis=FeeBasis.FURTHER_COPY,
                reasons="This is a further copy of the data we sent you free of charge "
                f"{first_days_ago - 12} days ago. The fee covers the staff time to compile it again.",
                on=today - timedelta(days=again_days_ago - 2),
            )
        paid = self._shown_request("edsger@demo.example", Right.ACCESS)
        services.request_fee_paid(
            request=paid, actor=dpo, paid_on=today - timedelta(days=12), reference="Card payment DEMO-4471"
        )

    def _shown_request(self, email: str, right: str) -> DataSubjectRequest | None:
        """The latest request of ``right`` from ``email``: the example for that line of ``EXAMPLES``."""
        return (
            DataSubjectRequest.objects.filter(email_hash=email_lookup_hash(email), right=right)
            .order_by("-received_at")
            .first()
        )

    def _decision_examples(self, dpo) -> None:
        """Refusals on grounds the law gives for the right (Art. 12(4)), and a partly fulfilled statement."""
        today = timezone.localdate()
        erasure = self._customer_request(ErasureScope(grounds=(ErasureGround.NO_LONGER_NECESSARY,)), "C-1010", 14)
        services.request_refuse(
            request=erasure,
            actor=dpo,
            ground=RefusalGround.ERASURE_LEGAL_OBLIGATION,
            reasons="Your account was closed in 2023 and everything else has been deleted. What we still hold are "
            "the invoices for your orders, which the law requires us to keep for six years (Companies Act 2006 "
            "s.388; VAT Act 1994 Sch. 11 para 6). We will delete them when that period ends.",
            on=today - timedelta(days=2),
        )

        reference = self._customer_request(
            AccessScope(everything=False, subset="The reference you wrote about me for my new employer"),
            "C-1011",
            10,
        )
        services.request_refuse(
            request=reference,
            actor=dpo,
            ground=RefusalGround.EXEMPTION,
            exemption=Exemption.UK_SCH2_PARA24,
            reference="DPA 2018 Sch. 2 para 24: a reference given in confidence for your employment",
            reasons="The reference was given in confidence to your new employer for your employment, so the law "
            "exempts it from the right of access. Your new employer may be able to give you a copy.",
            on=today - timedelta(days=1),
        )

        partly = self._customer_request(AccessScope(), "C-1012", 25)
        services.request_complete(
            request=partly,
            actor=dpo,
            outcome=Outcome.PARTLY_FULFILLED,
            summary="Your data is attached, except the part described below.",
            parts=[
                {
                    "done": "We sent you your account, your orders and your e-mails with our customer service team.",
                    "not_done": "We removed the names and details of the other customers in the complaint about a "
                    "shared delivery.",
                    "why": "They are other people's data; they did not agree to its disclosure and it would not be "
                    "reasonable to disclose it without their agreement.",
                    "ground": RefusalGround.EXEMPTION,
                    "reference": "DPA 2018 Sch. 2 para 16: information about other individuals",
                }
            ],
            on=today - timedelta(days=1),
        )

        # GDPR Art. 3(2): a UK controller answering a resident of Ireland: both dates computed, the earlier governs.
        self._customer_request(
            RestrictionScope(
                grounds=(RestrictionGround.ACCURACY_CONTESTED, RestrictionGround.OBJECTION_PENDING),
                data="My credit limit history",
            ),
            "C-1013",
            9,
            second_jurisdiction="IE",
        )

    def _new_kinds(self, dpo) -> None:
        """Withdrawing consent (Art. 7(3)) and a request about an automated decision (Art. 22; UK Arts. 22A-22D)."""
        today = timezone.localdate()
        consent = self._customer_request(
            ConsentWithdrawalScope(
                everything=False, specific="Sharing my purchase history with partner brands for their offers"
            ),
            "C-1014",
            2,
        )
        services.request_complete(
            request=consent,
            actor=dpo,
            outcome=Outcome.FULFILLED,
            summary="We no longer share your purchase history with partner brands. Sharing before you withdrew "
            "your consent remains lawful (GDPR Art. 7(3)).",
            on=today,
        )
        self._customer_request(
            AutomatedDecisionScope(
                decision="My application for a store credit account was declined by your website with no one "
                "looking at it.",
                decided_on=today - timedelta(days=9),
                safeguards=(
                    DecisionSafeguard.HUMAN_REVIEW,
                    DecisionSafeguard.POINT_OF_VIEW,
                    DecisionSafeguard.INFORMATION,
                ),
                point_of_view="The credit check used an old address. I have lived at my current address for three "
                "years and have a steady income.",
            ),
            "C-1015",
            7,
        )

    def _agent_examples(self) -> None:
        """Agents file from their accounts with their authority document; the subject is asked only at an address
        the organisation holds (LAW.md I3), and a child's competence is decided by staff (DPA 2018 s.208; I4)."""
        name, email, firm, role = SOLICITOR
        solicitor = agent_services.demo_agent_save(full_name=name, email=email, organisation_name=firm, role=role)
        agent_services.request_submit_by_agent(
            agent=solicitor,
            submission=services.Submission(
                right=Right.ACCESS,
                requester_role="agent",
                name=solicitor.full_name,
                email=solicitor.email,
                identifiers={"customer_number": "C-1003"},
                details={
                    **AccessScope().as_details(),
                    **AgentAuthority(
                        subject_name="Katherine Johnson",
                        relationship="solicitor",
                        authority_type="letter_of_authority",
                    ).as_details(),
                },
                description="",
            ),
            authority_document=_letter("Letter of authority: Katherine Johnson authorises Patel & Co Solicitors"),
            received_at=timezone.now() - timedelta(days=2),
        )

        name, email, firm, role = PARENT
        parent = agent_services.demo_agent_save(full_name=name, email=email, organisation_name=firm, role=role)
        agent_services.request_submit_by_agent(
            agent=parent,
            submission=services.Submission(
                right=Right.ACCESS,
                requester_role="agent",
                name=parent.full_name,
                email=parent.email,
                identifiers={},
                details={
                    **AccessScope().as_details(),
                    **AgentAuthority(
                        subject_name="Arjun Sharma", relationship="parent", authority_type="parental_responsibility"
                    ).as_details(),
                },
                description="My son's account on your learning app.",
            ),
            authority_document=_letter("Birth certificate: Arjun Sharma, mother Priya Sharma"),
            child={"birth_date": None, "age": 13, "in_scotland": True},
            received_at=timezone.now() - timedelta(days=1),
        )


def _letter(text: str) -> SimpleUploadedFile:
    """A scanned document for the demo: a small PNG with one line of text."""
    image = Image.new("RGB", (640, 120), "white")
    ImageDraw.Draw(image).text((16, 50), text, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile("authority.png", buffer.getvalue(), content_type="image/png")
