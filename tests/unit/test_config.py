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
