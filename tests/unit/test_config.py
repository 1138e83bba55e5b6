"""`.hotfix.toml` parsing: defaults, every section, and errors that name the key."""

from __future__ import annotations

import pytest

from hotfix_tui.config import Config, load_config, parse_config
from hotfix_tui.core.errors import ConfigError
from hotfix_tui.services.init import TEMPLATE


def test_missing_file_means_defaults(tmp_path):
    cfg = load_config(tmp_path)
    assert cfg == Config()
    assert cfg.hotfix.branch_prefix == "hotfix/" and cfg.approvals.required == 1
    assert cfg.scope.max_files == 10 and cfg.identity.allow_override is False


def test_template_parses_to_the_defaults():
    cfg = parse_config(TEMPLATE)
    assert cfg.hotfix == Config().hotfix
    assert cfg.scope == Config().scope
    assert cfg.approvals == Config().approvals and cfg.identity == Config().identity


def test_signature_settings():
    cfg = parse_config('[approvals]\nsignatures = "required"\n'
                       'allowed_signers = "ops/approvers"\n'
                       '[identity]\nsigning_key = "keys/approver.pub"\n')
    assert cfg.approvals.signatures == "required"
    assert cfg.approvals.allowed_signers == "ops/approvers"
    assert cfg.identity.signing_key == "keys/approver.pub"
    assert Config().approvals.signatures == "optional"
    assert Config().approvals.allowed_signers == ".hotfix/allowed_signers"


def test_environments():
    cfg = parse_config(
        '[environments.production]\ndeploy = ["./ops/deploy.sh", "{sha}", "{version}"]\n'
        'verify_items = ["Error rate back to baseline"]\ntimeout_s = 60\n'
        '[environments.staging-local]\ndriver = "local-symlink"\npath = "/srv/app"\n')
    prod = cfg.env("production")
    assert prod.deploy == ("./ops/deploy.sh", "{sha}", "{version}") and prod.timeout_s == 60.0
    assert cfg.env("staging-local").driver == "local-symlink"
    with pytest.raises(ConfigError, match="unknown environment 'qa'"):
        cfg.env("qa")


@pytest.mark.parametrize(("text", "needle"), [
    ('[environments.p]\ndriver = "local-symlink"\n', "environments.p.path"),
    ('[environments.p]\ndriver = "ftp"\n', "unknown driver"),
    ('[environments.p]\ndeploy = "./deploy.sh {sha}"\n', "must be a list of strings"),
    ('[environments.p]\ntimeout_s = 0\n', "must be positive"),
    ('[environments."bad name"]\n', "environment names"),
    ('[scope]\nforbidden = "x"\n', "scope.forbidden"),
    ('[identity]\nallow_override = "yes"\n', "must be true or false"),
    ('[approvals]\nsignatures = "always"\n', "approvals.signatures: must be one of off"),
    ('[approvals]\nallowed_signers = "/etc/allowed"\n', "approvals.allowed_signers"),
    ('[approvals]\nallowed_signers = "../outside"\n', "approvals.allowed_signers"),
    ('[approvals]\nallowed_signers = ""\n', "approvals.allowed_signers"),
    ('[identity]\nsigning_key = 3\n', "identity.signing_key: must be a string"),
])
def test_errors_name_the_key(text, needle):
    with pytest.raises(ConfigError, match=needle.replace(".", r"\.")):
        parse_config(text)


def test_config_hash_tracks_the_text():
    assert parse_config("[scope]\nmax_files = 3\n").sha256 != parse_config(
        "[scope]\nmax_files = 4\n").sha256


