from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo organisation's data, for `make run`: above every other app, since it files requests, confirms
    them through identity and decides them as staff."""

    name = "demo"
    verbose_name = "Demo data"
