"""A real Celery worker on Redis and PostgreSQL compiles the answer, and yields one archive even when every job and
the assembly are sent to it again (acks_late: a redelivered message must do no harm)."""

import pytest
from celery.result import AsyncResult

from dsar_portal.celery import app as celery_app
from fulfilment import services, tasks
from fulfilment.models import Compilation, CompilationStatus, JobStatus
from tests.integration.test_celery_worker import _wait_for, real_worker  # noqa: F401 (the worker fixture)

from .conftest import alan_request

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_compiles_one_archive_even_when_every_message_is_sent_twice(
    real_worker,  # noqa: F811
    automated_register,
    settings,
    tmp_path,
):
    _, results = real_worker
    settings.PRIVATE_UPLOAD_DIR = tmp_path / "uploads"  # where the worker writes (the fixture's folder)
    request = alan_request()
    assembled = Compilation.objects.filter(request=request, status=CompilationStatus.ASSEMBLED)
    assert _wait_for(assembled.exists, timeout=120), "the worker did not compile the answer"
    compilation = assembled.get()
    assert {job.status for job in compilation.jobs.all()} == {JobStatus.DONE}
    first_archive = compilation.archive_name
    # Every job and the assembly delivered again: the rows say they are done, nothing runs twice.
    sent = [tasks.run_search_job.apply_async(args=[job.pk], ignore_result=False) for job in compilation.jobs.all()]
    sent.append(tasks.assemble_compilation.apply_async(args=[compilation.pk], ignore_result=False))
    outcomes = [AsyncResult(result.id, backend=results, app=celery_app) for result in sent]
    try:
        assert _wait_for(lambda: all(outcome.ready() for outcome in outcomes), timeout=60)
        assert [outcome.result for outcome in outcomes] == [JobStatus.DONE] * (len(outcomes) - 1) + [
            CompilationStatus.ASSEMBLED
        ]
    finally:
        for outcome in outcomes:
            outcome.forget()
    compilation.refresh_from_db()
    assert compilation.archive_name == first_archive
    assert list(services.ARCHIVES.names()) == [first_archive]
    assert services.ARCHIVES.read_bytes(first_archive)[:2] == b"PK"
