"""Part and archive files no row names (a run killed after writing its parts, a run swept and discarded) are personal
data nothing tracks: the hourly sweep deletes them after a grace period, and never a file a row still names."""

import io
import os
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone

from fulfilment import services, tasks
from fulfilment.models import Compilation, CompilationStatus, SearchPart

from .conftest import alan_request

# Transactions commit as in production: the answer is compiled after the commit.
pytestmark = pytest.mark.django_db(transaction=True)


def _age(store, name: str, by: timedelta) -> None:
    path = store.folder / name
    when = (timezone.now() - by).timestamp()
    os.utime(path, (when, when))


def test_files_no_row_names_go_after_the_grace_period_and_named_ones_stay(automated_register):
    compilation = Compilation.objects.get(request=alan_request(), status=CompilationStatus.ASSEMBLED)
    named_parts = set(SearchPart.objects.values_list("json_name", flat=True)) | set(
        SearchPart.objects.values_list("csv_name", flat=True)
    )
    # A worker killed after writing a table's parts, before its rows were committed: nothing names them.
    table = mock.Mock(columns=["name"], rows=iter([("Alan",)]), postgres=None)
    crashed: list[str] = []
    services._write_part(table, crashed)
    abandoned_archive = services.ARCHIVES.save(io.BytesIO(b"PK half an archive"), suffix=".zip").name
    young_orphan = services.PARTS.save(io.BytesIO(b"being written by a run still going"), suffix=".json").name
    grace = services.orphan_grace()
    for name in [*named_parts, *crashed]:
        _age(services.PARTS, name, grace + timedelta(minutes=1))
    _age(services.ARCHIVES, compilation.archive_name, grace * 10)
    _age(services.ARCHIVES, abandoned_archive, grace + timedelta(minutes=1))
    _age(services.PARTS, young_orphan, grace - timedelta(minutes=5))

    assert tasks.sweep_orphan_answer_files() == len(crashed) + 1

    assert set(services.PARTS.names()) == named_parts | {young_orphan}
    assert list(services.ARCHIVES.names()) == [compilation.archive_name]
    # Idempotent: a second run finds nothing more, and the answer still opens.
    assert services.orphan_files_sweep() == 0
    assert services.ARCHIVES.read_bytes(compilation.archive_name)[:2] == b"PK"


def test_the_grace_outlasts_a_running_search_job(settings):
    settings.FULFILMENT_RUNNING_TIMEOUT_SECONDS = 2 * 60 * 60
    assert services.orphan_grace() == timedelta(hours=4)
    settings.FULFILMENT_RUNNING_TIMEOUT_SECONDS = 60
    assert services.orphan_grace() == timedelta(hours=1)


def test_the_sweep_is_on_the_one_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-orphan-answer-files"]
    assert entry["task"] == "fulfilment.tasks.sweep_orphan_answer_files"
    assert entry["schedule"] == 60 * 60
