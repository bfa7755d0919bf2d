from tests.casework.conftest import auditor, dpo, handler, staff_roles  # noqa: F401  (the staff roles)
