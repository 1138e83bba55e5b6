"""The release path's rules as plain values: order, cycles, what a deploy still needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotfix_tui.config import parse_config
from hotfix_tui.core.errors import ConfigError
from hotfix_tui.core.models import EnvVerification, VerificationState
from hotfix_tui.core.promotion import (
    Attempt,
    PromotionCycle,
    Rule,
    blockers,
    duration,
    promotion_order,
)

NOW = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
HEAD = "a" * 40
PROD = Rule("production", ("staging",), 300)


def ver(state=VerificationState.PASSED, sha=HEAD, ago=600, rolled_back_by=None,
        run=None) -> EnvVerification:
    at = (NOW - timedelta(seconds=ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return EnvVerification("staging", sha, "1.4.2", state, at, "D-1",
                           at if state is VerificationState.PASSED else None, "alice",
                           True, run, rolled_back_by)


def why(v=None, attempt=None, rule=PROD) -> list[str]:
    return blockers("HF-1", rule, HEAD, {"staging": v} if v else {},
                    {"staging": attempt} if attempt else {}, NOW)


def test_order_puts_each_environment_after_what_it_requires():
    rules = [Rule("production", ("staging",)), Rule("staging", ("qa",)), Rule("qa")]
    assert promotion_order(rules, "production") == ("qa", "staging", "production")


def test_without_rules_production_goes_last_and_the_rest_keep_the_file_order():
    rules = [Rule("production"), Rule("scripted"), Rule("canary")]
    assert promotion_order(rules, "production") == ("scripted", "canary", "production")
    # an environment after production still comes after it
    rules = [Rule("dr", ("production",)), Rule("production"), Rule("staging")]
    assert promotion_order(rules, "production") == ("staging", "production", "dr")


def test_a_cycle_has_no_order():
    with pytest.raises(PromotionCycle, match="a → b → a"):
        promotion_order([Rule("a", ("b",)), Rule("b", ("a",))])


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 s"), (59.9, "59 s"), (60, "1 min"), (150, "2 min 30 s"), (300, "5 min"),
    (750, "12 min"), (3600, "1 h"), (3900, "1 h 5 min")])
def test_durations(seconds, text):
    assert duration(seconds) == text


def test_nothing_on_staging():
    assert why() == ["production requires staging first: HF-1 has not been deployed to "
                     "staging (hotfix deploy HF-1 --env staging)"]


@pytest.mark.parametrize(("attempt", "text"), [
    (Attempt("D-3", "running", HEAD), "deploy D-3 of HF-1 to staging is still running"),
    (Attempt("D-3", "timed_out", HEAD), "the deploy of HF-1 to staging timed out (D-3)"),
    (Attempt("D-3", "failed", "b" * 40), "HF-1 has not been deployed to staging"),
])
def test_a_deploy_to_staging_that_did_not_succeed(attempt, text):
    assert text in why(attempt=attempt)[0]


def test_an_earlier_head_on_staging_is_not_this_content():
    assert why(ver(sha="b" * 40))[0] == (
        "production requires staging first: staging got an earlier head of HF-1 "
        "(bbbbbbbbbb), not this one (aaaaaaaaaa); deploy it there (hotfix deploy HF-1 --env "
        "staging)")


def test_rolled_back_pending_and_failed_on_staging():
    assert "HF-1 was rolled back on staging (D-5)" in why(ver(rolled_back_by="D-5"))[0]
    assert why(ver(VerificationState.PENDING)) == [
        "production requires staging verified: HF-1 runs there but is not verified yet "
        "(hotfix verify HF-1 --env staging)"]
    assert "its verification there failed (D-4)" in why(ver(VerificationState.FAILED,
                                                            run="D-4"))[0]


def test_the_soak_says_how_long_ago_and_how_long_to_go():
    assert why(ver(ago=125)) == [
        "production requires staging to soak: staging verified 2 min 5 s ago; soak 5 min "
        "(2 min 55 s to go)"]
    assert why(ver(ago=300)) == []
    assert why(ver(ago=10), rule=Rule("production", ("staging",))) == []


def test_config_reads_the_rules():
    cfg = parse_config('[environments.production]\nrequires = ["staging"]\nmin_soak_s = 300\n'
                       '[environments.staging]\n')
    assert cfg.env("production").rule == PROD
    assert cfg.promotion_order == ("staging", "production")
    assert cfg.gate_env == "production"
    assert cfg.later_envs("staging") == ("production",)
    assert parse_config("").gate_env is None  # no environments: nothing to finish from


P = '[hotfix]\nproduction_env = "p"\n'


@pytest.mark.parametrize(("text", "needle"), [
    (P + '[environments.p]\nrequires = ["qa"]\n',
     ":4: environments.p.requires: unknown environment 'qa' (known: p)"),
    (P + '[environments.p]\nrequires = ["p"]\n', "p cannot require itself"),
    (P + '[environments.p]\nrequires = "s"\n[environments.s]\n', "must be a list of strings"),
    (P + '[environments.s]\n[environments.p]\nrequires = ["s", "s"]\n',
     "names an environment twice"),
    (P + '[environments.s]\n[environments.p]\nrequires = ["s"]\nmin_soak_s = -1\n',
     "environments.p.min_soak_s: must be between 0 and 604800 (seconds)"),
    (P + '[environments.p]\nmin_soak_s = 60\n', "min_soak_s: needs requires"),
    (P + '[environments.p]\n[environments.a]\nrequires = ["b"]\n[environments.b]\n'
     'requires = ["a"]\n',
     ":5: environments.a.requires: the release path goes round in a circle: a → b → a"),
])
def test_bad_rules_name_the_key_and_line(text, needle):
    with pytest.raises(ConfigError, match=needle.replace(".", r"\.").replace("(", r"\(")
                       .replace(")", r"\)")):
        parse_config(text)
