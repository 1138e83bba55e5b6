"""`.hotfix.toml` → frozen dataclasses. Every value is checked when the file is read; an
error names the key and, where it can, the line. Only a regular file of bounded size is
read (a FIFO or a link to /dev/zero is refused, never waited on or read without end)."""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any

from .configfile import MAX_CONFIG_BYTES, decode, line_of, read_bounded
from .core import events, values
from .core.errors import ConfigError
from .core.promotion import Rule, promotion_order, rule_problems
from .core.sanitize import first_unsafe
from .core.signature import POLICIES

CONFIG_NAME = ".hotfix.toml"
MIN_LOG_BYTES = 4096
MAX_LOG_BYTES = 64 << 30
MAX_TIMEOUT_S = 7 * 24 * 3600.0
MAX_GRACE_S = 3600.0

DEFAULT_FORBIDDEN = ("migrations/**", "*.lock", "requirements*.txt")
DEFAULT_CHECKLIST = (
    "Root cause understood",
    "Change limited to the failing component",
    "Rollback plan tested or obvious",
)
DEFAULT_DEPENDENCY_FILES = (
    "requirements*.txt", "*.lock", "pyproject.toml", "setup.py", "setup.cfg", "Pipfile",
    "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "go.mod", "go.sum",
    "Cargo.toml", "Cargo.lock", "Gemfile", "Gemfile.lock", "pom.xml", "build.gradle",
    "composer.json", "composer.lock", "poetry.lock", "uv.lock",
)
DEFAULT_MIGRATION_PATHS = ("migrations/**", "**/migrations/**", "db/migrate/**", "alembic/**")
PLACEHOLDERS = (
    "sha", "short_sha", "version", "ref", "env", "hotfix", "incident",
    "previous_sha", "previous_version",
)
DEFAULT_SEVERITY_MAP = {
    "critical": 1, "page": 1, "sev1": 1, "p1": 1,
    "error": 2, "high": 2, "major": 2, "sev2": 2, "p2": 2,
    "warning": 3, "medium": 3, "minor": 3, "sev3": 3, "p3": 3,
    "info": 4, "low": 4, "none": 4, "sev4": 4, "p4": 4,
}
ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


@dataclass(frozen=True)
class HotfixSection:
    """`[hotfix]`: branch and tag names, forward-port targets, where worktrees go."""
    branch_prefix: str = "hotfix/"
    tag_format: str = "v{version}"
    forward_port: tuple[str, ...] = ("main",)
    worktree_dir: str = ""
    remote: str = "origin"
    default_branch: str = ""
    production_env: str = "production"


@dataclass(frozen=True)
class ApprovalsSection:
    """`[approvals]`: how many approvals a deploy needs, break-glass, signatures."""
    required: int = 1
    break_glass: bool = True
    signatures: str = "optional"  # "off" | "optional" | "required"
    allowed_signers: str = ".hotfix/allowed_signers"  # in the repository, at the commit


@dataclass(frozen=True)
class ScopeSection:
    """`[scope]`: how big a hotfix may be, the paths it must not touch, its checklist."""
    max_files: int = 10
    max_lines: int = 200
    forbidden: tuple[str, ...] = DEFAULT_FORBIDDEN
    allowed: tuple[str, ...] = ()
    checklist: tuple[str, ...] = DEFAULT_CHECKLIST
    dependency_files: tuple[str, ...] = DEFAULT_DEPENDENCY_FILES
    migration_paths: tuple[str, ...] = DEFAULT_MIGRATION_PATHS


@dataclass(frozen=True)
class IdentitySection:
    """`[identity]`: whether a name other than the OS account's may act, and how."""
    allow_override: bool = False
    email_domain: str = ""  # commits by an account git knows no identity for: user@<this>
    sandbox: bool = False
    signing_key: str = ""  # a public key the agent holds, or a key file; "": the agent's


@dataclass(frozen=True)
class StoreSection:
    """`[store]`: where the database lives and the group that shares it."""
    path: str = ""
    shared_group: str = ""  # files the tool creates belong to this group, group-writable


