from tests.casework.conftest import auditor, dpo, handler, other_handler, staff_roles  # noqa: F401
