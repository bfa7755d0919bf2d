"""Which address a rate limit counts against, behind the proxies the portal is told about."""

from django.test import RequestFactory

from dsar_portal.ratelimit import client_key


def _request(forwarded: str | None, remote: str = "10.0.0.2"):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_without_trusted_proxies_the_connecting_address_counts_and_the_header_is_ignored(settings):
    settings.DSAR_TRUSTED_PROXY_COUNT = 0
    assert client_key(_request("198.51.100.1", remote="203.0.113.7")) == "203.0.113.7"


def test_a_client_behind_one_proxy_cannot_choose_its_identity_by_prepending_entries(settings):
    """An appending proxy (nginx's $proxy_add_x_forwarded_for) keeps what the client sent and adds the address it
    saw: the client's own entries are on the left, so whatever it forges, its key stays the same."""
    settings.DSAR_TRUSTED_PROXY_COUNT = 1
    forged = [f"192.0.2.{n}, 203.0.113.7" for n in range(25)]
    headers = ["203.0.113.7", "198.51.100.2,198.51.100.3, 203.0.113.7", *forged]
    seen = {client_key(_request(header)) for header in headers}
    assert seen == {"203.0.113.7"}


def test_behind_two_proxies_the_address_the_outer_one_saw_counts(settings):
    settings.DSAR_TRUSTED_PROXY_COUNT = 2
    # client forged "198.51.100.1"; the outer proxy added the client (203.0.113.7), the inner one the outer proxy.
    assert client_key(_request("198.51.100.1, 203.0.113.7, 10.0.0.1")) == "203.0.113.7"
    assert client_key(_request("203.0.113.7, 10.0.0.1")) == "203.0.113.7"
    # Reaching the inner proxy directly: the header is shorter than two hops, all of it written by our proxy.
    assert client_key(_request("203.0.113.8")) == "203.0.113.8"


def test_with_a_trusted_proxy_but_no_header_the_connecting_address_counts(settings):
    settings.DSAR_TRUSTED_PROXY_COUNT = 1
    assert client_key(_request(None, remote="203.0.113.9")) == "203.0.113.9"