@dataclass(frozen=True)
class SyncSection:
    """[sync]: the git remote that carries the shared history (docs/SYNC.md)."""

    remote: str = ""  # "": `origin`
    auto: bool = False  # push after every change (in the background), fetch on a timer
    interval_s: float = 60.0  # the console's fetch timer


@dataclass(frozen=True)
class ExportSection:
    """`[export]`: where the console writes records (`e` in the history browser); by
    default under the data directory, never inside the repository's checkout."""

    dir: str = ""


@dataclass(frozen=True)
class IncidentsSection:
    """`[incidents]`: how alert severities map to SEV1–SEV4."""
    severity_map: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_SEVERITY_MAP))


@dataclass(frozen=True)
class HooksSection:
    """[hooks]: a command (argv) per key, and two settings. A key selects events by name,
    `family.*` or `*`, or several of them separated by commas."""

    timeout_s: float = 10.0
    max_age_s: float = 86400.0  # older events are recorded as skipped, never run (0: no limit)
    commands: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def for_event(self, name: str) -> list[tuple[str, tuple[str, ...]]]:
        """(the [hooks] key, argv) of every hook the event `name` runs."""
        return [(pattern, argv) for pattern, argv in self.commands
                if events.matches(pattern, name)]


@dataclass(frozen=True)
class EnvironmentConfig:
    """One `[environments.NAME]`: how to deploy, verify and roll back there."""
    name: str
    driver: str = "command"  # "command" | "local-symlink"
    deploy: tuple[str, ...] = ()
    verify: tuple[str, ...] = ()
    rollback: tuple[str, ...] = ()
    path: str = ""
    timeout_s: float = 900.0
    cancel_grace_s: float = 10.0
    requires_approval: bool = True
    verify_items: tuple[str, ...] = ()
    max_log_bytes: int = 64 * 1024 * 1024
    # promotion: a deploy here needs each of these verified (same content) first …
    requires: tuple[str, ...] = ()
    # … and this long since their verification
    min_soak_s: float = 0.0

    @property
    def rule(self) -> Rule:
        return Rule(self.name, self.requires, self.min_soak_s)


@dataclass(frozen=True)
class Config:
    """The whole `.hotfix.toml`, checked; every section has its defaults."""
    hotfix: HotfixSection = field(default_factory=HotfixSection)
    approvals: ApprovalsSection = field(default_factory=ApprovalsSection)
    scope: ScopeSection = field(default_factory=ScopeSection)
    identity: IdentitySection = field(default_factory=IdentitySection)
    store: StoreSection = field(default_factory=StoreSection)
    incidents: IncidentsSection = field(default_factory=IncidentsSection)
    export: ExportSection = field(default_factory=ExportSection)
    hooks: HooksSection = field(default_factory=HooksSection)
    sync: SyncSection = field(default_factory=SyncSection)
    environments: tuple[EnvironmentConfig, ...] = ()
    path: str = ""
    text: str = field(default="", repr=False)  # the file as read ("" for no file)

    @property
    def sha256(self) -> str:
        """What an approval binds the config by: the sha256 of the file's text (hashed
        when asked: most commands never ask)."""
        import hashlib

        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def env(self, name: str) -> EnvironmentConfig:
        for e in self.environments:
            if e.name == name:
                return e
        known = ", ".join(e.name for e in self.environments) or "none configured"
        raise ConfigError(f"unknown environment {name!r} (known: {known})")

    @property
    def env_names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.environments)

    @property
    def promotion_order(self) -> tuple[str, ...]:
        """The environments in promotion order: each after those it requires, otherwise
        in the order of this file, the production environment as late as it can be."""
        return promotion_order([e.rule for e in self.environments],
                               self.hotfix.production_env)

    @property
    def gate_env(self) -> str | None:
        """The environment a hotfix must be verified on before it is finished: the
        production environment, or else the last one in promotion order."""
        if self.hotfix.production_env in self.env_names:
            return self.hotfix.production_env
        order = self.promotion_order
        return order[-1] if order else None

    def later_envs(self, name: str) -> tuple[str, ...]:
        """The environments after `name` in promotion order."""
        order = self.promotion_order
        return order[order.index(name) + 1:] if name in order else ()


