from tests.casework.conftest import (  # noqa: F401
    auditor,
    dpo,
    handler,
    other_handler,
    staff_roles,
    system_owner,  # noqa: F401, E402
)
from tests.datasystems.conftest import billing, crm  # noqa: F401, E402
