"""The demo organisation's register of data systems (issue 12), and the first privacy notice published from it.

A realistic small company: a CRM, billing through a payment service provider (no card data held), website analytics,
call recordings and live-chat transcripts, marketing e-mail with open tracking, business contacts bought from a data
provider, product trials and customer surveys. Loaded once per system: a system, recipient or setting that already
exists is left as it is (the DPO may have changed it), so a second run harms nothing.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from casework import roles
from datasystems import services
from datasystems.connectors.demo_app import DEMOCRM_CONFIG
from datasystems.models import DataSystem, LawfulBasis, NotifyBy, Recipient, RecipientKind, Safeguard
from datasystems.selectors import notice_latest
from organisation.selectors import organisation_get

SYSTEM_OWNER_USERNAME = "chris.owner"

# The person's own record in the demo CRM, found through any identifier the portal holds (democrm.Customer).
_BY_CUSTOMER = {"email": "customer__email", "customer_id": "customer__customer_number", "phone": "customer__phone"}


def democrm_tables(*names: str, match_on: str = "customers") -> dict:
    """The demo CRM's connector configuration for the tables one register entry covers (DEMOCRM_CONFIG, cut down).

    ``match_on`` is the table whose rows are the person's own record: the customer record for the CRM itself, or a
    system's own table found through the customer it belongs to; the other tables lead to it by ``via``. Each
    table keeps its change rules (issue 13): what erasure, restriction, rectification and a marketing objection
    do there.
    """
    by_name = {table["name"]: table for table in DEMOCRM_CONFIG["tables"]}
    tables = []
    for name in names:
        table = {key: value for key, value in by_name[name].items() if key not in ("via", "match")}
        if name == match_on:
            table["match"] = by_name[name].get("match") or _BY_CUSTOMER
        else:
            via = by_name[name]["via"]
            table["via"] = via if match_on == "customers" else via.removesuffix("__customer").removesuffix("customer")
        tables.append(table)
    config: dict = {"tables": tables}
    if match_on == "customers":
        # GDPR Art. 16: the CRM keeps a supplementary statement with the customer's record.
        config["supplementary_statement"] = DEMOCRM_CONFIG["supplementary_statement"]
    return config


# GDPR Art. 19: how each is told of a rectification, erasure or restriction (e-mail, or a letter staff print and
# post; no demo recipient has an HTTP endpoint, as none would be reachable).
RECIPIENTS = [
    {
        "name": "Northwind Cloud Hosting Ltd",
        "kind": RecipientKind.PROCESSOR,
        "role": "Hosts our systems in data centres in London and Manchester",
        "email": "privacy@northwind-hosting.example",
        "address": "10 Example Street, London EC1A 1AA",
        "country": "United Kingdom",
        "notify_by": NotifyBy.EMAIL,
    },
    {
        "name": "Mailwise Inc.",
        "kind": RecipientKind.PROCESSOR,
        "role": "Sends our e-mails and records whether marketing e-mails are opened",
        "email": "dpo@mailwise.example",
        "address": "500 Market Street, San Francisco, CA 94105",
        "country": "United States",
        "notify_by": NotifyBy.EMAIL,
    },
    {
        "name": "PayBridge Payments Ltd",
        "kind": RecipientKind.CONTROLLER,
        "role": "Takes card payments for us and checks them for fraud; we never see or keep card numbers",
        "email": "dataprotection@paybridge.example",
        "address": "2 Example Square, Edinburgh EH2 2AA",
        "country": "United Kingdom",
        "notify_by": NotifyBy.POST,
    },
    {
        "name": "Beacon Analytics GmbH",
        "kind": RecipientKind.PROCESSOR,
        "role": "Measures how our website is used",
        "email": "datenschutz@beacon-analytics.example",
        "address": "Beispielstraße 1, 10115 Berlin",
        "country": "Germany",
        "notify_by": NotifyBy.EMAIL,
    },
    {
        "name": "VoiceLine Telecom Ltd",
        "kind": RecipientKind.PROCESSOR,
        "role": "Runs our telephone and live-chat service and stores the recordings and transcripts",
        "email": "privacy@voiceline.example",
        "address": "3 Example Road, Leeds LS1 1AA",
        "country": "United Kingdom",
        "notify_by": NotifyBy.EMAIL,
    },
    {
        "name": "SurveyPoint Ltd",
        "kind": RecipientKind.PROCESSOR,
        "role": "Sends our customer surveys and collects the answers",
        "email": "privacy@surveypoint.example",
        "address": "4 Example Lane, Bristol BS1 1AA",
        "country": "United Kingdom",
        "notify_by": NotifyBy.EMAIL,
    },
    {
        "name": "Adverta Ads Ltd",
        "kind": RecipientKind.PROCESSOR,
        "role": "Matches the hashed e-mail addresses we upload to its users, to show them our ads, and deletes the "
        "addresses it cannot match",
        "email": "privacy@adverta.example",
        "address": "5 Example Dock, Dublin 2, D02 AB12",
        "country": "Ireland",
        "notify_by": NotifyBy.EMAIL,
    },
    {
        "name": "HM Revenue & Customs",
        "kind": RecipientKind.PUBLIC_AUTHORITY,
        "role": "Receives our accounting records when it asks for them",
        "email": "",
        "address": "BX9 1AA",
        "country": "United Kingdom",
        "notify_by": NotifyBy.POST,
    },
]

HOSTING = ("Northwind Cloud Hosting Ltd", "everything the system holds, to store it for us")

SYSTEMS = [
    {
        "name": "Customer relationship management (CRM)",
        "description": "Our customers' and business contacts' accounts, and the support tickets they raise.",
        "data_subjects": "Customers and the contacts at business customers",
        "personal_data_categories": [
            "Name",
            "E-mail address",
            "Phone number",
            "Postal address",
            "Customer number",
            "Company and job title",
            "Support tickets and our notes on them",
        ],
        "retention": "While you are a customer and 6 years after the account is closed (limitation period for claims).",
        "holds_observed_data": False,
        "search_procedure": "Search contacts by e-mail address, then by customer number; open every account found.",
        "erasure_method": "Delete the account, tickets, messages and insights; keep only the customer number, as the "
        "account holder of the invoices kept for tax law, with every other detail anonymised.",
        "restriction_method": "Set the contact's 'restricted' flag: no processing except storage.",
        "connector": "demo_app",
        # Nightly backups kept five weeks: an erased person's data is beyond use in them until they roll off.
        "backup_roll_off_days": 35,
        "connector_config": democrm_tables("customers", "accounts", "support_tickets", "ticket_messages", "insights"),
        "purposes": [
            ("Managing your account and providing our service", LawfulBasis.CONTRACT, ""),
            ("Answering your questions and complaints", LawfulBasis.CONTRACT, ""),
        ],
        "recipients": [HOSTING],
        "owned": True,
    },
    {
        "name": "Billing",
        "description": "Invoices and payments. Card payments are taken by our payment provider: we hold no card data.",
        "data_subjects": "Customers",
        "personal_data_categories": [
            "Name",
            "Billing address",
            "Invoices and orders",
            "Payment status and the payment provider's reference (never the card number)",
        ],
        "retention": "6 years after the end of the financial year of the invoice (Companies Act 2006 s.388).",
        "search_procedure": "Search orders by the customer number found in the CRM.",
        "erasure_method": "Kept for the legal retention period (Art. 17(3)(b)) without the delivery address, the "
        "payment reference replaced by a keyed hash; then deleted by the yearly purge.",
        "restriction_method": "The customer's 'restricted' flag in the CRM stops every use of their orders but "
        "storage.",
        "connector": "demo_app",
        # Nightly backups kept five weeks: an erased person's data is beyond use in them until they roll off.
        "backup_roll_off_days": 35,
        "connector_config": democrm_tables("orders", "order_lines", match_on="orders"),
        "purposes": [
            ("Invoicing and taking payment", LawfulBasis.CONTRACT, ""),
            ("Keeping accounting records the law requires", LawfulBasis.LEGAL_OBLIGATION, ""),
        ],
        "recipients": [
            HOSTING,
            ("PayBridge Payments Ltd", "the amount, your name and billing address, to take the payment"),
            ("HM Revenue & Customs", "invoices, when it asks for our accounting records"),
        ],
    },
    {
        "name": "Website analytics",
        "description": "How visitors use our website, to improve it.",
        "data_subjects": "Visitors to our website who accept analytics cookies",
        "personal_data_categories": [
            "IP address (shortened)",
            "Browser and device",
            "Time zone",
            "Pages visited and events on them",
            "A cookie identifier",
        ],
        "retention": "14 months from the visit.",
        "holds_provided_data": False,
        "holds_observed_data": True,
        "search_procedure": "Search events by the customer number linked when a visitor signed in.",
        "erasure_method": "Delete the visitor's events.",
        "connector": "demo_app",
        # Nightly backups kept five weeks: an erased person's data is beyond use in them until they roll off.
        "backup_roll_off_days": 35,
        "connector_config": democrm_tables("events", match_on="events"),
        "purposes": [("Measuring and improving our website", LawfulBasis.CONSENT, "")],
        "recipients": [("Beacon Analytics GmbH", "page events, browser and device, shortened IP address")],
        "transfers": [
            (
                "Germany",
                "Beacon Analytics GmbH",
                Safeguard.ADEQUACY,
                "The UK's adequacy regulations for the EEA.",
            )
        ],
    },
    {
        "name": "Call recordings and live-chat transcripts",
        "description": "Recordings of calls to our helpline and transcripts of live chats.",
        "data_subjects": "Customers and anyone who calls us or chats with us",
        "personal_data_categories": ["Voice recording", "Phone number", "Chat transcript", "Time of the call or chat"],
        "retention": "Calls 90 days, chat transcripts 1 year, unless needed for a complaint.",
        "search_procedure": "The telephony team searches by phone number and by the e-mail given in chat.",
        "erasure_method": "The telephony team deletes the recordings in VoiceLine's console.",
        "connector": "manual",
        "connector_config": {
            "instructions": "Search VoiceLine by phone number and chat e-mail; export as MP3 and text."
        },
        # Its system owner answers the manual search task of each access request (issue 12: `make run` shows one).
        "owned": True,
        "purposes": [
            ("Training our staff and checking the quality of our service", LawfulBasis.LEGITIMATE_INTERESTS, ""),
            ("Settling disagreements about what was said", LawfulBasis.LEGITIMATE_INTERESTS, ""),
        ],
        "recipients": [("VoiceLine Telecom Ltd", "the recordings and transcripts, to store them for us")],
    },
    {
        "name": "Marketing e-mail",
        "description": "Our newsletter and offers, and your communication preferences.",
        "data_subjects": "Customers and prospects who agreed to receive marketing",
        "personal_data_categories": [
            "E-mail address",
            "Name",
            "Communication preferences",
            "Whether and when each e-mail was opened (tracking pixel) and links clicked",
        ],
        "retention": "Until you unsubscribe; the entry that keeps you unsubscribed is kept while we market.",
        "holds_observed_data": True,
        "search_procedure": "Search the preference centre by e-mail address.",
        "erasure_method": "Delete the contact, keeping a keyed hash of the address on the suppression list.",
        "connector": "demo_app",
        # Nightly backups kept five weeks: an erased person's data is beyond use in them until they roll off.
        "backup_roll_off_days": 35,
        "connector_config": democrm_tables("marketing_preferences", match_on="marketing_preferences"),
        "purposes": [("Sending you news and offers you asked for", LawfulBasis.CONSENT, "marketing")],
        "recipients": [("Mailwise Inc.", "your e-mail address and name, to send our e-mails")],
        "transfers": [
            (
                "United States",
                "Mailwise Inc.",
                Safeguard.UK_ADDENDUM,
                "The EU standard contractual clauses with the UK Addendum; ask our DPO for a copy.",
            )
        ],
    },
    {
        "name": "Marketing profiling",
        "description": "Our marketing model puts customers in segments and estimates how likely each is to take up "
        "an offer, to choose whom we send which offer.",
        "data_subjects": "Customers",
        "personal_data_categories": [
            "Marketing segment",
            "Estimated likelihood of taking up an offer (a score from 0 to 1)",
            "When it was computed, and by which version of the model",
        ],
        "source": "Worked out from your orders, your visits to our website and the marketing e-mails you opened.",
        "retention": "Recomputed each month; cleared when you object to marketing or close your account.",
        "holds_provided_data": False,
        "search_procedure": "Search the marketing profiles by the customer number found in the CRM.",
        "erasure_method": "Delete the profile.",
        "connector": "demo_app",
        # Nightly backups kept five weeks: an erased person's data is beyond use in them until they roll off.
        "backup_roll_off_days": 35,
        "connector_config": democrm_tables("marketing_profiles", match_on="marketing_profiles"),
        "purposes": [
            (
                "Choosing which offers to send you, from what you bought and viewed (profiling for direct marketing)",
                LawfulBasis.LEGITIMATE_INTERESTS,
                "marketing",
            )
        ],
        "recipients": [HOSTING],
    },
    {
        "name": "Advertising audiences",
        "description": "Lists of customers' hashed e-mail addresses we upload to an advertising platform, to show "
        "our ads to lapsed customers and to people like our best customers.",
        "data_subjects": "Customers",
        "personal_data_categories": [
            "E-mail address, hashed (SHA-256) before it is uploaded",
            "Which audience you are in, and since when",
        ],
        "retention": "While you are in the audience; the entry that keeps you out is kept while we advertise.",
        "holds_provided_data": False,
        "search_procedure": "Search the audience lists by the customer number found in the CRM.",
        "erasure_method": "Delete the audience entries; the next upload removes you from the platform's audience.",
        "connector": "demo_app",
        # Nightly backups kept five weeks: an erased person's data is beyond use in them until they roll off.
        "backup_roll_off_days": 35,
        "connector_config": democrm_tables("ad_audiences", match_on="ad_audiences"),
        "purposes": [
            ("Showing our ads to you on other websites and apps", LawfulBasis.LEGITIMATE_INTERESTS, "marketing")
        ],
        "recipients": [("Adverta Ads Ltd", "your hashed e-mail address and which audience you are in")],
        "transfers": [
            (
                "Ireland",
                "Adverta Ads Ltd",
                Safeguard.ADEQUACY,
                "The UK's adequacy regulations for the EEA.",
            )
        ],
    },
    {
        "name": "Business contacts from a data provider",
        "description": "Contact details of people at companies we may sell to, bought from a business data provider.",
        "data_subjects": "Employees of businesses that may become customers",
        "personal_data_categories": ["Name", "Job title", "Work e-mail address", "Work phone number", "Company"],
        "source": "Bought from LeadSource Data Ltd, a business directory compiled from company websites and "
        "public registers.",
        "retention": "2 years from purchase, or until you ask us to stop contacting you.",
        "search_procedure": "Search the sales team's spreadsheet by e-mail address and name.",
        "erasure_method": "Delete the row and add the address to the suppression list.",
        "connector": "manual",
        "connector_config": {"instructions": "Search the 'Prospects' sheet by e-mail and name."},
        "purposes": [
            (
                "Contacting businesses about our products",
                LawfulBasis.LEGITIMATE_INTERESTS,
                "marketing",
            )
        ],
        "recipients": [HOSTING],
    },
    {
        "name": "Product trial accounts",
        "description": "Free trial accounts of our software, and how they are used.",
        "data_subjects": "People who sign up for a trial",
        "personal_data_categories": ["Name", "E-mail address", "Company", "Trial usage (features used, sign-ins)"],
        "retention": "90 days after the trial ends unless you become a customer.",
        "holds_observed_data": True,
        "automated_decisions": True,
        "automated_logic": "At the end of a trial a score from 0 to 100 decides whether the trial is extended by 14 "
        "days: it counts the days you signed in (up to 50 points) and the main features you used (up to 50). "
        "A score of 60 or more extends the trial automatically; below 60 it ends, and you may ask a person to "
        "look at it again.",
        "search_procedure": "Search trial accounts by e-mail address.",
        "erasure_method": "Delete the trial account and its usage records.",
        "connector": "manual",
        "connector_config": {"instructions": "Export the trial account and its usage from the admin console."},
        "purposes": [
            ("Providing the trial", LawfulBasis.CONTRACT, ""),
            ("Deciding whether to extend a trial", LawfulBasis.CONTRACT, ""),
        ],
        "recipients": [HOSTING],
    },
    {
        "name": "Customer surveys",
        "description": "Satisfaction surveys after an order or a support ticket.",
        "data_subjects": "Customers who answer a survey",
        "personal_data_categories": ["E-mail address", "Customer number", "Survey answers and comments"],
        "retention": "Answers 2 years; the link to you is removed after 6 months.",
        "search_procedure": "Search SurveyPoint's responses by e-mail address.",
        "erasure_method": "Delete the response in SurveyPoint.",
        "connector": "manual",
        "connector_config": {"instructions": "Export responses from SurveyPoint by e-mail address."},
        "purposes": [
            (
                "Finding out what customers think of our service",
                LawfulBasis.LEGITIMATE_INTERESTS,
                "",
            )
        ],
        "recipients": [("SurveyPoint Ltd", "your e-mail address and customer number, to send the survey")],
    },
]

LEGITIMATE_INTEREST = {
    "Training our staff and checking the quality of our service": "good service to our customers",
    "Settling disagreements about what was said": "establishing the facts of a dispute",
    "Contacting businesses about our products": "finding new business customers",
    "Finding out what customers think of our service": "improving our service",
    "Choosing which offers to send you, from what you bought and viewed (profiling for direct marketing)": (
        "direct marketing of our own products to our customers (Recital 47)"
    ),
    "Showing our ads to you on other websites and apps": (
        "direct marketing of our own products to our customers (Recital 47)"
    ),
}

EU_REPRESENTATIVE = {
    "eu_representative_name": "EU Rep Services Ireland Ltd",
    "eu_representative_address": "1 Example Quay, Dublin 2, D02 XY00, Ireland",
    "eu_representative_email": "eurep@demo.example",
}


def demo_register_load(*, dpo) -> None:
    """The demo register, its system owner, the organisation's EU representative and the first notice version."""
    owner = _system_owner()
    for values in RECIPIENTS:
        if not Recipient.objects.filter(name=values["name"]).exists():
            services.recipient_save(recipient=None, values=values, actor=dpo)
    recipients = {recipient.name: recipient for recipient in Recipient.objects.all()}
    for spec in SYSTEMS:
        if DataSystem.objects.filter(name=spec["name"]).exists():
            continue
        fields = {key: value for key, value in spec.items() if key not in ("purposes", "recipients", "transfers")}
        fields["owner"] = owner if fields.pop("owned", False) else dpo
        system = services.system_save(system=None, values=fields, actor=dpo)
        for description, basis, marketing in spec["purposes"]:
            services.purpose_add(
                system=system,
                values={
                    "description": description,
                    "lawful_basis": basis,
                    "for_marketing": marketing == "marketing",
                    "legitimate_interest": LEGITIMATE_INTEREST.get(description, ""),
                },
                actor=dpo,
            )
        for name, disclosed in spec["recipients"]:
            services.system_recipient_link(system=system, recipient=recipients[name], disclosed=disclosed, actor=dpo)
        for country, name, safeguard, note in spec.get("transfers", ()):
            services.transfer_add(
                system=system,
                values={"country": country, "recipient": recipients[name], "safeguard": safeguard, "note": note},
                actor=dpo,
            )
    _eu_representative()
    if notice_latest() is None:
        services.notice_publish(actor=dpo, summary="First privacy notice generated from the register.")


def _system_owner():
    """The owner of the CRM and of the call recordings (whose manual search tasks they answer): a system owner (they
    read their systems in the staff area), without a password to sign in."""
    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_OWNER_USERNAME,
        defaults={"first_name": "Chris", "last_name": "Moreau", "email": "chris.owner@demo.example", "is_staff": True},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=roles.SYSTEM_OWNER))
    return user


def _eu_representative() -> None:
    """GDPR Art. 27: the demo organisation (in England) offers its services in the EU, so it names a representative."""
    organisation = organisation_get()
    if organisation.eu_representative_name:
        return
    for field, value in EU_REPRESENTATIVE.items():
        setattr(organisation, field, value)
    organisation.save()