# ---- parsing -------------------------------------------------------------------

class _Reader:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, section: str, key: str | None, message: str):
        dotted = f"{section}.{key}" if key else section
        line = line_of(self.text, section, key)
        where = f"{self.path.name}" + (f":{line}" if line else "")
        raise ConfigError(f"{where}: {dotted}: {message}")

    def section(self, cls, data: Any, section_name: str, **extra):
        name = section_name
        if not isinstance(data, dict):
            self.fail(name, None, "must be a table")
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = dict(extra)
        for key, value in data.items():
            if key not in known or key in extra:
                allowed = ", ".join(k for k in known if k not in extra)
                self.fail(name, key, f"unknown key (known keys: {allowed})")
            values[key] = self.coerce(name, key, known[key], value)
        return cls(**values)

    def coerce(self, section: str, key: str, f, value: Any):
        kind = f.type if isinstance(f.type, str) else str(f.type)
        if kind.startswith("tuple"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.fail(section, key, "must be a list of strings")
            return tuple(value)
        if kind.startswith("dict"):
            if not isinstance(value, dict) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value.values()
            ):
                self.fail(section, key, "must be a table of integers")
            return {str(k).lower(): int(v) for k, v in value.items()}
        accept, message, convert = _SCALARS[kind]
        if not accept(value):
            self.fail(section, key, f"{message}, not {value!r}")
        return convert(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# A scalar field's type: (accepts a TOML value, what it must be, its Python value).
_SCALARS: dict[str, tuple[Any, str, Any]] = {
    "bool": (lambda v: isinstance(v, bool), "must be true or false", bool),
    "int": (_is_int, "must be an integer", int),
    "float": (lambda v: _is_int(v) or isinstance(v, float), "must be a number", float),
    "str": (lambda v: isinstance(v, str), "must be a string", str),
}


_SECTIONS = {
    "hotfix": HotfixSection,
    "approvals": ApprovalsSection,
    "scope": ScopeSection,
    "identity": IdentitySection,
    "store": StoreSection,
    "incidents": IncidentsSection,
    "export": ExportSection,
    "sync": SyncSection,
}


def parse_config(text: str, path: Path | None = None) -> Config:
    path = path or Path(CONFIG_NAME)
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path.name}: larger than {MAX_CONFIG_BYTES // 1024} KiB")
    reader = _Reader(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from exc
    parts: dict[str, Any] = {}
    for name, value in data.items():
        if name == "environments":
            continue
        if name == "hooks":
            parts[name] = _hooks(reader, value)
            continue
        if name not in _SECTIONS:
            known = ", ".join([*_SECTIONS, "hooks", "environments"])
            reader.fail(name, None, f"unknown section (known sections: {known})")
        parts[name] = reader.section(_SECTIONS[name], value, name)
    envs: list[EnvironmentConfig] = []
    raw_envs = data.get("environments", {})
    if not isinstance(raw_envs, dict):
        reader.fail("environments", None, "must be a table of environments")
    for env_name, env_data in raw_envs.items():
        section = f"environments.{env_name}"
        if not ENV_NAME.match(env_name):
            reader.fail(section, None, "environment names use letters, digits, '.', '_', '-'")
        env = reader.section(EnvironmentConfig, env_data, section, name=env_name)
        _check_env(reader, section, env)
        envs.append(env)
    cfg = Config(**parts, environments=tuple(envs), path=str(path),
                 text=text)
    _check(reader, cfg)
    return cfg


def _need(reader: _Reader, section: str, key: str, problem: str) -> None:
    if problem:
        reader.fail(section, key, problem)


def _check(reader: _Reader, cfg: Config) -> None:
    _check_hotfix(reader, cfg)
    ident, scope = cfg.identity, cfg.scope
    _need(reader, "store", "path", values.printable(cfg.store.path))
    _need(reader, "identity", "sandbox", "needs allow_override = true (a sandbox is where one "
          "OS account plays several people through $HOTFIX_ACTOR)"
          if ident.sandbox and not ident.allow_override else "")
    _check_approvals(reader, cfg.approvals)
    _need(reader, "sync", "remote", "use letters, digits, '.', '_', '-' (a git remote's name)"
          if not re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]{0,39})?$", cfg.sync.remote) else "")
    _need(reader, "sync", "interval_s", values.number(cfg.sync.interval_s, 5, 86400,
                                                      "interval_s"))
    for key in ("max_files", "max_lines"):
        _need(reader, "scope", key, values.number(getattr(scope, key), 1, 1_000_000, key[4:]))
    default = ScopeSection()
    for key in ("forbidden", "allowed", "dependency_files", "migration_paths"):
        if getattr(scope, key) != getattr(default, key):  # (ours are valid: not parsed at
            _need(reader, "scope", key, values.globs(getattr(scope, key)))  # every start)
    _need(reader, "scope", "checklist", values.items(scope.checklist))
    _need(reader, "identity", "signing_key", values.printable(ident.signing_key))
    domain = ident.email_domain
    if domain and not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?", domain):
        reader.fail("identity", "email_domain", f"is not a domain name: {domain!r}")
    group = cfg.store.shared_group
    if group and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}", group):
        reader.fail("store", "shared_group", f"is not a group name: {group!r}")
    _need(reader, "export", "dir", _export_dir(cfg.export.dir))
    for name, sev in cfg.incidents.severity_map.items():
        if not 1 <= sev <= 4:
            reader.fail("incidents", "severity_map", "severities must be 1-4")
        if not name.strip() or first_unsafe(name):
            reader.fail("incidents", "severity_map", f"{name!r} is not a severity word")
    _check_promotion(reader, cfg)


