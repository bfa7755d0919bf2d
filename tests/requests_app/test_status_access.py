"""Status-page grants the server can end: a copied cookie works only while its grants live."""

from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from requests_app import services, status_access
from requests_app.models import DataSubjectRequest, Status, StatusGrant
from tests.factories import StaffUserFactory, in_progress_objection, status_link_path_in

pytestmark = pytest.mark.django_db(transaction=True)

ABOUT_ME = {"requester_role": "data_subject", "name": "Grace Hopper", "email": "grace@example.com"}
MARKETING = {"objection_type": "direct_marketing"}


def _file(client: Client) -> tuple[DataSubjectRequest, str]:
    response = client.post(reverse("requests_app:request_create", args=["objection"]), {**ABOUT_ME, **MARKETING})
    assert response.status_code == 302
    return DataSubjectRequest.objects.latest("pk"), response["Location"]


def _copy_of(client: Client) -> Client:
    """Another browser holding a copy of ``client``'s status cookie (a shared computer, a stolen cookie)."""
    other = Client()
    other.cookies[status_access.COOKIE] = client.cookies[status_access.COOKIE].value
    return other


def _signed(value: str) -> str:
    """A cookie value signed with the portal's own key, as if the attacker could sign."""
    response = HttpResponse()
    response.set_signed_cookie(status_access.COOKIE, value, salt=status_access.SALT)
    return response.cookies[status_access.COOKIE].value


def _cookie_value(client: Client) -> str:
    """What the browser's status cookie says, signature checked."""
    http_request = RequestFactory().get("/")
    http_request.COOKIES[status_access.COOKIE] = client.cookies[status_access.COOKIE].value
    return http_request.get_signed_cookie(status_access.COOKIE, salt=status_access.SALT)


def _later(delta: timedelta):
    """Grants are judged ``delta`` from now."""
    later = timezone.now() + delta
    return mock.patch.object(status_access, "timezone", SimpleNamespace(now=lambda: later))


def test_the_cookie_names_a_grant_kept_on_the_server_not_just_a_reference(client):
    request, status_url = _file(client)
    assert client.get(status_url).status_code == 200
    grant = StatusGrant.objects.get(request=request)
    assert grant.revoked_at is None
    assert timedelta(hours=7, minutes=59) < grant.expires_at - grant.created_at <= timedelta(hours=8)
    # Only a keyed hash of the token is stored: the database alone gives no usable cookie.
    reference, _, token = _cookie_value(client).partition(":")
    assert reference == request.reference
    assert token and token not in grant.token_hash


def test_a_cookie_whose_grant_was_revoked_on_the_server_opens_nothing(client):
    request, status_url = _file(client)
    copy = _copy_of(client)
    assert copy.get(status_url).status_code == 200

    StatusGrant.objects.filter(request=request).update(revoked_at=timezone.now())

    assert copy.get(status_url).status_code == 404
    assert client.get(status_url).status_code == 404


def test_a_withdrawn_request_stays_readable_for_an_hour_then_only_through_a_fresh_e_mailed_link(client):
    """Withdrawal ends every older grant within the hour; the link in our e-mail still opens the final page."""
    request, status_url = _file(client)
    copy = _copy_of(client)

    withdrawn = client.post(reverse("requests_app:status_withdraw", args=[request.reference]), {"reason": ""})
    assert withdrawn["Location"] == status_url
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN
    # The person who withdrew reads the confirmation; so, for now, does the copy.
    assert "Withdrawn" in client.get(status_url).content.decode()
    assert copy.get(status_url).status_code == 200
    for grant in StatusGrant.objects.filter(request=request):
        assert grant.expires_at <= timezone.now() + status_access.AFTER_THE_END

    with _later(timedelta(minutes=61)):
        assert client.get(status_url).status_code == 404
        assert copy.get(status_url).status_code == 404

        # The withdrawal e-mail carries a fresh link: following it makes a new grant of full length.
        withdrawal_email = [m for m in mail.outbox if request.reference in m.subject][-1]
        opened = client.get(status_link_path_in(withdrawal_email))
        assert opened["Location"] == status_url
        assert client.get(status_url).status_code == 200
        assert copy.get(status_url).status_code == 404


def test_completing_a_request_ends_older_grants_within_the_hour(client):
    request = in_progress_objection()
    status_url = client.get(status_link_path_in(mail.outbox[-1]))["Location"]
    assert client.get(status_url).status_code == 200
    services.request_complete(request=request, actor=StaffUserFactory(), outcome="fulfilled")
    grant = StatusGrant.objects.get(request=request)
    assert grant.expires_at <= timezone.now() + status_access.AFTER_THE_END
    with _later(timedelta(minutes=61)):
        assert client.get(status_url).status_code == 404


def test_a_token_moved_to_another_reference_is_refused_even_in_a_validly_signed_cookie(client):
    """A grant opens only the request it was made for: relabelling it, even with the signing key, opens nothing."""
    mine, _ = _file(client)
    theirs, their_url = _file(Client())
    my_token = _cookie_value(client).partition(":")[2]

    attacker = Client()
    attacker.cookies[status_access.COOKIE] = _signed(f"{theirs.reference}:{my_token}")
    assert attacker.get(their_url).status_code == 404
    attacker.cookies[status_access.COOKIE] = _signed(f"{theirs.reference}:made-up-token")
    assert attacker.get(their_url).status_code == 404
    # The old format, a bare list of references, opens nothing either.
    attacker.cookies[status_access.COOKIE] = _signed(theirs.reference)
    assert attacker.get(their_url).status_code == 404
    assert mine.reference != theirs.reference


def test_following_a_new_link_in_the_same_browser_ends_the_grant_it_replaces(client):
    request, status_url = _file(client)
    copy = _copy_of(client)
    first_email = [m for m in mail.outbox if request.reference in m.subject][0]
    client.get(status_link_path_in(first_email))

    assert client.get(status_url).status_code == 200
    assert copy.get(status_url).status_code == 404
    assert StatusGrant.objects.filter(request=request, revoked_at=None).count() == 1


def test_checking_a_grant_is_one_query_that_also_loads_the_request(client, django_assert_num_queries):
    request, _ = _file(client)
    http_request = RequestFactory().get("/")
    http_request.COOKIES[status_access.COOKIE] = client.cookies[status_access.COOKIE].value
    with django_assert_num_queries(1):
        found = status_access.granted_request(http_request, request.reference)
        assert found.pk == request.pk and found.status == request.status


def test_dead_grants_are_deleted_by_the_daily_job(client):
    request, _ = _file(client)
    live = StatusGrant.objects.get(request=request)
    now = timezone.now()
    StatusGrant.objects.create(request=request, token_hash="a" * 64, created_at=now, expires_at=now, revoked_at=None)
    StatusGrant.objects.create(
        request=request, token_hash="b" * 64, created_at=now, expires_at=now + timedelta(hours=1), revoked_at=now
    )

    assert status_access.grants_purge(now=now) == 2
    assert status_access.grants_purge(now=now) == 0
    assert list(StatusGrant.objects.all()) == [live]


def test_a_closing_move_that_rolls_back_leaves_the_grants_as_they_were(client):
    request = in_progress_objection()
    client.get(status_link_path_in(mail.outbox[-1]))
    before = StatusGrant.objects.get(request=request).expires_at

    with pytest.raises(RuntimeError), transaction.atomic():
        services.request_complete(request=request, actor=StaffUserFactory(), outcome="fulfilled")
        raise RuntimeError("the rest of the closing failed")

    assert StatusGrant.objects.get(request=request).expires_at == before