@pytest.mark.parametrize(("text", "needle"), [
    # tag_format: one {version}, nothing else a format string reads
    ('[hotfix]\ntag_format = "v{version}-{sha}"\n', "hotfix.tag_format"),
    ('[hotfix]\ntag_format = "v{version}{0}"\n', "hotfix.tag_format"),
    ('[hotfix]\ntag_format = "v{version}{"\n', "hotfix.tag_format"),
    ('[hotfix]\ntag_format = "v{version}{version:>999999999}"\n', "hotfix.tag_format"),
    ('[hotfix]\ntag_format = "v{version}-{version}"\n', "exactly once"),
    ('[hotfix]\ntag_format = "release {version}"\n', "does not make a valid tag name"),
    ('[hotfix]\nbranch_prefix = "-x/"\n', "hotfix.branch_prefix"),
    ('[hotfix]\nforward_port = ["main", "a..b"]\n', "hotfix.forward_port"),
    ('[hotfix]\nremote = "--upload-pack=x"\n', "hotfix.remote"),
    ('[hotfix]\ndefault_branch = "x y"\n', "hotfix.default_branch"),
    ('[hotfix]\nproduction_env = "prod"\n[environments.production]\ndeploy = ["./d"]\n',
     "'prod' is not one of the environments"),
    ('[identity]\nsandbox = true\n', "needs allow_override = true"),
    ('[scope]\nmax_files = 0\n', "scope.max_files"),
    ('[scope]\nchecklist = ["ok", ""]\n', "item 2 is empty"),
    ('[scope]\nchecklist = ["r\\u200boot cause"]\n', "U+200B"),
    ('[scope]\nchecklist = ["' + "x" * 201 + '"]\n', "201 characters long"),
    ('[scope]\nforbidden = [""]\n', "a pattern is empty"),
    ('[incidents]\nseverity_map = { "" = 1 }\n', "not a severity word"),
    # environments: every number finite and in range, every argument passable
    ('[environments.production]\nmax_log_bytes = -1\n', "max_log_bytes: must be between"),
    ('[environments.production]\nmax_log_bytes = 0\n', "max_log_bytes: must be between"),
    ('[environments.production]\ntimeout_s = inf\n', "timeout_s: must be positive"),
    ('[environments.production]\ntimeout_s = nan\n', "timeout_s: must be positive"),
    ('[environments.production]\ntimeout_s = 1e12\n', "at most"),
    ('[environments.production]\ncancel_grace_s = -1\n', "cancel_grace_s"),
    ('[environments.production]\ncancel_grace_s = nan\n', "cancel_grace_s"),
    ('[environments.production]\ndeploy = ["", "{sha}"]\n', "the program"),
    ('[environments.production]\ndeploy = ["./d.sh", "a\\u0000b"]\n', "NUL byte"),
    ('[environments.production]\nverify_items = ["ok\\u202e"]\n', "U+202E"),
])
def test_every_value_is_checked_when_read(text, needle):
    with pytest.raises(ConfigError, match=needle.replace(".", r"\.").replace("+", r"\+")):
        parse_config(text)


def test_an_error_names_the_line():
    text = '[hotfix]\nremote = "origin"\n\ntag_format = "v{version}{sha}"\n'
    with pytest.raises(ConfigError, match=r"^\.hotfix\.toml:4: hotfix\.tag_format: "):
        parse_config(text)
    text = '[environments.production]\ndeploy = ["./d"]\nmax_log_bytes = -1\n'
    with pytest.raises(ConfigError, match=r"^\.hotfix\.toml:3: environments\.production\."
                                          r"max_log_bytes: "):
        parse_config(text)


def test_what_is_accepted_still_is():
    cfg = parse_config('[hotfix]\ntag_format = "release-{version}"\nbranch_prefix = "hf/"\n'
                       'forward_port = ["main", "release/1.x"]\n[environments.production]\n'
                       'max_log_bytes = 4096\ntimeout_s = 0.5\ncancel_grace_s = 0\n')
    assert cfg.hotfix.tag_format.format(version="1.2.3") == "release-1.2.3"
    assert cfg.env("production").max_log_bytes == 4096


def test_only_a_regular_file_of_bounded_size_is_read(tmp_path):
    import os

    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / ".hotfix.toml")  # opening it would wait for a writer for ever
    with pytest.raises(ConfigError, match="not a regular file .a FIFO."):
        load_config(fifo)
    zero = tmp_path / "zero"
    zero.mkdir()
    (zero / ".hotfix.toml").symlink_to("/dev/zero")  # reading it would never end
    with pytest.raises(ConfigError, match="not a regular file .a character device."):
        load_config(zero)
    big = tmp_path / "big"
    big.mkdir()
    (big / ".hotfix.toml").write_text("# padding\n" * 30_000)
    with pytest.raises(ConfigError, match="larger than 256 KiB"):
        load_config(big)
    linked = tmp_path / "linked"
    linked.mkdir()
    (tmp_path / "real.toml").write_text("[scope]\nmax_files = 3\n")
    (linked / ".hotfix.toml").symlink_to(tmp_path / "real.toml")  # a link to a file is fine
    assert load_config(linked).scope.max_files == 3
