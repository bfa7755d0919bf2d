"""Beat runs a job it has no record of at once (dsar_portal.celery.PortalScheduler), so a first `make run` shows the
staff reminders within seconds; a restart finds each job's last run in the schedule file and runs nothing early."""

from django.conf import settings

from dsar_portal.celery import PortalScheduler
from dsar_portal.celery import app as celery_app


def _scheduler(path) -> PortalScheduler:
    return PortalScheduler(app=celery_app, schedule_filename=str(path))


def test_beat_uses_the_portals_scheduler():
    assert settings.CELERY_BEAT_SCHEDULER == "dsar_portal.celery:PortalScheduler"


def test_on_a_first_start_every_job_is_due_at_once_and_after_a_restart_none_is(tmp_path):
    first = _scheduler(tmp_path / "celerybeat-schedule")
    jobs = set(settings.CELERY_BEAT_SCHEDULE)
    assert jobs <= set(first.schedule)
    assert all(first.schedule[name].is_due().is_due for name in jobs)
    for name in jobs:  # as beat does when it sends a job: the entry's last run becomes now
        first.schedule[name] = first.reserve(first.schedule[name])
    first.close()

    restarted = _scheduler(tmp_path / "celerybeat-schedule")
    assert not any(restarted.schedule[name].is_due().is_due for name in jobs)
    restarted.close()


def test_a_job_added_to_the_schedule_later_runs_at_once(tmp_path, settings):
    first = _scheduler(tmp_path / "celerybeat-schedule")
    for name in list(first.schedule):
        first.schedule[name] = first.reserve(first.schedule[name])
    first.close()

    celery_app.conf.beat_schedule = {
        **settings.CELERY_BEAT_SCHEDULE,
        "a-new-job": {"task": "casework.tasks.send_staff_digests", "schedule": 24 * 60 * 60},
    }
    try:
        restarted = _scheduler(tmp_path / "celerybeat-schedule")
        assert restarted.schedule["a-new-job"].is_due().is_due
        assert not restarted.schedule["remind-staff-of-due-dates-and-targets"].is_due().is_due
        restarted.close()
    finally:
        celery_app.conf.beat_schedule = settings.CELERY_BEAT_SCHEDULE