def _check_promotion(reader: _Reader, cfg: Config) -> None:
    """The release path: `requires` and `min_soak_s` (core.promotion.rule_problems)."""
    for env in cfg.environments:
        _need(reader, f"environments.{env.name}", "min_soak_s",
              values.number(env.min_soak_s, 0, MAX_TIMEOUT_S, "seconds"))
    for env, key, problem in rule_problems([e.rule for e in cfg.environments]):
        reader.fail(f"environments.{env}", key, problem)


def _check_hotfix(reader: _Reader, cfg: Config) -> None:
    h = cfg.hotfix
    need = partial(_need, reader, "hotfix")
    need("tag_format", values.tag_format(h.tag_format))
    need("branch_prefix", values.ref(h.branch_prefix + "1.2.3" if h.branch_prefix else "",
                                     "must be a ref prefix (like hotfix/)"))
    for branch in h.forward_port:
        need("forward_port", values.ref(branch, f"{branch!r} is not a branch name"))
    if h.default_branch:
        need("default_branch", values.ref(h.default_branch,
                                          f"{h.default_branch!r} is not a branch name"))
    need("remote", values.remote(h.remote))
    if not ENV_NAME.match(h.production_env):
        need("production_env", "environment names use letters, digits, '.', '_', '-'")
    if cfg.environments and h.production_env not in cfg.env_names:
        need("production_env", f"{h.production_env!r} is not one of the environments "
             f"({', '.join(cfg.env_names)}); name it here or add "
             f"[environments.{h.production_env}]")
    for key in ("worktree_dir", "default_branch"):
        need(key, values.printable(getattr(h, key)))


def _export_dir(path: str) -> str:
    if path and not path.startswith(("/", "~")):
        return f"must be an absolute path (or start with ~), not {path!r}"
    return values.printable(path)


def _check_approvals(reader: _Reader, a: ApprovalsSection) -> None:
    _need(reader, "approvals", "required", values.number(a.required, 0, 10, "people"))
    if a.signatures not in POLICIES:
        reader.fail("approvals", "signatures", f"must be one of {', '.join(POLICIES)}, "
                    f"not {a.signatures!r}")
    signers = a.allowed_signers
    if (not signers or signers.startswith(("/", "~")) or "\\" in signers
            or any(part in ("", ".", "..") for part in signers.split("/"))):
        reader.fail("approvals", "allowed_signers", "must be a path inside the repository, "
                    f"like .hotfix/allowed_signers, not {signers!r}")


