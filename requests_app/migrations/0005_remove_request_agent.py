# Issue 8: which agent filed a request now lives in the agents app (agents.AgentFiling, filled from this column by
# agents' migration 0003 before it is dropped here), so the request core depends on no app above it.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0004_emailconfirmation_from_identity"),
        ("agents", "0003_agentfiling_subjectconfirmation_moved"),
    ]

    operations = [
        migrations.RemoveField(model_name="datasubjectrequest", name="agent"),
    ]
