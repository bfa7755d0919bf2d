"""Demo data for a newcomer: the organisation, a DPO login, and requests in different states.

Safe to run again: the organisation and the DPO are kept, and the demo
requests are only created once.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.utils import timezone

from identity import services as identity_services
from identity.services import demo_customer_save
from organisation.selectors import organisation_get
from requests_app import services
from requests_app.confirmation import email_code_issue
from requests_app.models import DataSubjectRequest, Outcome, RefusalGround
from requests_app.scope import (
    AccessScope,
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
DEMO_EMAIL_DOMAIN = "demo.example"
# Try them: file an access request as alan@demo.example with customer number C-1001
# and identity is confirmed from our records without any document.
DEMO_CUSTOMERS = [
    ("C-1001", "Alan Turing", "alan@demo.example", "07700 900001", "SW1A 1AA"),
    ("C-1002", "Grace Hopper", "grace@demo.example", "07700 900002", "M1 1AE"),
    ("C-1003", "Katherine Johnson", "katherine@demo.example", "07700 900003", "EH1 1YZ"),
    ("C-1004", "Tim Berners-Lee", "tim@demo.example", "07700 900004", "CB2 1TN"),
]


class Command(BaseCommand):
    help = "Load demo data (organisation, DPO account, sample requests) and print the DPO login."

    def handle(self, *args, **options) -> None:
        organisation_get()
        self._customers()
        password = self._dpo_password()
        dpo = self._dpo(password)
        if not DataSubjectRequest.objects.exists():
            self._requests(dpo)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Staff login:  http://127.0.0.1:8000/admin/  user: {DPO_USERNAME}  password: {password}")
        self.stdout.write(f"  E-mails the portal sends are written to: {getattr(settings, 'EMAIL_FILE_PATH', 'SMTP')}")

    def _customers(self) -> None:
        """Customer records the demo records matcher checks requesters against."""
        for number, name, email, phone, postcode in DEMO_CUSTOMERS:
            demo_customer_save(customer_number=number, name=name, email=email, phone=phone, postcode=postcode)

    def _dpo_password(self) -> str:
        path = settings.DATA_DIR / "demo-dpo-password"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(12))
            path.chmod(0o600)
        return path.read_text().strip()

    def _dpo(self, password: str):
        user_model = get_user_model()
        dpo, _ = user_model.objects.get_or_create(
            username=DPO_USERNAME,
            defaults={"first_name": "Dana", "last_name": "Okafor", "email": f"dpo@{DEMO_EMAIL_DOMAIN}"},
        )
        dpo.is_staff = True
        dpo.set_password(password)
        dpo.save()
        group, _ = Group.objects.get_or_create(name="Data protection officers")
        group.permissions.set(
            Permission.objects.filter(content_type__app_label__in=["requests_app", "organisation", "identity"])
        )
        dpo.groups.add(group)
        return dpo

    def _submit(self, scope: Scope, name: str, days_ago: int, **identifiers) -> DataSubjectRequest:
        email = f"{name.split()[0].lower()}@{DEMO_EMAIL_DOMAIN}"
        return services.request_submit(
            submission=services.Submission(
                right=scope.right,
                requester_role="data_subject",
                name=name,
                email=email,
                identifiers=identifiers,
                details=scope.as_details(),
                description="",
            ),
            received_at=timezone.now() - timedelta(days=days_ago),
        )

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

        objection = self._submit(ObjectionScope(type=ObjectionType.DIRECT_MARKETING), "Katherine Johnson", 3)
        self._confirm(objection)
        services.request_complete(
            request=objection, actor=dpo, outcome=Outcome.FULFILLED, summary="You will receive no more marketing."
        )

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
