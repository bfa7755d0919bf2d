import pytest

from datasystems.connectors.base import (
    ConnectorError,
    ConnectorTemporaryError,
    Identifiers,
    connector_for,
    connector_keys,
)
from datasystems.connectors.demo_app import DemoAppConnector
from datasystems.connectors.sql import SqlConnector


def test_identifiers_are_normalised_so_one_address_or_number_matches_however_typed():
    identifiers = Identifiers.of(email="  Alan@Demo.Example ", phone="07700 900-001", customer_id=" C-1001 ")
    assert (identifiers.email, identifiers.phone, identifiers.customer_id) == (
        "alan@demo.example",
        "07700900001",
        "C-1001",
    )
    assert Identifiers.of(phone="+44 7700 900001").phone == "+447700900001"
    assert Identifiers.of(extra={"loyalty": " L-9 ", "empty": " "}).extra == {"loyalty": "L-9"}


def test_the_repr_of_identifiers_names_the_fields_never_the_values():
    """A repr ends up in tracebacks and logs: it must not carry personal data."""
    identifiers = Identifiers.of(email="alan@demo.example", extra={"loyalty": "L-9"})
    assert "alan" not in repr(identifiers) and "L-9" not in repr(identifiers)
    assert "email" in repr(identifiers) and "loyalty" in repr(identifiers)
    assert identifiers.get("loyalty") == "L-9" and identifiers.get("phone") == ""


def test_connector_for_builds_the_class_named_in_settings():
    assert set(connector_keys()) >= {"demo_app", "sql"}
    assert isinstance(connector_for("demo_app", {"tables": []}), DemoAppConnector)
    assert isinstance(connector_for("sql", {}), SqlConnector)


def test_connector_for_refuses_an_unknown_key_or_an_unimportable_class(settings):
    with pytest.raises(ConnectorError, match="No connector called 'ftp'"):
        connector_for("ftp", {})
    settings.DSAR_CONNECTORS = {"broken": "datasystems.connectors.nowhere.Missing"}
    with pytest.raises(ConnectorError, match="cannot be imported"):
        connector_for("broken", {})
    settings.DSAR_CONNECTORS = {"demo_app": "datasystems.connectors.demo_app.DemoAppConnector"}
    with pytest.raises(ConnectorError, match="must be an object"):
        connector_for("demo_app", ["not", "a", "mapping"])


def test_a_temporary_error_is_a_connector_error():
    """Callers that only know ConnectorError still catch the transient kind."""
    assert issubclass(ConnectorTemporaryError, ConnectorError)
