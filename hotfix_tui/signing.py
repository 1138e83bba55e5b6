"""SSH signatures through `ssh-keygen -Y` and the keys in `ssh-agent`: argv lists, no
shell, no prompt.

ssh-keygen never gets a terminal or the payload on its standard input: a key that
needs a passphrase would otherwise prompt inside the console, or read the payload as
its passphrase. It runs in a new session (no controlling terminal), with standard
input from /dev/null and SSH_ASKPASS_REQUIRE=never, so a key that needs a passphrase
fails, and the caller says how to load it into the agent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .core.errors import HotfixError
from .core.signature import (
    NAMESPACE,
    allowed_keys_for,
    allowed_signers_line,
    key_fingerprint,
)

SIGN_TIMEOUT_S = 60.0  # a security key may wait for a touch
VERIFY_TIMEOUT_S = 20.0


class SigningError(HotfixError):
    """Signing is not possible now; the message says what to do."""


class AgentError(SigningError):
    """No usable ssh-agent."""


@dataclass(frozen=True)
class Outcome:
    """How one `ssh-keygen` call ended."""

    ok: bool
    out: str
    err: str


def keygen() -> str:
    path = shutil.which("ssh-keygen")
    if path is None:
        raise SigningError("ssh-keygen is not installed (it comes with the OpenSSH client)")
    return path


def _env(agent_socket: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SSH_AUTH_SOCK", "DISPLAY", "SSH_ASKPASS", "WAYLAND_DISPLAY")}
    env["SSH_ASKPASS_REQUIRE"] = "never"
    if agent_socket:
        env["SSH_AUTH_SOCK"] = agent_socket
    return env


def _run(argv: list[str], *, agent_socket: str | None = None, cwd: str | None = None,
         stdin: bytes | None = None, timeout: float = VERIFY_TIMEOUT_S) -> Outcome:
    try:
        proc = subprocess.run(
            argv, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True, cwd=cwd, env=_env(agent_socket), timeout=timeout,
            start_new_session=True)
    except subprocess.TimeoutExpired as exc:
        raise SigningError(f"{Path(argv[0]).name} did not answer within {timeout:.0f} s "
                           "(a security key waiting for a touch?)") from exc
    except OSError as exc:
        raise SigningError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
    return Outcome(proc.returncode == 0, proc.stdout.decode("utf-8", "replace"),
                   proc.stderr.decode("utf-8", "replace"))


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("Signing ", "Write signature"))]
    return (useful or lines or [""])[0]


# ---- the agent ----------------------------------------------------------------------------

def agent_socket() -> str | None:
    """The agent this process would use ($SSH_AUTH_SOCK, forwarded by `ssh -A` or not)."""
    return os.environ.get("SSH_AUTH_SOCK") or None


def agent_keys(socket: str | None) -> list[str]:
    """The public keys the agent holds (`type base64 comment` lines)."""
    if not socket:
        raise AgentError("no SSH agent: SSH_AUTH_SOCK is not set (log in with `ssh -A` to "
                         "forward your agent, or run `eval $(ssh-agent)` and `ssh-add` here)")
    ssh_add = shutil.which("ssh-add")
    if ssh_add is None:
        raise AgentError("ssh-add is not installed (it comes with the OpenSSH client)")
    res = _run([ssh_add, "-L"], agent_socket=socket)
    if res.ok:
        return [ln.strip() for ln in res.out.splitlines() if ln.strip()]
    if "no identities" in (res.out + res.err):
        return []
    raise AgentError(f"cannot reach the SSH agent at {socket}: "
                     f"{_first_line(res.err) or 'no answer'} (is it still running? with "
                     "`ssh -A`, log in again)")


# ---- keys ---------------------------------------------------------------------------------

def is_public_key(path: Path) -> bool:
    try:
        head = path.read_bytes()[:80].decode("ascii", "replace")
    except OSError:
        return False
    return bool(key_fingerprint(head.splitlines()[0] if head else ""))


def public_key_of(private_key: Path) -> str | None:
    """The public half of a private key file: its `.pub` beside it, or, for a key
    without a passphrase, what ssh-keygen derives. None when neither works."""
    pub = private_key.with_name(private_key.name + ".pub")
    try:
        line = pub.read_text(encoding="utf-8").strip().splitlines()[0]
        if key_fingerprint(line):
            return line
    except (OSError, IndexError, UnicodeDecodeError):
        pass
    res = _run([keygen(), "-y", "-P", "", "-f", str(private_key)])
    line = res.out.strip()
    return line if res.ok and key_fingerprint(line) else None


def needs_passphrase(private_key: Path) -> bool:
    res = _run([keygen(), "-y", "-P", "", "-f", str(private_key)])
    return not res.ok and "passphrase" in res.err


# ---- choosing the key ---------------------------------------------------------------------

@dataclass(frozen=True)
class SigningKey:
    """The key an approver signs with: in the agent or in a file."""

    public: str  # `type base64 [comment]`
    private_file: Path | None  # None: the agent holds it

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.public)

    @property
    def blob(self) -> str:
        return self.public.split()[1]


def _blob(line: str) -> str:
    parts = line.split()
    return parts[1] if len(parts) > 1 else ""


def _not_listed(principal: str, keys: list[str], where: str) -> SigningError:
    prints = ", ".join(key_fingerprint(k) for k in keys)
    which = "your key" if len(keys) == 1 else "none of your keys"
    verb = "is not" if len(keys) == 1 else "is"
    return SigningError(
        f"{which} ({prints}) {verb} listed for {principal} in {where}; add the line "
        f"`{allowed_signers_line(principal, keys[0])}` there in a reviewed commit")


def choose_key(principal: str, allowed_signers: str, where: str, *,
               configured: Path | None, agent: str | None) -> SigningKey:
    """The key `principal` signs with: the configured one ([identity] signing_key: a
    public key whose private half the agent holds, or a private key file), else the
    first key in the agent that `allowed_signers` lists for `principal`."""
    allowed = {k.public_key for k in allowed_keys_for(allowed_signers, principal)}
    if configured is None:
        return _from_agent(principal, allowed, where, agent)
    path = configured.expanduser()
    if not path.is_file():
        raise SigningError(f"the signing key {path} ([identity] signing_key) does not exist")
    if is_public_key(path):
        return _public_key_file(principal, allowed, where, path, agent)
    return _private_key_file(principal, allowed, where, path, agent)


def _from_agent(principal: str, allowed: set[str], where: str,
                agent: str | None) -> SigningKey:
    keys = agent_keys(agent)
    if not keys:
        raise AgentError(f"the SSH agent at {agent} holds no keys; add yours with "
                         "`ssh-add` (on your own machine, before `ssh -A`)")
    usable = [k for k in keys if _blob(k) in allowed]
    if not usable:
        raise _not_listed(principal, keys, where)
    return SigningKey(usable[0], None)


def _public_key_file(principal: str, allowed: set[str], where: str, path: Path,
                     agent: str | None) -> SigningKey:
    """A public key: the agent must hold its private half."""
    public = path.read_text(encoding="utf-8").strip().splitlines()[0]
    if _blob(public) not in allowed:
        raise _not_listed(principal, [public], where)
    if _blob(public) not in {_blob(k) for k in agent_keys(agent)}:
        private = path.with_suffix("") if path.suffix == ".pub" else path
        raise AgentError(f"the SSH agent does not hold the private half of {path} "
                         f"({key_fingerprint(public)}); load it with `ssh-add {private}`")
    return SigningKey(public, None)


def _private_key_file(principal: str, allowed: set[str], where: str, path: Path,
                      agent: str | None) -> SigningKey:
    """A private key file: used as it is, or through the agent when it needs a
    passphrase (never asked for here)."""
    load_it = (f"the signing key {path} needs its passphrase, and the console never asks "
               f"for one; load it into your agent with `ssh-add {path}`")
    public = public_key_of(path)
    if public is None:
        raise SigningError(load_it)
    if _blob(public) not in allowed:
        raise _not_listed(principal, [public], where)
    if not needs_passphrase(path):
        return SigningKey(public, path)
    try:
        held = {_blob(k) for k in agent_keys(agent)}
    except AgentError:
        held = set()
    if _blob(public) not in held:
        raise SigningError(load_it)
    return SigningKey(public, None)


# ---- sign and verify ------------------------------------------------------------------------

def sign(payload: bytes, key: SigningKey, *, agent: str | None,
         namespace: str = NAMESPACE) -> str:
    """Sign `payload` with `key` (through the agent, or with its private key file);
    the armored signature."""
    with tempfile.TemporaryDirectory(prefix="hotfix-sign-") as tmp:
        data = Path(tmp) / "payload"
        data.write_bytes(payload)
        key_arg = key.private_file
        if key_arg is None:
            key_arg = Path(tmp) / "key.pub"
            key_arg.write_text(key.public + "\n", encoding="utf-8")
        res = _run([keygen(), "-Y", "sign", "-n", namespace, "-f", str(key_arg), str(data)],
                   agent_socket=agent, cwd=tmp, timeout=SIGN_TIMEOUT_S)
        sig = Path(tmp) / "payload.sig"
        if not res.ok or not sig.exists():
            problem = _first_line(res.err) or "no signature written"
            source = key.private_file or f"the agent's key {key.fingerprint}"
            raise SigningError(f"ssh-keygen could not sign with {source}: {problem}")
        return sig.read_text(encoding="ascii")


@dataclass(frozen=True)
class Verdict:
    """Whether `ssh-keygen -Y verify` accepted a signature."""

    ok: bool
    detail: str  # ssh-keygen's own words when it refused


def verify(payload: bytes, signature: str, allowed_signers: str, principal: str, *,
           at: str | None = None, namespace: str = NAMESPACE) -> Verdict:
    """`ssh-keygen -Y verify`: is `signature` over `payload` by a key `allowed_signers`
    lists for `principal` (at time `at`, ssh-keygen's YYYYMMDDHHMMSSZ)?"""
    with tempfile.TemporaryDirectory(prefix="hotfix-verify-") as tmp:
        allowed, sig = _files(tmp, allowed_signers, signature)
        argv = [keygen(), "-Y", "verify", "-f", str(allowed), "-I", principal,
                "-n", namespace, "-s", str(sig)]
        if at:
            argv.append(f"-Overify-time={at}")
        res = _run(argv, stdin=payload, cwd=tmp)
    return Verdict(res.ok, "" if res.ok else _first_line(res.err + "\n" + res.out))


def intact(payload: bytes, signature: str, namespace: str = NAMESPACE) -> bool:
    """`ssh-keygen -Y check-novalidate`: is `signature` over exactly `payload`, whoever
    made it?"""
    with tempfile.TemporaryDirectory(prefix="hotfix-verify-") as tmp:
        sig = Path(tmp) / "sig"
        sig.write_text(signature, encoding="utf-8")
        res = _run([keygen(), "-Y", "check-novalidate", "-n", namespace, "-s", str(sig)],
                   stdin=payload, cwd=tmp)
    return res.ok


def find_principals(signature: str, allowed_signers: str, *, at: str | None = None
                    ) -> list[str]:
    """`ssh-keygen -Y find-principals`: who `allowed_signers` says made `signature`."""
    with tempfile.TemporaryDirectory(prefix="hotfix-verify-") as tmp:
        allowed, sig = _files(tmp, allowed_signers, signature)
        argv = [keygen(), "-Y", "find-principals", "-f", str(allowed), "-s", str(sig)]
        if at:
            argv.append(f"-Overify-time={at}")
        res = _run(argv, cwd=tmp)
    return [ln.strip() for ln in res.out.splitlines() if ln.strip()] if res.ok else []


def _files(tmp: str, allowed_signers: str, signature: str) -> tuple[Path, Path]:
    allowed = Path(tmp) / "allowed_signers"
    allowed.write_text(allowed_signers, encoding="utf-8")
    sig = Path(tmp) / "sig"
    sig.write_text(signature, encoding="utf-8")
    return allowed, sig
