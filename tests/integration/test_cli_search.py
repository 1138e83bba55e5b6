"""`hotfix list` paging and filters, `hotfix history QUERY` (the console's search syntax),
`hotfix diff`, and errors that say where they looked."""

from __future__ import annotations

import os
import pty
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import GIT_ENV, assert_one_line_error, commit_file, git, make_service_repo

TITLES = ["Fix checkout totals", "Gift card overflow", "Search timeout", "Gift card rounding",
          "Cart badge count"]


@pytest.fixture
def five(tmp_path):
    """Five hotfixes, HF-1 … HF-5, over two incidents (HF-5 under INC-2)."""
    svc = make_service_repo(tmp_path / "shop")
    assert svc.cli("incident", "open", "--title", "Checkout broken", "--sev", "1").code == 0
    assert svc.cli("incident", "open", "--title", "Search slow", "--sev", "3").code == 0
    for i, title in enumerate(TITLES, 1):
        incident = "INC-2" if i == 5 else "INC-1"
        res = svc.cli("start", "--incident", incident, "--title", title, "--base", "v1.4.1")
        assert res.code == 0, res.err
    assert svc.cli("pick", "HF-2", svc.fix).code == 0
    assert svc.cli("edit", "HF-2", "--why", "Balances above the order total go negative").code == 0
    return svc


def _keys(res) -> list[str]:
    return [h["key"] for h in res.items()]


def test_list_pages_newest_first_and_the_hint_gives_the_next_page(five):
    first = five.cli("list", "--limit", "2", "--json")
    assert _keys(first) == ["HF-5", "HF-4"]
    doc = first.json()
    assert doc["has_more"] is True and doc["next_before"] == "HF-4"
    second = five.cli("list", "--limit", "2", "--before", doc["next_before"], "--json")
    assert _keys(second) == ["HF-3", "HF-2"] and second.json()["next_before"] == "HF-2"
    last = five.cli("list", "--limit", "2", "--before", "HF-2", "--json")
    assert _keys(last) == ["HF-1"]
    assert last.json()["has_more"] is False and last.json()["next_before"] is None
    assert _keys(five.cli("list", "--limit", "0", "--json")) == [f"HF-{n}" for n in (5, 4, 3, 2, 1)]

    text = five.cli("list", "--limit", "2")
    assert [ln.split()[0] for ln in text.out.splitlines()[1:]] == ["HF-5", "HF-4"]
    hint = text.err.strip()
    assert hint == "more: hotfix list --limit 2 --before HF-4"
    again = five.cli(*shlex.split(hint.removeprefix("more: "))[1:])  # the hint, as written
    assert [ln.split()[0] for ln in again.out.splitlines()[1:]] == ["HF-3", "HF-2"]


def test_list_filters_by_incident_state_and_since(five):
    assert _keys(five.cli("list", "--incident", "INC-2", "--json")) == ["HF-5"]
    assert _keys(five.cli("list", "--incident", "inc-1", "--state", "draft", "--limit", "1",
                          "--json")) == ["HF-4"]
    third = five.cli("show", "HF-3", "--json").json()["created_at"]
    assert _keys(five.cli("list", "--since", third, "--json")) == ["HF-5", "HF-4", "HF-3"]
    assert len(five.cli("list", "--since", "1d", "--json").items()) == 5
    assert five.cli("list", "--since", "2999-01-01", "--json").items() == []
    assert five.cli("list", "--since", "2999-01-01").out.strip() == "no hotfixes"


@pytest.mark.parametrize("args, message, code", [
    (["--since", "yesterday"], "--since: 'yesterday' is not a date", 1),
    (["--limit", "-1"], "--limit", 2),
    (["--before", "X-2"], "not a valid HF key", 1),
    (["--incident", "INC-9"], "unknown incident INC-9", 1),
    (["--state", "shipped"], "--state", 2),
])
def test_list_bad_input(five, args, message, code):
    assert_one_line_error(five.cli("list", *args), code, message)


def test_history_uses_the_console_search_syntax(five):
    def search(*words: str) -> list[str]:
        res = five.cli("history", *words, "--json")
        assert res.code == 0, res.err
        return _keys(res)

    assert search("gift") == ["HF-4", "HF-2"]
    assert search("gift", "card", "rounding") == ["HF-4"]
    assert search('"card overflow"') == ["HF-2"]
    assert search("negative") == ["HF-2"]  # the documentation is searched too
    assert search("inc:INC-2") == ["HF-5"]
    assert search("state:draft", "author:alice", "--limit", "1") == ["HF-5"]
    assert search("since:2999-01-01") == []
    doc = five.cli("history", "gift", "--limit", "1", "--json").json()
    assert doc["query"] == "gift" and doc["total"] == 2 and doc["total_capped"] is False
    assert doc["has_more"] is True and doc["next_before"] == "HF-4"
    assert _keys(five.cli("history", "gift", "--before", "HF-4", "--json")) == ["HF-2"]
    text = five.cli("history", "gift", "--limit", "1")
    assert "HF-4" in text.out and "HF-2" not in text.out
    assert "more: hotfix history gift --limit 1 --before HF-4" in text.err
    assert "2 matches" in text.err


