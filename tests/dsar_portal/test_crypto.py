"""Tests for field-level encryption, key parsing, lookup hashes and encrypted fields."""

from __future__ import annotations

import base64
import json
import os
from types import SimpleNamespace

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured, ValidationError
from django.db import connection
from django.db.models.lookups import IsNull
from django.test import override_settings

from dsar_portal import crypto
from dsar_portal.crypto import DecryptionError
from dsar_portal.fields import EncryptedJSONField, EncryptedTextField

OLD_KEY = os.urandom(32)
NEW_KEY = os.urandom(32)
HASH_KEY = os.urandom(32)

keys_old = override_settings(FIELD_ENCRYPTION_KEYS={"k2025": OLD_KEY}, FIELD_HASH_KEY=HASH_KEY)
keys_rotated = override_settings(FIELD_ENCRYPTION_KEYS={"k2026": NEW_KEY, "k2025": OLD_KEY}, FIELD_HASH_KEY=HASH_KEY)


@pytest.fixture(autouse=True)
def _default_keys():
    """Every test runs with known keys unless it overrides them itself."""
    with keys_old:
        yield


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _tamper_payload(token: str) -> str:
    """Flip one bit of the decoded ciphertext and re-encode it as a valid token."""
    version, kid, payload = token.split(":")
    blob = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    blob[-1] ^= 0x01
    encoded = base64.urlsafe_b64encode(bytes(blob)).rstrip(b"=").decode("ascii")
    return f"{version}:{kid}:{encoded}"


# --- encrypt / decrypt -----------------------------------------------------


@pytest.mark.parametrize(
    "plaintext",
    [
        "Alice Example",
        "",
        "Zoë Ångström — 東京都 🚀",
        "line1\nline2\ttab",
        "x" * 10_000,
    ],
)
def test_round_trip(plaintext):
    assert crypto.decrypt(crypto.encrypt(plaintext)) == plaintext


def test_token_format():
    token = crypto.encrypt("hello")
    version, kid, payload = token.split(":")
    assert (version, kid) == ("v1", "k2025")
    assert token.isascii()
    assert "=" not in payload
    blob = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert len(blob) == 12 + len(b"hello") + 16  # nonce + ciphertext + tag


def test_same_plaintext_encrypts_differently():
    assert crypto.encrypt("same value") != crypto.encrypt("same value")


def test_ciphertext_does_not_contain_plaintext():
    plaintext = "alice@example.com"
    token = crypto.encrypt(plaintext)
    assert plaintext not in token
    assert "alice" not in token
    assert _b64(plaintext.encode()).rstrip("=") not in token


def test_encrypt_rejects_non_str():
    with pytest.raises(TypeError):
        crypto.encrypt(b"bytes")  # type: ignore[arg-type]


def test_tampered_ciphertext_raises():
    token = crypto.encrypt("secret")
    with pytest.raises(DecryptionError) as excinfo:
        crypto.decrypt(_tamper_payload(token))
    assert "secret" not in str(excinfo.value)


def test_key_id_is_bound_as_associated_data():
    """Relabelling a token with another id fails even if both ids hold the same key."""
    with override_settings(FIELD_ENCRYPTION_KEYS={"a": OLD_KEY, "b": OLD_KEY}):
        token = crypto.encrypt("secret")
        assert token.startswith("v1:a:")
        with pytest.raises(DecryptionError):
            crypto.decrypt("v1:b:" + token.split(":", 2)[2])


@pytest.mark.parametrize(
    "token",
    [
        "",
        "plain text",
        "v2:k2025:AAAA",
        "v1:k2025",
        "v1:k2025:a:b",
        "v1:bad kid:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1:k2025:not*base64",
        "v1:k2025:AAAA",  # shorter than nonce + tag
    ],
)
def test_malformed_token_raises(token):
    with pytest.raises(DecryptionError):
        crypto.decrypt(token)


