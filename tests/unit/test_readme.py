"""The README's two commands stay true: CI runs exactly the test command it gives."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section, flags=re.S)


def test_readme_gives_two_commands():
    cmds = _commands()
    assert len(cmds) == 2
    assert "hotfix demo" in cmds[0]
    assert "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _commands()[1] in ci


def test_the_security_section_states_the_threat_model():
    """Who can do what undetected: an engineer using hotfix, a writer of the database file,
    a writer of the repository, each with what is and what is not detected. (The claims
    themselves are tests: tests/integration/test_audit_integrity.py,
    test_two_person_rule.py, test_unsafe_text.py.)"""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Security model, stated honestly", 1)[1].split("\n## ", 1)[0]
    model = section.split("**Who can do what undetected.**", 1)[1]
    actors = re.findall(r"^- \*\*(.+?)\*\*", model, flags=re.M)
    assert actors == ["An engineer with a shell on the bastion, using `hotfix`",
                      "A writer of the database file", "A writer of the repository"]
    db_writer = model.split("A writer of the database file", 1)[1].split("\n- **", 1)[0]
    assert "Detected:" in db_writer and "Not detected:" in db_writer
    assert "refs/hotfix/audit" in section and "hotfix audit verify" in section
