"""Releases: a bounded count of build attempts and the last build's error (a build that keeps failing stops being
retried and is shown to staff with a "Build again" button); and copy 1 in review for every compilation assembled
before releases existed (issue 12, review before release)."""

from django.db import migrations, models

# The values as stored (requests_app.models.RequesterRole.AGENT, RespondTo.REQUESTER; fulfilment ReleaseRecipient),
# frozen here so later renames of the choices do not change what this migration did.
AGENT = "agent"
RESPOND_TO_REQUESTER = "requester"


def recipient_of(request) -> str:
    """As ``fulfilment.review.recipient_of`` decides it today (GDPR Art. 15(3), 12(6)): the agent, when an agent asked
    and the authority decision recorded delivery to them; otherwise the data subject (the default, and the only
    answer for a request without an agent)."""
    if request.requester_role == AGENT and request.respond_to == RESPOND_TO_REQUESTER:
        return "agent"
    return "subject"


def open_missing_releases(apps, schema_editor):
    """Copy 1 of every assembled compilation that has no release yet goes into review, as ``review.release_open``
    does for a compilation assembled today, with the same event in the request's trail; nothing leaves before a
    case handler approves it. Idempotent: a compilation with a copy 1 is left alone."""
    Compilation = apps.get_model("fulfilment", "Compilation")
    Release = apps.get_model("fulfilment", "Release")
    RequestEvent = apps.get_model("requests_app", "RequestEvent")
    missing = (
        Compilation.objects.filter(status="assembled")
        .exclude(releases__copy_number=1)
        .select_related("request")
        .order_by("pk")
    )
    for compilation in missing.iterator(chunk_size=500):
        request = compilation.request
        recipient = recipient_of(request)
        Release.objects.create(
            compilation=compilation, request=request, copy_number=1, status="in_review", recipient=recipient
        )
        label = "The agent acting for them" if recipient == "agent" else "The data subject"
        RequestEvent.objects.create(
            request=request,
            kind="release_status_changed",
            actor_kind="system",
            to_status="in_review",
            reason=f"Copy 1 of compilation {compilation.attempt} in review before release (to {label}; opened when "
            "releases were added, for an answer assembled before)",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("fulfilment", "0006_release_redactions"),
    ]

    operations = [
        migrations.AddField(
            model_name="release",
            name="build_attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="release",
            name="build_error",
            field=models.CharField(blank=True, max_length=500),
        ),
        # Reversing leaves the releases in place (they may have been reviewed, approved or downloaded since).
        migrations.RunPython(open_missing_releases, migrations.RunPython.noop),
    ]
