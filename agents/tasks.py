"""Agent e-mails: the tasks make their secrets at sending time and are safe to run twice."""

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(ConnectionError, TimeoutError), retry_backoff=30, max_retries=8)
def send_agent_code(code_id: int) -> bool:
    from . import services

    return services.agent_code_deliver(code_id=code_id)


@shared_task(acks_late=True)
def send_account_exists_notice(agent_id: int) -> None:
    from . import services

    services.account_exists_notice_deliver(agent_id=agent_id)
