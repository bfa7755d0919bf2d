"""A few templates to start from (issue 11); the DPO edits them, or adds others, under /staff/templates/."""

from django.conf import settings
from django.db import migrations

# {name}, {reference} and {due_date} are filled in on the case page when a template is picked.
DEFAULTS = [
    (
        "Acknowledgement",
        "We are working on your request",
        "Dear {name},\n\n"
        "Thank you for your request {reference}. We are working on it and will reply by {due_date} at the latest. "
        "You do not need to do anything now.",
    ),
    (
        "Asking for a call-back",
        "Could we speak to you about your request?",
        "Dear {name},\n\n"
        "We would like to speak to you about your request {reference}, to make sure we answer it as you expect. "
        "Please reply with a phone number and a time that suits you, or call us quoting your reference.",
    ),
    (
        "Update on progress",
        "An update on your request",
        "Dear {name},\n\n"
        "We wanted to let you know how your request {reference} is going. [Say what has been done and what is "
        "left.] We will reply in full by {due_date} at the latest.",
    ),
]


def add_defaults(apps, schema_editor):
    MessageTemplate = apps.get_model("casework", "MessageTemplate")
    Translation = apps.get_model("casework", "MessageTemplateTranslation")
    for name, subject, body in DEFAULTS:
        template, created = MessageTemplate.objects.get_or_create(name=name)
        if created:
            Translation.objects.create(template=template, language=settings.LANGUAGE_CODE, subject=subject, body=body)


class Migration(migrations.Migration):
    dependencies = [("casework", "0005_case_notes_message_templates")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
