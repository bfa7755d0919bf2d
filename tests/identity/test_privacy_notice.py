"""The portal's own privacy notice (GDPR Art. 13): a page of the portal, linked from every page, stating what the
portal does with the information of requesters, agents and the people asked about an agent."""

import pytest
from django.urls import reverse

from identity.policy import policy_get

pytestmark = pytest.mark.django_db


def test_every_page_links_to_the_privacy_notice(client):
    """Art. 12(1) and 13: the notice is easy to find, from the footer of every public page."""
    link = f'href="{reverse("identity:privacy_notice")}"'
    for url in (
        reverse("requests_app:start"),
        reverse("requests_app:request_create", args=["access"]),
        reverse("requests_app:status_lost_link"),
        reverse("agents:sign_in"),
    ):
        assert link in client.get(url).content.decode(), url


def test_the_privacy_notice_states_what_article_13_requires(client, settings):
    """Controller and DPO contacts (13(1)(a)-(b)), purposes and lawful basis (13(1)(c)), recipients as configured
    (13(1)(e)), retention read from the portal's own settings (13(2)(a)), rights and complaint (13(2)(b), (d))."""
    settings.DSAR_CASE_FILE_RETENTION_DAYS = 1095
    settings.DSAR_UNCONFIRMED_RETENTION_DAYS = 60
    settings.DSAR_PRIVACY_EMAIL_PROVIDER = "Mailer Ltd"
    policy = policy_get()
    policy.evidence_retention_hours = 48
    policy.save()

    page = client.get(reverse("identity:privacy_notice")).content.decode()

    assert "dpo@example.org" in page and "privacy@example.org" in page
    assert "Article 6(1)(c)" in page  # handling rights requests is a legal obligation
    assert "agent" in page and "contact to check that an agent may act for them" in page
    assert "Mailer Ltd, who deliver our e-mails to you." in page
    assert "The company that hosts this site for us." in page
    assert "deleted 48 hours after our decision" in page
    # evidence_purge also deletes it after any end of the request, decision or not (LAW.md I2)
    assert "or after the request ends (for example when it is withdrawn or closed), whichever comes first" in page
    assert "1095 days after the request is closed" in page
    assert "never confirmed: its page can no longer be opened 60 days after it was closed" in page
    # Only what the portal does by itself is promised as automatic (issue 10: notices say only what is true).
    assert "deleted automatically" in page and "under our retention schedule" in page
    assert "Information Commissioner" in page and "https://ico.org.uk/make-a-complaint/" in page
