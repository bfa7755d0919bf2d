"""Compilations assembled before releases existed get their copy 1 in review (fulfilment migration 0007), so their
answer can be reviewed, approved and delivered like any other; nothing leaves before a case handler approves it."""

import importlib

import pytest
from django.apps import apps

from fulfilment.models import Compilation, CompilationStatus, Release, ReleaseRecipient, ReleaseStatus
from requests_app.models import DataSubjectRequest, EventKind, RequesterRole, RespondTo

from .conftest import alan_request

pytestmark = pytest.mark.django_db(transaction=True)

migration = importlib.import_module("fulfilment.migrations.0007_release_build_attempts")


def test_an_assembled_compilation_without_a_release_gets_copy_one_in_review_once(automated_register):
    subject = alan_request(email="subject@example.net")
    agent = alan_request(email="agent@example.net")
    DataSubjectRequest.objects.filter(pk=agent.pk).update(
        requester_role=RequesterRole.AGENT, respond_to=RespondTo.REQUESTER
    )
    assert Compilation.objects.filter(status=CompilationStatus.ASSEMBLED).count() == 2
    # As before releases existed: assembled, no release.
    Release.objects.all().delete()

    migration.open_missing_releases(apps, None)

    mine = Release.objects.get(request=subject)
    theirs = Release.objects.get(request=agent)
    assert (mine.copy_number, mine.status, mine.recipient) == (1, ReleaseStatus.IN_REVIEW, ReleaseRecipient.SUBJECT)
    assert (theirs.status, theirs.recipient) == (ReleaseStatus.IN_REVIEW, ReleaseRecipient.AGENT)
    event = subject.events.filter(kind=EventKind.RELEASE_STATUS_CHANGED).latest("created_at")
    assert event.to_status == ReleaseStatus.IN_REVIEW and "assembled before" in event.reason
    # Idempotent: a second run adds nothing.
    migration.open_missing_releases(apps, None)
    assert Release.objects.count() == 2


def test_a_compilation_not_assembled_or_with_a_release_is_left_alone(automated_register):
    request = alan_request()
    release = Release.objects.get(request=request)
    Compilation.objects.create(request=request, attempt=2, status=CompilationStatus.FAILED)
    migration.open_missing_releases(apps, None)
    assert list(Release.objects.all()) == [release]
