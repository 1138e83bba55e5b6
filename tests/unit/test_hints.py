"""Every `hotfix …` the README and the program's messages tell a user to type names a real
command with real options (the install line putting `hotfix` on PATH is checked end to end
in tests/e2e/test_install.py)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from hotfix_tui.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def _options(cmd: click.Command) -> dict[str, bool]:
    """Option name → whether it takes a value."""
    found = {"-h": False, "--help": False}
    for p in cmd.params:
        if isinstance(p, click.Option):
            takes = not p.is_flag and not p.count
            found.update({o: takes for o in (*p.opts, *p.secondary_opts)})
    return found


def problems(hint: str) -> list[str]:
    """What is wrong with `hint` (a command line starting with `hotfix`, maybe with
    placeholders such as KEY, … or [--flag])."""
    text = re.sub(r"\{[^}]*\}", "X", hint)  # f-string fields in messages
    text = text.replace("[", " ").replace("]", " ").replace("\\|", " ").replace("…", "X")
    text = text.split(" # ")[0].split(";")[0].split(" > ")[0].split(" | ")[0]
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    if not words or words[0] != "hotfix":
        return [f"{hint!r} does not start with hotfix"]
    cmd: click.Command = cli
    out = []
    value_next = False
    for word in words[1:]:
        if value_next and not word.startswith("-"):  # `[--title] [--why]` show no values
            value_next = False
            continue
        value_next = False
        if word.startswith("-"):
            options = _options(cmd)
            for name in word.split("=", 1)[0].split("/"):  # --follow/--detach: both
                if name not in options:
                    out.append(f"{hint!r}: {cmd.name} has no option {name}")
            value_next = "=" not in word and options.get(word, False)
        elif isinstance(cmd, click.Group):
            sub = cmd.get_command(click.Context(cmd), word)  # the root loads it on demand
            if sub is None:
                out.append(f"{hint!r}: no command {word!r} in {cmd.name}")
                break
            cmd = sub
    return out


def readme_hints() -> list[str]:
    text = (ROOT / "README.md").read_text()
    spans = re.findall(r"`((?:HOTFIX_ACTOR=\w+ )?hotfix(?: [^`]*)?)`", text)
    for block in re.findall(r"```sh\n(.+?)\n```", text, flags=re.S):
        for line in block.splitlines():
            line = line.removeprefix("$ ").strip()
            if line.startswith("hotfix ") or line == "hotfix":
                spans.append(line)
    return [re.sub(r"^HOTFIX_ACTOR=\w+ ", "", s) for s in spans]


def message_hints() -> list[str]:
    """`hotfix …` inside the program's messages: quoted, parenthesised or after a colon."""
    found = []
    pattern = re.compile(r"""(?:['(]|: |run )(hotfix [a-z][^'")\n]*)""")
    for path in sorted((ROOT / "hotfix_tui").rglob("*.py")):
        for line in path.read_text().splitlines():
            for m in pattern.finditer(line):
                hint = m.group(1).strip().rstrip(".,")
                words = hint.split()
                if len(words) > 1 and words[1] in cli.commands:
                    found.append(hint)
    return found


def test_the_checker_catches_a_wrong_hint():
    assert problems("hotfix lgo D-1")
    assert problems("hotfix log D-1 --folow")
    assert problems("hotfix unlock --env production --reason 'x'") == []
    assert problems("hotfix incident list [--all]") == []
    assert problems("hotfix --db PATH init") == []
    assert problems("hotfix edit KEY [--title] [--wh]")  # a value-less placeholder


def test_the_readme_and_the_messages_have_hints():
    assert len(readme_hints()) > 40
    assert len(message_hints()) > 10


@pytest.mark.parametrize("hint", sorted(set(readme_hints())))
def test_readme_hints_name_real_commands_and_options(hint):
    assert problems(hint) == []


@pytest.mark.parametrize("hint", sorted(set(message_hints())))
def test_message_hints_name_real_commands_and_options(hint):
    assert problems(hint) == []
