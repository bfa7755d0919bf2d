"""A released archive whose build keeps failing (issue 12, review before release): each attempt is counted and its
error kept for staff; after FULFILMENT_MAX_ATTEMPTS the sweep stops building it again, and the case page says the
archive could not be built, with a "Build again" button for those who may act (POST, written to the trail)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from casework import roles
from fulfilment import releases, review, services
from fulfilment.models import Release, ReleaseStatus
from requests_app.models import EventKind
from tests.factories import StaffUserFactory

from .conftest import alan_request

pytestmark = pytest.mark.django_db(transaction=True)


def _later():
    return timezone.now() + services.running_timeout() + timedelta(minutes=1)


def _disk_full(*args, **kwargs):
    raise OSError("No space left on device")


@pytest.fixture
def failing(automated_register, handler, settings):
    """Alan's answer approved; its build fails on a full disk, twice (the bound here), then stops being retried."""
    settings.FULFILMENT_MAX_ATTEMPTS = 2
    request = alan_request()
    release = Release.objects.get(request=request)
    with mock.patch.object(services, "archive_store", _disk_full):
        assert review.release_approve(release=release, actor=handler) == ReleaseStatus.PREPARING
        release.refresh_from_db()
        assert (release.status, release.build_attempts) == (ReleaseStatus.PREPARING, 1)
        assert release.build_error == "OSError: No space left on device"
        assert not releases.build_failed(release)
        # The sweep builds it again once overdue; the second attempt fails too, and is the last.
        assert releases.releases_sweep(now=_later()) == 1
        release.refresh_from_db()
        assert release.build_attempts == 2 and releases.build_failed(release)
        assert releases.releases_sweep(now=_later()) == 0
        # A stray second delivery of the build message does not try a third time.
        releases.release_build(release_id=release.pk)
    release.refresh_from_db()
    assert release.build_attempts == 2 and release.status == ReleaseStatus.PREPARING
    return release


def test_the_case_page_says_the_archive_could_not_be_built_with_a_button_for_who_may_act(client, failing, handler):
    url = reverse("casework:request_detail", args=[failing.request.reference])
    button = reverse("fulfilment:release_build_again", args=[failing.request.reference, failing.pk])
    client.force_login(handler)
    page = client.get(url).content.decode()
    assert "The released archive could not be built: OSError: No space left on device" in page
    assert button in page and "Build again" in page
    assert "the released archive is being prepared" not in page
    auditor = StaffUserFactory(username="auditor")
    auditor.groups.add(Group.objects.get(name=roles.AUDITOR))
    client.force_login(auditor)
    page = client.get(url).content.decode()
    assert "could not be built" in page and button not in page


def test_building_again_resets_the_attempts_builds_it_and_is_written_to_the_trail(client, failing, handler):
    button = reverse("fulfilment:release_build_again", args=[failing.request.reference, failing.pk])
    client.force_login(handler)
    response = client.post(button, follow=True)
    assert "The released archive is being built again." in response.content.decode()
    failing.refresh_from_db()
    assert failing.status == ReleaseStatus.AVAILABLE and failing.build_attempts == 1 and failing.build_error == ""
    events = failing.request.events.filter(kind=EventKind.RELEASE_STATUS_CHANGED, actor=handler)
    assert [event for event in events if "built again" in event.reason]
    # A second click finds it built: a message, never a 500.
    again = client.post(button, follow=True)
    assert again.status_code == 200 and "no longer being prepared" in again.content.decode()


def test_building_again_is_refused_while_attempts_remain(automated_register, handler, settings):
    settings.FULFILMENT_MAX_ATTEMPTS = 3
    request = alan_request()
    release = Release.objects.get(request=request)
    with mock.patch.object(services, "archive_store", _disk_full):
        review.release_approve(release=release, actor=handler)
    release.refresh_from_db()
    with mock.patch.object(review, "release_build_enqueue") as enqueue:
        assert releases.release_build_again(release=release, actor=handler) is False
        enqueue.assert_not_called()


def test_an_unexpected_error_is_shown_without_its_text(automated_register, handler):
    request = alan_request()
    release = Release.objects.get(request=request)

    def leaky(*args, **kwargs):
        raise RuntimeError("row for alan.t@example.net")

    with mock.patch.object(services, "archive_store", leaky):
        review.release_approve(release=release, actor=handler)
    release.refresh_from_db()
    assert release.build_error == releases.UNEXPECTED and "alan" not in release.build_error


def test_a_build_left_unfinished_by_a_killed_worker_counts_and_says_so(automated_register, handler, settings):
    settings.FULFILMENT_MAX_ATTEMPTS = 1
    request = alan_request()
    release = Release.objects.get(request=request)
    with mock.patch.object(review, "release_build_enqueue"):
        review.release_approve(release=release, actor=handler)
    # The worker counted its attempt and was killed before the end: no error recorded.
    Release.objects.filter(pk=release.pk).update(build_attempts=1)
    release.refresh_from_db()
    assert not releases.build_failed(release)
    assert releases.build_failed(release, now=_later())
    assert releases.build_error_of(release) == releases.UNFINISHED
    assert releases.releases_sweep(now=_later()) == 0