def test_unknown_kid_raises():
    with keys_rotated:
        token = crypto.encrypt("secret")  # sealed with k2026
    with pytest.raises(DecryptionError, match="unknown key id"):
        crypto.decrypt(token)  # only k2025 configured now


def test_wrong_key_under_same_kid_raises():
    token = crypto.encrypt("secret")
    with (
        override_settings(FIELD_ENCRYPTION_KEYS={"k2025": NEW_KEY}),
        pytest.raises(DecryptionError),
    ):
        crypto.decrypt(token)


def test_rotation():
    old_token = crypto.encrypt("Alice")
    assert not crypto.needs_rotation(old_token)

    with keys_rotated:
        assert crypto.decrypt(old_token) == "Alice"
        assert crypto.needs_rotation(old_token)

        new_token = crypto.reencrypt(old_token)
        assert new_token.startswith("v1:k2026:")
        assert not crypto.needs_rotation(new_token)
        assert crypto.decrypt(new_token) == "Alice"
        assert crypto.reencrypt(new_token) == new_token

        fresh = crypto.encrypt("Bob")
        assert fresh.startswith("v1:k2026:")
        assert not crypto.needs_rotation(fresh)


@pytest.mark.parametrize(
    "keys",
    [
        {},
        None,
        {"k1": b"short"},
        {"k1": _b64(os.urandom(32))},  # str instead of bytes
        {"bad id": os.urandom(32)},
    ],
)
def test_bad_settings_raise_improperly_configured(keys):
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=keys),
        pytest.raises(ImproperlyConfigured),
    ):
        crypto.encrypt("x")


# --- parse_key_list / generate_key --------------------------------------------


def test_generate_key():
    encoded = crypto.generate_key()
    assert len(base64.urlsafe_b64decode(encoded)) == 32
    assert encoded != crypto.generate_key()
    assert crypto.parse_key_list(f"k1:{encoded}") == {"k1": base64.urlsafe_b64decode(encoded)}


def test_parse_key_list_good():
    k1, k2 = os.urandom(32), os.urandom(32)
    unpadded = _b64(k2).rstrip("=")
    parsed = crypto.parse_key_list(f" k2026:{_b64(k1)} , k_2025-old:{unpadded} ")
    assert parsed == {"k2026": k1, "k_2025-old": k2}
    assert list(parsed) == ["k2026", "k_2025-old"]  # order kept: first is active


def test_parse_key_list_single():
    key = os.urandom(32)
    assert crypto.parse_key_list(f"{'a' * 32}:{_b64(key)}") == {"a" * 32: key}


# Fixed bytes, not random: the parameters name the tests, which parallel test processes must collect alike.
GOOD = _b64(bytes(range(32)))
STANDARD_B64 = base64.b64encode(b"\xfb" * 32).decode("ascii")  # '+' and '/' alphabet


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (f"k1:{GOOD},", "empty"),
        (f"k1{GOOD}", "no ':'"),
        (f"bad id:{GOOD}", "invalid key id"),
        (f"k.1:{GOOD}", "invalid key id"),
        (f":{GOOD}", "invalid key id"),
        (f"{'a' * 33}:{GOOD}", "invalid key id"),
        (f"k1:{GOOD},k1:{_b64(bytes(range(32, 64)))}", "duplicate"),
        (f"k1:{_b64(bytes(range(16)))}", "16 bytes"),
        (f"k1:{_b64(bytes(range(33)))}", "33 bytes"),
        ("k1:", "0 bytes"),
        ("k1:not*base64!", "base64"),
        (f"k1:{STANDARD_B64}", "base64"),
        ("k1:A", "base64"),  # impossible length
    ],
)
def test_parse_key_list_bad(value, message):
    with pytest.raises(ValueError, match=message) as excinfo:
        crypto.parse_key_list(value)
    assert GOOD not in str(excinfo.value)  # never echo key material


# --- lookup hashes ---------------------------------------------------------------


