import pytest

from identity import services as identity_services


@pytest.fixture(autouse=True)
def pat_on_record(db):
    """The organisation's own record of Pat Client, the subject agents file for: where Pat is asked about them."""
    return identity_services.demo_customer_save(
        customer_number="C-2002", name="Pat Client", email="pat@example.com", postcode="EH1 1AA"
    )
