"""The README documents every setting an operator can set from the environment."""

import ast
import re
from pathlib import Path

from django.conf import settings

READERS = {"env", "env_bool", "env_int", "env_list"}


def _environment_variables() -> set[str]:
    """Every name settings.py reads through its env helpers, found in the code rather than listed by hand."""
    tree = ast.parse((Path(settings.BASE_DIR) / "dsar_portal" / "settings.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in READERS
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def test_every_environment_variable_the_settings_read_is_explained_in_the_readme():
    """An operator reads the README, not settings.py: a variable added to the settings without a line in the README
    is a setting nobody knows they can change."""
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    names = _environment_variables()
    assert len(names) > 40  # the scan found the settings, not nothing

    missing = sorted(name for name in names if not re.search(rf"(?<![A-Z0-9_]){re.escape(name)}(?![A-Z0-9_])", readme))

    assert missing == [], f"settings read from the environment but not in README.md: {missing}"
