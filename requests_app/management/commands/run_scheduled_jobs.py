"""Run the periodic jobs once: for deployments without Celery beat (the embedded default), from cron.

With a broker, `celery -A dsar_portal beat` runs the same jobs on its schedule.
"""

from django.core.management.base import BaseCommand

from identity import services as identity_services
from requests_app import services as request_services


class Command(BaseCommand):
    help = (
        "Send messages that were never queued; remind and close unconfirmed requests and unanswered identity "
        "checks; delete decided evidence."
    )

    def handle(self, *args, **options) -> None:
        queued = request_services.undelivered_messages_sweep()
        self.stdout.write(f"Messages never sent, queued again: {queued}.")
        reminded, closed = request_services.unconfirmed_requests_sweep()
        self.stdout.write(f"Unconfirmed e-mail addresses: {reminded} reminded, {closed} closed.")
        reminded, closed = identity_services.verification_timeouts_sweep()
        self.stdout.write(f"Identity checks without an answer: {reminded} reminded, {closed} closed.")
        deleted = identity_services.evidence_purge()
        self.stdout.write(f"Evidence documents deleted after their decision: {deleted}.")
