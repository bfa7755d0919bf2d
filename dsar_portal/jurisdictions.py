"""The jurisdictions whose data protection law and public holidays the portal knows: ISO 3166 codes and names.

In the kernel because both the organisation (where it operates) and the request clock (``requests_app.deadlines``)
need them.
"""

UK_LABELS: dict[str, str] = {
    "GB-ENG": "England",
    "GB-WLS": "Wales",
    "GB-SCT": "Scotland",
    "GB-NIR": "Northern Ireland",
}

# EU member states and the EEA EFTA states (ISO 3166-1 alpha-2 codes; note
# Greece is "GR" in ISO 3166, not the EU's "EL").
EU_EEA_LABELS: dict[str, str] = {
    "AT": "Austria",
    "BE": "Belgium",
    "BG": "Bulgaria",
    "HR": "Croatia",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DK": "Denmark",
    "EE": "Estonia",
    "FI": "Finland",
    "FR": "France",
    "DE": "Germany",
    "GR": "Greece",
    "HU": "Hungary",
    "IE": "Ireland",
    "IT": "Italy",
    "LV": "Latvia",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "MT": "Malta",
    "NL": "Netherlands",
    "PL": "Poland",
    "PT": "Portugal",
    "RO": "Romania",
    "SK": "Slovakia",
    "SI": "Slovenia",
    "ES": "Spain",
    "SE": "Sweden",
    "IS": "Iceland",
    "LI": "Liechtenstein",
    "NO": "Norway",
}

SUPPORTED_JURISDICTIONS: dict[str, str] = {**UK_LABELS, **EU_EEA_LABELS}
"""Jurisdiction code (ISO 3166) -> human-readable label."""

TIME_ZONES: dict[str, str] = {
    "GB-ENG": "Europe/London",
    "GB-WLS": "Europe/London",
    "GB-SCT": "Europe/London",
    "GB-NIR": "Europe/London",
    "AT": "Europe/Vienna",
    "BE": "Europe/Brussels",
    "BG": "Europe/Sofia",
    "HR": "Europe/Zagreb",
    "CY": "Asia/Nicosia",
    "CZ": "Europe/Prague",
    "DK": "Europe/Copenhagen",
    "EE": "Europe/Tallinn",
    "FI": "Europe/Helsinki",
    "FR": "Europe/Paris",
    "DE": "Europe/Berlin",
    "GR": "Europe/Athens",
    "HU": "Europe/Budapest",
    "IE": "Europe/Dublin",
    "IT": "Europe/Rome",
    "LV": "Europe/Riga",
    "LT": "Europe/Vilnius",
    "LU": "Europe/Luxembourg",
    "MT": "Europe/Malta",
    "NL": "Europe/Amsterdam",
    "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon",
    "RO": "Europe/Bucharest",
    "SK": "Europe/Bratislava",
    "SI": "Europe/Ljubljana",
    "ES": "Europe/Madrid",
    "SE": "Europe/Stockholm",
    "IS": "Atlantic/Reykjavik",
    "LI": "Europe/Vaduz",
    "NO": "Europe/Oslo",
}
"""Jurisdiction -> the IANA time zone in which its day of receipt is counted.

The zone of the capital (mainland Portugal, metropolitan France, peninsular Spain): a request counts from the day it
arrived where the controller acts (Reg. 1182/71 Art. 3(1); ICO: "the day you receive it"), whatever the server's zone.
"""
