"""Bad input to finish, missing, export and timeline: one line, exit 1, nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import assert_one_line_error, git
from tests.integration.release_helpers import (
    approved_hotfix,
    make_release_repo,
    repo_state,
    verified_hotfix,
)


@pytest.fixture
def approved(tmp_path: Path):
    rel = make_release_repo(tmp_path)
    approved_hotfix(rel)
    return rel


@pytest.mark.parametrize(("args", "message"), [
    (["finish", "HF-9"], "unknown hotfix HF-9"),
    (["finish", "HF-9", "--abort"], "unknown hotfix HF-9"),
    (["finish", "nonsense"], "not a valid HF key"),
    (["missing", "HF-9"], "unknown hotfix HF-9"),
    (["export", "HF-9"], "unknown hotfix HF-9"),
    (["export", "HF-9", "--format", "json"], "unknown hotfix HF-9"),
    (["timeline", "INC-9"], "unknown incident INC-9"),
    (["finish", "HF-1"], "HF-1 is approved; finish follows a verified deploy"),
    (["finish", "HF-1", "--continue"], "no finish in progress"),
    (["finish", "HF-1", "--abort"], "no finish in progress"),
    (["finish", "HF-1", "--skip-verify", "verify is down"], "finish follows a verified deploy"),
    (["missing", "HF-1", "--branch", "release/9"], "branch release/9 does not exist"),
    (["missing", "HF-1", "--branch", "--upload-pack=x"], "must not start with '-'"),
    (["finish", "HF-1", "--present", "main"], "HF-1 is approved; finish follows a verified deploy"),
    (["finish", "HF-1", "--port", "--upload-pack=x"], "must not start with '-'"),
])
def test_refused_and_nothing_changed(approved, args, message):
    before = repo_state(approved)
    res = approved.cli(*args)
    assert_one_line_error(res, 1, message)
    assert repo_state(approved) == before


def test_usage_errors(approved):
    assert_one_line_error(approved.cli("finish", "HF-1", "--continue", "--abort"), 2,
                          "exclude each other")
    assert_one_line_error(approved.cli("export", "HF-1", "--format", "pdf"), 2, "pdf")
    assert_one_line_error(approved.cli("finish", "HF-1", "--abort", "--present", "main"), 2,
                          "--abort takes no")
    assert_one_line_error(approved.cli("pick", "HF-1", "--skip", "main"), 2, "take no commits")
    assert_one_line_error(approved.cli("pick", "HF-1", "--continue", "--skip"), 2,
                          "exclude each other")


def test_a_decision_for_a_branch_the_finish_does_not_have_changes_nothing(tmp_path):
    rel, _ = verified_hotfix(tmp_path)
    before = repo_state(rel)
    for args, message in ((["--present", "release/9"], "release/9 is not a forward-port branch"),
                          (["--present", "main", "--port", "main"], "exclude each other")):
        assert_one_line_error(rel.cli("finish", "HF-1", *args), 1, message)
        assert repo_state(rel) == before
    rel.ok("finish", "HF-1")
    assert_one_line_error(rel.cli("finish", "HF-1", "--present", "main"), 1, "already finished")


def test_a_forward_port_branch_that_does_not_exist(tmp_path):
    rel, _ = verified_hotfix(tmp_path, hotfix_section='forward_port = ["main", "release/9"]')
    before = repo_state(rel)
    res = rel.cli("finish", "HF-1")
    assert_one_line_error(res, 1, "forward-port branch release/9 does not exist")
    assert repo_state(rel) == before
    assert git(rel.path, "tag", "-l", "v1.4.2") == ""
    res = rel.cli("missing", "HF-1")
    assert_one_line_error(res, 1, "branch release/9 does not exist")


def test_a_tag_already_at_another_commit(tmp_path):
    rel, _ = verified_hotfix(tmp_path)
    git(rel.path, "tag", "v1.4.2", "v1.4.1")
    before = repo_state(rel)
    res = rel.cli("finish", "HF-1")
    assert_one_line_error(res, 1, "tag v1.4.2 already exists at")
    assert repo_state(rel) == before


def test_a_finished_hotfix_cannot_be_aborted_or_continued(tmp_path):
    rel, _ = verified_hotfix(tmp_path)
    rel.ok("finish", "HF-1")
    before = repo_state(rel)
    assert_one_line_error(rel.cli("finish", "HF-1", "--abort"), 1, "already finished")
    assert_one_line_error(rel.cli("finish", "HF-1", "--continue"), 1, "already finished")
    assert repo_state(rel) == before


def test_export_to_an_unwritable_place(approved, tmp_path):
    before = repo_state(approved)
    res = approved.cli("export", "HF-1", "-o", str(tmp_path / "no" / "such" / "dir.md"))
    assert_one_line_error(res, 1, "cannot write")
    assert repo_state(approved) == before