@pytest.mark.parametrize("query, message", [
    ("state:shipped", "state:shipped is not a hotfix state"),
    ("after:yesterday", "after: 'yesterday' is not a date"),
    ("inc:12x", "not a valid INC key"),
])
def test_history_bad_query(five, query, message):
    assert_one_line_error(five.cli("history", query), 1, message)


def test_unknown_keys_name_the_repository_and_database(five, tmp_path):
    db = five.path / ".git" / "hotfix" / "hotfix.db"
    res = five.cli("show", "HF-9")
    assert_one_line_error(res, 1, f"unknown hotfix HF-9 in database {db} "
                                  f"(repository {five.path})")
    elsewhere = tmp_path / "elsewhere"
    git(tmp_path, "init", "-q", str(elsewhere))
    res = five.cli("--repo", str(elsewhere), "log", "D-1")
    assert_one_line_error(res, 1, f"unknown run D-1: there is no database at "
                                  f"{elsewhere}/.git/hotfix/hotfix.db (repository {elsewhere})")
    assert not (elsewhere / ".git" / "hotfix").exists()
    res = five.cli("incident", "show", "INC-7", "--json")
    assert res.json()["error"]["database"] == str(db)


# -- diff ----------------------------------------------------------------------------------

@pytest.fixture
def picked(tmp_path):
    svc = make_service_repo(tmp_path / "shop")
    assert svc.cli("incident", "open", "--title", "Totals wrong", "--sev", "1").code == 0
    assert svc.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    assert svc.cli("pick", "HF-1", svc.fix).code == 0
    return svc


def test_diff_is_plain_in_a_pipe_and_coloured_on_request(picked):
    plain = picked.cli("diff", "HF-1")
    assert plain.code == 0, plain.err
    assert "\x1b" not in plain.out
    assert "+    return sum(i.price * i.qty for i in items)" in plain.out.splitlines()
    assert plain.out.startswith("diff --git a/app/checkout.py b/app/checkout.py")
    coloured = picked.cli("diff", "HF-1", "--color", "always").out
    assert "\x1b[32m+    return sum(i.price * i.qty for i in items)\x1b[0m" in coloured
    assert "\x1b[31m-    return sum(i.price for i in items)\x1b[0m" in coloured
    assert picked.cli("diff", "HF-1", "--color", "always",
                      env={"NO_COLOR": "1"}).out == coloured  # always means always
    stat = picked.cli("diff", "HF-1", "--stat").out.splitlines()
    assert stat == [" app/checkout.py | 2 +-",
                    " 1 file changed, 1 insertion(+), 1 deletion(-)"]


def test_diff_is_coloured_on_a_terminal_unless_no_color(picked):
    def on_a_terminal(extra_env: dict) -> str:
        main, sub = pty.openpty()
        env = {**os.environ, **GIT_ENV, "HOTFIX_ACTOR": "alice", **extra_env}
        proc = subprocess.Popen([sys.executable, "-m", "hotfix_tui", "diff", "HF-1"],
                                cwd=picked.path, env=env, stdout=sub, stderr=subprocess.PIPE)
        os.close(sub)
        chunks = []
        while True:
            try:
                data = os.read(main, 65536)
            except OSError:  # the terminal closed: the command is done
                break
            if not data:
                break
            chunks.append(data)
        os.close(main)
        assert proc.wait(timeout=30) == 0
        return b"".join(chunks).decode()

    assert "\x1b[32m+" in on_a_terminal({})
    assert "\x1b[" not in on_a_terminal({"NO_COLOR": "1"})


def test_diff_neutralises_what_the_change_contains(picked):
    wt = picked.cli("show", "HF-1", "--json").json()["worktree"]
    commit_file(Path(wt), "app/banner.py",
                "TITLE = '\x1b]0;owned\x07\x1b[2J'\n", "Banner")
    out = picked.cli("diff", "HF-1", "--color", "always").out
    assert "\x1b]" not in out and "\x1b[2J" not in out and "\x07" not in out
    assert "+TITLE = '␛]0;owned␇␛[2J'" in out  # shown, not obeyed (core.sanitize)


def test_diff_bad_input(picked):
    assert_one_line_error(picked.cli("diff", "HF-4"), 1, "unknown hotfix HF-4")
    assert_one_line_error(picked.cli("diff", "HF-1", "--color", "sometimes"), 2, "--color")
    assert_one_line_error(picked.cli("diff"), 2, "KEY")
