"""Ref checks agree with `git check-ref-format --branch` and are stricter where it matters."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotfix_tui.core.errors import ValidationError
from hotfix_tui.core.refs import check_ref, next_patch, version_from_tag


@pytest.mark.parametrize("bad", ["--upload-pack=x", "-x", "a..b", "@{-1}", "x.lock", "a b",
                                 "a\x01", "a\x7f", "", "@", "a/", "/a", "a//b", ".hidden",
                                 "a/.b", "a.", "x~1", "x^", "a:b", "a?", "a*", "a[b",
                                 "a\\b", "x" * 201])
def test_refused(bad):
    with pytest.raises(ValidationError):
        check_ref(bad)


@pytest.mark.parametrize("good", ["main", "v1.4.1", "hotfix/1.4.2", "release-2024.10",
                                  "a1b2c3d", "feature/x_y", "HEAD"])
def test_accepted(good):
    assert check_ref(good) == good


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1,
               max_size=20))
def test_never_accepts_what_git_refuses(name):
    try:
        check_ref(name)
    except ValidationError:
        return
    proc = subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True)
    assert proc.returncode == 0, name
    assert not name.startswith("-")


def test_versions():
    assert version_from_tag("v1.4.1", "v{version}") == (1, 4, 1)
    assert version_from_tag("release-1.4.1", "release-{version}") == (1, 4, 1)
    assert version_from_tag("v1.4", "v{version}") is None
    assert version_from_tag("1.4.1", "v{version}") is None
    assert version_from_tag("v01.4.1", "v{version}") is None
    assert next_patch((1, 4, 1)) == (1, 4, 2)


def test_revisions_allow_navigation_only():
    from hotfix_tui.core.refs import check_revision

    for good in ("main~3", "v1.4.1^", "HEAD~1^2", "abc1234"):
        assert check_revision(good) == good
    for bad in ("a..b", "@{-1}", "-x~1", "~1", "main~x", "x.lock~1", "main@{1}", "a b~1"):
        with pytest.raises(ValidationError):
            check_revision(bad)
