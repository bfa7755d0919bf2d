"""The DPO's forms for the register: validated on the server, each sent back with what was typed when wrong."""

import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.forms import _style

from .change_rules import ChangeRuleError, rules_check
from .connectors.base import ConnectorError, connector_for
from .models import DataSystem, LawfulBasis, Purpose, Recipient, SystemRecipient, Transfer
from .services import SYSTEM_FIELDS

# The connector kinds of issue 12; settings.DSAR_CONNECTORS, where set, is the list (its keys).
CONNECTOR_KINDS = ("demo_app", "sql", "http", "manual")
# A connector's configuration names the environment variables that hold secrets, never the secrets themselves.
SECRET_KEY_RE = re.compile(r"pass(word)?|secret|token|api_?key|credential", re.IGNORECASE)
URL_WITH_CREDENTIALS_RE = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


def connector_choices() -> list[tuple[str, str]]:
    keys = list(getattr(settings, "DSAR_CONNECTORS", {}) or CONNECTOR_KINDS)
    if "manual" not in keys:
        keys.append("manual")
    return [(key, key) for key in keys]


def _secrets_in(value: Any, path: str = "") -> list[str]:
    """The places in a configuration that hold what looks like a secret (a key named like one, not ending _env)."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if SECRET_KEY_RE.search(str(key)) and not str(key).endswith("_env") and item not in ("", None):
                found.append(where)
            found.extend(_secrets_in(item, where))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_secrets_in(item, f"{path}[{index}]"))
    elif isinstance(value, str) and URL_WITH_CREDENTIALS_RE.search(value):
        found.append(path or "value")
    return found


class LinesField(forms.CharField):
    """One item a line, kept as a list of strings."""

    widget = forms.Textarea(attrs={"rows": 5})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list | tuple):
            return [str(item).strip() for item in value if str(item).strip()]
        text = super().to_python(value)
        return [line.strip() for line in text.splitlines() if line.strip()]


class DataSystemForm(forms.ModelForm):
    personal_data_categories = LinesField(
        label=gettext_lazy("Categories of personal data, one a line"),
        help_text=gettext_lazy("For example: name; e-mail address; IP address; order history."),
    )
    connector = forms.ChoiceField(
        label=gettext_lazy("Connector"),
        help_text=gettext_lazy(
            "How the portal searches this system for a person: 'manual' gives its owner a task instead."
        ),
    )
    connector_config = forms.JSONField(
        label=gettext_lazy("Connector configuration (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            'Never a password or key: name the environment variable that holds it, e.g. "url_env": "CRM_DATABASE_URL". '
            'Each table may say what erasure ("erasure": delete, anonymise or keep, with the fields and the Article '
            '17(3) ground), restriction ("restriction"), rectification ("rectifiable") and a marketing objection '
            '("marketing") do there.'
        ),
    )
    # GDPR Art. 17 and 5(1)(e): after an erasure the backups hold the data, beyond use, until they roll off.
    backup_roll_off_days = forms.IntegerField(
        label=gettext_lazy("Backups roll off after (days)"),
        required=False,
        min_value=0,
        max_value=3650,
        help_text=gettext_lazy(
            "After an erasure, the system's backups still hold the data, beyond use, until the last of them is "
            "overwritten this many days later; the answer to the person gives the date. Empty or 0: no backups."
        ),
    )

    class Meta:
        model = DataSystem
        fields = list(SYSTEM_FIELDS)  # what services.system_save writes, in the order the form shows
        widgets = {
            field: forms.Textarea(attrs={"rows": 3})
            for field in (
                "description",
                "data_subjects",
                "source",
                "retention",
                "automated_logic",
                "search_procedure",
                "erasure_method",
                "restriction_method",
            )
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["connector"].choices = connector_choices()
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")
        )
        self.fields["owner"].label_from_instance = lambda user: user.get_full_name() or user.get_username()
        _style(self)

    def clean_connector_config(self) -> dict:
        config = self.cleaned_data.get("connector_config") or {}
        if not isinstance(config, dict):
            raise forms.ValidationError(_("Give a JSON object, for example {}."))
        secrets = _secrets_in(config)
        if secrets:
            raise forms.ValidationError(
                _("This looks like a secret (%(where)s): keep it in an environment variable and name that here.")
                % {"where": ", ".join(secrets)}
            )
        return config

    def clean_backup_roll_off_days(self) -> int:
        return self.cleaned_data.get("backup_roll_off_days") or 0

    def clean(self) -> dict:
        """The register's change rules are checked on save (GDPR Art. 17(3): what is kept names its exception), and
        so is the whole configuration where the connector can check it without reaching the system over the network."""
        data = super().clean()
        if "connector_config" not in data:
            return data
        config = data["connector_config"]
        try:
            rules_check(config)
            key = data.get("connector")
            # An empty configuration: the system is recorded before its connector is set up (as before issue 13).
            if key and key != "manual" and config:
                connector = connector_for(key, config)
                if getattr(connector, "checks_offline", False):
                    connector.check()
        except ChangeRuleError as error:
            self.add_error("connector_config", str(error))
        except ConnectorError as error:
            self.add_error(
                "connector_config", _("The connector refuses this configuration: %(problem)s") % {"problem": error}
            )
        return data

    def clean_personal_data_categories(self) -> list[str]:
        categories = self.cleaned_data["personal_data_categories"]
        if not categories:
            raise forms.ValidationError(_("Name at least one category of personal data."))
        return categories


class PurposeForm(forms.ModelForm):
    prefix = "purpose"

    class Meta:
        model = Purpose
        fields = ["description", "lawful_basis", "legitimate_interest", "art9_condition", "for_marketing"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean(self) -> dict:
        data = super().clean()
        # GDPR Art. 13(1)(d): where the basis is legitimate interests, the interest itself is stated.
        if data.get("lawful_basis") == LawfulBasis.LEGITIMATE_INTERESTS and not data.get("legitimate_interest"):
            self.add_error("legitimate_interest", _("Say which legitimate interest is pursued."))
        return data


class SystemRecipientForm(forms.ModelForm):
    prefix = "recipient"

    class Meta:
        model = SystemRecipient
        fields = ["recipient", "disclosed"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = Recipient.objects.order_by("name")
        _style(self)

    def validate_unique(self) -> None:
        # A second link to the same recipient updates what they receive (services.system_recipient_link).
        pass


class TransferForm(forms.ModelForm):
    prefix = "transfer"

    class Meta:
        model = Transfer
        fields = ["country", "recipient", "safeguard", "note"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = Recipient.objects.order_by("name")
        self.fields["recipient"].required = False
        _style(self)


class RecipientForm(forms.ModelForm):
    class Meta:
        model = Recipient
        fields = ["name", "kind", "role", "email", "address", "country", "notify_by", "notify_url", "notify_secret_env"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class PublishForm(forms.Form):
    summary = forms.CharField(
        label=gettext_lazy("What changed since the last version"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _style(self)
