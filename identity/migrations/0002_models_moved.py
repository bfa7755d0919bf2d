# Issue 8: e-mail confirmation moves down to the request core; the data subject's confirmation of an agent moves
# up from agents to identity, which decides on an agent's authority. Only Django's record of each model moves; the
# tables keep their names and rows. The subject confirmation also keeps the agent's name as the person was told it.

import django.db.models.deletion
import dsar_portal.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0001_initial"),
        ("requests_app", "0004_emailconfirmation_from_identity"),
        # The table was created by the agents app's first migrations.
        ("agents", "0002_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="EmailConfirmation")],
            database_operations=[],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SubjectConfirmation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("subject_email", dsar_portal.fields.EncryptedTextField()),
                        ("token_hash", models.CharField(max_length=64, unique=True)),
                        (
                            "answer",
                            models.CharField(
                                choices=[
                                    ("pending", "Waiting for the person"),
                                    ("confirmed", "The person confirmed"),
                                    ("denied", "The person denied"),
                                ],
                                default="pending",
                                max_length=20,
                            ),
                        ),
                        ("answered_at", models.DateTimeField(blank=True, null=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "request",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="subject_confirmation",
                                to="requests_app.datasubjectrequest",
                            ),
                        ),
                    ],
                    options={"db_table": "agents_subjectconfirmation"},
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="subjectconfirmation",
            name="agent_name",
            field=dsar_portal.fields.EncryptedTextField(blank=True, default=""),
        ),
    ]