def test_normalise_email():
    assert crypto.normalise_email(" Alice@Example.COM ") == "alice@example.com"
    assert crypto.normalise_email("\u00a0ａｌｉｃｅ@example.com\n") == "alice@example.com"


def test_email_lookup_hash_normalises():
    expected = crypto.email_lookup_hash("alice@example.com")
    assert crypto.email_lookup_hash(" Alice@Example.COM ") == expected
    assert len(expected) == 64
    int(expected, 16)
    assert crypto.email_lookup_hash("bob@example.com") != expected


def test_email_lookup_hash_depends_on_key():
    first = crypto.email_lookup_hash("alice@example.com")
    with override_settings(FIELD_HASH_KEY=os.urandom(32)):
        assert crypto.email_lookup_hash("alice@example.com") != first


def test_lookup_hash_requires_configured_key():
    with (
        override_settings(FIELD_HASH_KEY="not bytes"),
        pytest.raises(ImproperlyConfigured),
    ):
        crypto.lookup_hash("x")


# --- EncryptedTextField ------------------------------------------------------------


def _text_field(**kwargs) -> EncryptedTextField:
    field = EncryptedTextField(**kwargs)
    field.set_attributes_from_name("secret")
    return field


def _json_field(**kwargs) -> EncryptedJSONField:
    field = EncryptedJSONField(**kwargs)
    field.set_attributes_from_name("payload")
    return field


def test_text_field_prep_and_load():
    field = _text_field()
    stored = field.get_prep_value("Zoë 東京")
    assert stored.startswith("v1:k2025:")
    assert "Zoë" not in stored
    assert field.from_db_value(stored, None, connection) == "Zoë 東京"


def test_text_field_none_and_empty_are_not_encrypted():
    field = _text_field(null=True, blank=True)
    assert field.get_prep_value(None) is None
    assert field.get_prep_value("") == ""
    assert field.from_db_value(None, None, connection) is None
    assert field.from_db_value("", None, connection) == ""


def test_text_field_to_python_keeps_plaintext():
    field = _text_field()
    assert field.to_python("v1:k2025:looks-like-a-token") == "v1:k2025:looks-like-a-token"
    assert field.to_python(None) is None
    assert field.to_python(42) == "42"


def test_text_field_load_tampered_raises():
    field = _text_field()
    with pytest.raises(DecryptionError):
        field.from_db_value(_tamper_payload(field.get_prep_value("x")), None, connection)


@pytest.mark.parametrize("lookup", ["exact", "iexact", "contains", "icontains", "in", "gt"])
@pytest.mark.parametrize("make_field", [_text_field, _json_field])
def test_encrypted_fields_disallow_lookups(make_field, lookup):
    with pytest.raises(FieldError, match="encrypted"):
        make_field().get_lookup(lookup)


@pytest.mark.parametrize("make_field", [_text_field, _json_field])
def test_encrypted_fields_allow_isnull_only(make_field):
    field = make_field()
    assert field.get_lookup("isnull") is IsNull
    assert field.get_transform("lower") is None


@pytest.mark.parametrize(
    ("field_class", "path"),
    [
        (EncryptedTextField, "dsar_portal.fields.EncryptedTextField"),
        (EncryptedJSONField, "dsar_portal.fields.EncryptedJSONField"),
    ],
)
def test_fields_deconstruct_cleanly(field_class, path):
    field = field_class(null=True, blank=True)
    field.set_attributes_from_name("value")
    name, deconstructed_path, args, kwargs = field.deconstruct()
    assert (name, deconstructed_path, args) == ("value", path, [])
    assert kwargs == {"null": True, "blank": True}
    assert field_class(*args, **kwargs).deconstruct()[3] == kwargs


# --- EncryptedJSONField ----------------------------------------------------------


