"""Connectors: one interface (``base.Connector``) per kind of system the portal searches for a person's data."""
