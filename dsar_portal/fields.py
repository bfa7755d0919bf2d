"""Model fields that keep requester personal data encrypted at rest.

Why: the database (and every backup and replica of it) only ever sees
``v1:<kid>:...`` tokens from :mod:`dsar_portal.crypto`; Python code sees plain
values. Consequences to keep in mind:

* Encrypted columns cannot be queried. Only ``__isnull`` is allowed; every
  other lookup or transform raises FieldError (including ``field=None``: use
  ``field__isnull=True``). Search through a separate lookup-hash column
  instead (see ``crypto.email_lookup_hash``). For the same reason
  ``unique=True`` is rejected by a system check, and ordering by these
  columns is meaningless.
* A stored value that cannot be decrypted raises ``crypto.DecryptionError``
  when the row is loaded: failing loudly beats showing corrupt data.
* Serialisation (``dumpdata``) outputs plaintext, as it works on Python
  values: treat fixtures and dumps as personal data.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django import forms
from django.core import checks
from django.core.exceptions import FieldError, ValidationError
from django.db import models

from . import crypto

__all__ = [
    "EncryptedFieldMixin",
    "EncryptedJSONField",
    "EncryptedJSONFormField",
    "EncryptedTextField",
    "reencrypt_instance_fields",
]

_ALLOWED_LOOKUPS = frozenset({"isnull"})


class EncryptedFieldMixin:
    """Shared behaviour: forbid queries on ciphertext and reject unique constraints."""

    def get_lookup(self, lookup_name: str):
        """Allow only ``isnull``: any comparison against random-nonce ciphertext is wrong."""
        if lookup_name not in _ALLOWED_LOOKUPS:
            raise FieldError(
                f"Lookup '{lookup_name}' is not supported on encrypted field "
                f"{getattr(self, 'name', None)!r}: encrypted data cannot be queried. "
                "Use a lookup-hash column instead."
            )
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name: str) -> None:
        """No transforms (lower, etc.) either: they would operate on ciphertext."""

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if self.unique:
            errors.append(
                checks.Error(
                    "Encrypted fields cannot be unique or primary keys: every "
                    "encryption uses a random nonce, and uniqueness validation "
                    "needs an exact lookup, which encrypted fields forbid.",
                    hint="Enforce uniqueness on a lookup-hash column instead.",
                    obj=self,
                    id="dsar_portal.E001",
                )
            )
        return errors


class EncryptedTextField(EncryptedFieldMixin, models.TextField):
    """A TextField stored as an AES-256-GCM token; plain ``str`` in Python.

    ``None`` is stored as NULL and ``""`` as ``""`` unencrypted: there is
    nothing to hide in an empty value, and it keeps ``blank=True`` forms and
    the "empty string, not NULL" convention for text working.
    """

    description = "Text encrypted at rest"

    def get_prep_value(self, value: Any) -> str | None:
        # TextField.get_prep_value resolves lazy strings and coerces to str.
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    # to_python is inherited from TextField: it receives plaintext (forms,
    # deserialisation) and never decrypts, so user input that happens to look
    # like a token is kept as typed.


class EncryptedJSONFormField(forms.JSONField):
    """forms.JSONField that only accepts an object or array, matching the model field."""

    default_error_messages: ClassVar[dict[str, str]] = {"invalid_type": "Enter a JSON object or array."}

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if value is not None and not isinstance(value, (dict, list)):
            raise ValidationError(self.error_messages["invalid_type"], code="invalid_type")
        return value


class EncryptedJSONField(EncryptedFieldMixin, models.TextField):
    """A dict/list stored as an encrypted JSON document; works with ``default=dict``.

    The JSON is serialised with ``sort_keys=True, ensure_ascii=False`` before
    encryption. Only ``None`` (NULL) is left unencrypted; an empty dict or list
    is encrypted like any other value, so every non-NULL value has one format
    and the column does not reveal which requesters left the data empty.
    Only dict and list values are accepted, which keeps "a JSON string from a
    form or fixture" and "the Python value" unambiguous.
    """

    description = "JSON (dict or list) encrypted at rest"
    empty_strings_allowed = False
    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "Value must be valid JSON.",
        "invalid_type": "Value must be a JSON object or array.",
    }

    @staticmethod
    def _dumps(value: dict | list) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)

    def to_python(self, value: Any) -> dict | list | None:
        """Accept the Python value, or a JSON string (fixtures, XML serializer)."""
        if value is None or isinstance(value, (dict, list)):
            return value
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
            if isinstance(value, (dict, list)):
                return value
        raise ValidationError(self.error_messages["invalid_type"], code="invalid_type")

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        super().validate(value, model_instance)
        if value is not None and not isinstance(value, (dict, list)):
            raise ValidationError(self.error_messages["invalid_type"], code="invalid_type")

    def get_prep_value(self, value: Any) -> str | None:
        # Deliberately not calling TextField.get_prep_value: it would str() the dict.
        if value is None:
            return None
        if not isinstance(value, (dict, list)):
            raise TypeError(f"{type(self).__name__} {self.name!r} expects a dict or list, got {type(value).__name__}.")
        return crypto.encrypt(self._dumps(value))

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return json.loads(crypto.decrypt(value))

    def value_to_string(self, obj: models.Model) -> str | None:
        value = self.value_from_object(obj)
        return None if value is None else self._dumps(value)

    def formfield(self, **kwargs: Any) -> forms.Field:
        return super().formfield(**{"form_class": EncryptedJSONFormField, **kwargs})


def reencrypt_instance_fields(instance: models.Model) -> bool:
    """Re-seal the stored encrypted columns of ``instance`` that use a retired key.

    Why this shape: the rotation decision needs the stored token, not the
    decrypted Python value, so the raw column values are read from the
    database. Each stale token is replaced with a compare-and-swap UPDATE
    (only if the column still holds the token we read), so a concurrent save
    is never overwritten, and unsaved in-memory changes on ``instance``, save()
    signals and ``auto_now`` fields are left alone. The plaintext is unchanged,
    so the in-memory instance stays valid. Returns whether any column changed.
    """
    model = type(instance)
    fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedFieldMixin)]
    if not fields or instance.pk is None:
        return False
    manager = model._base_manager.using(instance._state.db)
    raw = {
        f"_raw_{f.attname}": models.ExpressionWrapper(models.F(f.attname), output_field=models.TextField())
        for f in fields
    }
    row = manager.filter(pk=instance.pk).annotate(**raw).values(*raw).first()
    if row is None:
        return False
    changed = False
    for field in fields:
        alias = f"_raw_{field.attname}"
        token = row[alias]
        if not token or not crypto.needs_rotation(token):
            continue
        updated = (
            manager.filter(pk=instance.pk)
            .alias(**{alias: raw[alias]})
            .filter(**{alias: token})
            .update(**{field.attname: models.Value(crypto.reencrypt(token), output_field=models.TextField())})
        )
        changed = changed or bool(updated)
    return changed