@pytest.mark.parametrize("value", [{"b": 1, "a": ["ü", None, True]}, [1, "two", {"three": 3}], {}, []])
def test_json_field_round_trip(value):
    field = _json_field()
    stored = field.get_prep_value(value)
    assert stored.startswith("v1:k2025:")  # empty containers are encrypted too
    assert field.from_db_value(stored, None, connection) == value


def test_json_field_serialisation_is_canonical():
    field = _json_field()
    stored = field.get_prep_value({"b": "ü", "a": 1})
    assert crypto.decrypt(stored) == '{"a": 1, "b": "ü"}'


def test_json_field_default_dict():
    field = _json_field(default=dict)
    first, second = field.get_default(), field.get_default()
    assert first == {} and first is not second
    assert field.deconstruct()[3] == {"default": dict}


def test_json_field_none_is_null():
    field = _json_field(null=True)
    assert field.get_prep_value(None) is None
    assert field.from_db_value(None, None, connection) is None


def test_json_field_rejects_scalars():
    field = _json_field()
    with pytest.raises(TypeError):
        field.get_prep_value("a string")
    with pytest.raises(ValidationError):
        field.clean(5, None)
    with pytest.raises(ValidationError):
        field.clean('"just a string"', None)
    with pytest.raises(ValidationError):
        field.clean("{not json", None)


def test_json_field_to_python_and_value_to_string():
    field = _json_field()
    assert field.to_python({"a": 1}) == {"a": 1}
    assert field.to_python('{"a": 1}') == {"a": 1}  # fixtures / XML serializer

    obj = SimpleNamespace(payload={"b": 2, "a": "é"})
    assert json.loads(field.value_to_string(obj)) == {"a": "é", "b": 2}


def test_json_field_formfield():
    form_field = _json_field().formfield()
    assert form_field.clean('{"a": 1}') == {"a": 1}
    with pytest.raises(ValidationError):
        form_field.clean("3")


# --- database round trip (raw cursor, no models) -------------------------------------


@pytest.mark.django_db
def test_database_round_trip_and_rotation():
    text_field = _text_field(null=True)
    json_field = _json_field()
    text_type = text_field.db_type(connection)
    json_type = json_field.db_type(connection)
    quote = connection.ops.quote_name
    table = quote("dsar_crypto_test")
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {table} ({quote('secret')} {text_type} NULL, {quote('payload')} {json_type} NOT NULL)"
        )
        try:
            values = [("Zoë", {"k": "东京"}), (None, {}), ("", [])]
            for text, data in values:
                cursor.execute(
                    f"INSERT INTO {table} VALUES (%s, %s)",
                    [
                        text_field.get_db_prep_save(text, connection),
                        json_field.get_db_prep_save(data, connection),
                    ],
                )
            cursor.execute(f"SELECT {quote('secret')}, {quote('payload')} FROM {table}")
            rows = cursor.fetchall()
            assert "Zoë" not in repr(rows) and "东京" not in repr(rows)
            loaded = [
                (
                    text_field.from_db_value(raw_text, None, connection),
                    json_field.from_db_value(raw_json, None, connection),
                )
                for raw_text, raw_json in rows
            ]
            assert loaded == values

            # Rotation: rows sealed under k2025 still load once k2026 is active.
            with keys_rotated:
                assert crypto.needs_rotation(rows[0][0])
                assert text_field.from_db_value(rows[0][0], None, connection) == "Zoë"
        finally:
            cursor.execute(f"DROP TABLE {table}")


def test_an_internationalised_domain_is_one_mailbox_however_it_is_written():
    expected = crypto.normalise_email("jose@xn--exmple-cua.org")
    assert crypto.normalise_email("Jose@EXÄMPLE.org") == expected
    assert crypto.email_lookup_hash("jose@exämple.org") == crypto.email_lookup_hash("JOSE@XN--EXMPLE-CUA.ORG")
    assert (
        crypto.normalise_email("user@例子。广告")
        == crypto.normalise_email("user@例子.广告")
        == "user@xn--fsqu00a.xn--4rr70v"
    )
