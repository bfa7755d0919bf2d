# Issue 8: the request core no longer knows the agents app. Which agent filed a request is now recorded here
# (AgentFiling), copied from the request's old agent column, which the request core's next migration drops. The
# subject's confirmation of an agent moved to identity (state only; its table stays).

import django.db.models.deletion
from django.db import migrations, models


def copy_filings(apps, schema_editor):
    DataSubjectRequest = apps.get_model("requests_app", "DataSubjectRequest")
    AgentFiling = apps.get_model("agents", "AgentFiling")
    AgentFiling.objects.bulk_create(
        AgentFiling(agent_id=agent_id, request_id=request_id)
        for request_id, agent_id in DataSubjectRequest.objects.exclude(agent=None).values_list("pk", "agent_id")
    )


def restore_filings(apps, schema_editor):
    DataSubjectRequest = apps.get_model("requests_app", "DataSubjectRequest")
    AgentFiling = apps.get_model("agents", "AgentFiling")
    for request_id, agent_id in AgentFiling.objects.values_list("request_id", "agent_id"):
        DataSubjectRequest.objects.filter(pk=request_id).update(agent_id=agent_id)


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0002_initial"),
        ("identity", "0002_models_moved"),
        ("requests_app", "0004_emailconfirmation_from_identity"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SubjectConfirmation")],
            database_operations=[],
        ),
        migrations.CreateModel(
            name="AgentFiling",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "agent",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="filings", to="agents.agent"
                    ),
                ),
                (
                    "request",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="agent_filing",
                        to="requests_app.datasubjectrequest",
                    ),
                ),
            ],
        ),
        migrations.RunPython(copy_filings, restore_filings),
    ]
