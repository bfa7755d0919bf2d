from tests.casework.conftest import auditor, dpo, handler, other_handler, staff_roles, system_owner  # noqa: F401
from tests.datasystems.conftest import billing, crm  # noqa: F401
