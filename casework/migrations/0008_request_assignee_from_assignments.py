from django.db import migrations

# Copy each request's current assignee from its assignment onto the request (requests_app 0026), set-based.
COPY = """
UPDATE requests_app_datasubjectrequest
SET assignee_id = (
    SELECT assignment.assignee_id FROM casework_assignment AS assignment
    WHERE assignment.request_id = requests_app_datasubjectrequest.id
)
WHERE id IN (SELECT request_id FROM casework_assignment)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0007_metrics_snapshot"),
        ("requests_app", "0026_request_assignee_and_queue_indexes"),
    ]

    operations = [migrations.RunSQL(COPY, reverse_sql=migrations.RunSQL.noop)]
