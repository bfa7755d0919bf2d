"""Agent e-mails: the tasks take IDs, make their secrets at sending time and are safe to run twice."""

import logging

from celery import shared_task

from dsar_portal.celery import EMAIL_DELIVERY_RETRY, PortalTask

logger = logging.getLogger(__name__)

# As for requesters' e-mails: a mail server that is down or refuses for a while is waited out, within bounds.


class AgentEmailTask(PortalTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Retries are spent. The arguments are IDs only; the person can ask again (a new code or reset link).
        logger.error(
            "agent e-mail not sent: task %s %s args=%r error=%s", self.name, task_id, list(args), type(exc).__name__
        )


@shared_task(base=AgentEmailTask, **EMAIL_DELIVERY_RETRY)
def send_agent_code(code_id: int) -> bool:
    from . import services

    return services.agent_code_deliver(code_id=code_id)


@shared_task(base=AgentEmailTask, **EMAIL_DELIVERY_RETRY)
def send_password_reset(code_id: int) -> bool:
    from . import services

    return services.agent_password_reset_deliver(code_id=code_id)


@shared_task(base=AgentEmailTask, **EMAIL_DELIVERY_RETRY)
def send_account_exists_notice(agent_id: int) -> bool:
    from . import services

    return services.account_exists_notice_deliver(agent_id=agent_id)


@shared_task(base=AgentEmailTask, **EMAIL_DELIVERY_RETRY)
def send_sign_in_settings_notice(notice_id: int) -> bool:
    from . import services

    return services.agent_notice_deliver(notice_id=notice_id)