def _check_env(reader: _Reader, section: str, env: EnvironmentConfig) -> None:
    need = partial(_need, reader, section)
    if env.driver not in ("command", "local-symlink"):
        need("driver", f"unknown driver {env.driver!r} (known: command, local-symlink)")
    if env.driver == "local-symlink" and not env.path:
        need("path", "is required by the local-symlink driver")
    if env.path and not env.path.startswith(("/", "~")):
        need("path", f"must be an absolute path, not {env.path!r} (commands run in a "
             "temporary worktree, so a relative path would land there)")
    need("path", values.printable(env.path))
    need("timeout_s", values.number(env.timeout_s, 0, MAX_TIMEOUT_S, "seconds", positive=True))
    need("cancel_grace_s", values.number(env.cancel_grace_s, 0, MAX_GRACE_S, "seconds"))
    need("max_log_bytes", values.number(env.max_log_bytes, MIN_LOG_BYTES, MAX_LOG_BYTES,
                                        "bytes"))
    need("verify_items", values.items(env.verify_items))
    for key in ("deploy", "verify", "rollback"):
        _check_placeholders(reader, section, key, getattr(env, key), PLACEHOLDERS)


def _check_placeholders(reader: _Reader, section: str, key: str, argv: tuple[str, ...],
                        known: tuple[str, ...]) -> None:
    _need(reader, section, key, values.argv(argv))
    import string  # formats are checked at load, not at every import

    formatter = string.Formatter()
    for arg in argv:
        try:
            parsed = list(formatter.parse(arg))
        except ValueError as exc:
            reader.fail(section, key, f"bad placeholder in {arg!r}: {exc}")
        for _, fname, spec, conv in parsed:
            if fname is None:
                continue
            if fname not in known or spec or conv:
                reader.fail(section, key, f"unknown placeholder {{{fname}}} in {arg!r} "
                            f"(known: {', '.join('{' + p + '}' for p in known)})")


_HOOK_SETTINGS = ("timeout_s", "max_age_s")


def _hooks(reader: _Reader, data: Any) -> HooksSection:
    """[hooks]: `timeout_s`, `max_age_s`, and `"event.name" = ["argv", …]` entries."""
    if not isinstance(data, dict):
        reader.fail("hooks", None, "must be a table")
    values: dict[str, Any] = {}
    commands = []
    for key, value in data.items():
        if key in _HOOK_SETTINGS:
            if not isinstance(value, int | float) or isinstance(value, bool) \
                    or not math.isfinite(value):
                reader.fail("hooks", key, f"must be a number, not {value!r}")
            values[key] = float(value)
            continue
        if not events.is_selector(key):
            reader.fail("hooks", key, "unknown event (known: " + ", ".join(events.EVENT_NAMES)
                        + ", a family such as deploy.*, or *, several separated by commas; "
                        "settings: " + ", ".join(_HOOK_SETTINGS) + ")")
        if not isinstance(value, list) or not value or \
                not all(isinstance(v, str) for v in value) or not value[0].strip():
            reader.fail("hooks", key, "must be a command: a non-empty list of strings "
                        "(an argv, never a shell string)")
        _check_placeholders(reader, "hooks", key, tuple(value), events.PLACEHOLDERS)
        commands.append((key, tuple(value)))
    hooks = HooksSection(**values, commands=tuple(commands))
    if not 0 < hooks.timeout_s <= 3600:
        reader.fail("hooks", "timeout_s", "must be more than 0 and at most 3600")
    if hooks.max_age_s < 0:
        reader.fail("hooks", "max_age_s", "must not be negative (0: no limit)")
    return hooks


def load_config(repo_root: str | Path | None) -> Config:
    """The repository's config; defaults when it has none."""
    if repo_root is None:
        return Config()
    path = Path(repo_root) / CONFIG_NAME
    raw = read_bounded(path)
    if raw is None:
        return Config()
    return parse_config(decode(raw, path.name), path)
