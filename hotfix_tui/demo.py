"""The demo sandbox: a small checkout service with months of history, a bug that
reached production in v1.4.1, its fix on main, and an open SEV1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from . import gitops, services
from .core.errors import HotfixError

MARKER = ".hotfix-demo"
REPO_NAME = "shop-checkout"

CHECKOUT_V130 = '''\
"""Order totals for shop-checkout. Amounts are integer cents."""

from dataclasses import dataclass, field


@dataclass
class Order:
    items: list = field(default_factory=list)  # (sku, unit price in cents, quantity)
    gift_card_balance: int = 0


def subtotal(order: Order) -> int:
    return sum(price * qty for _, price, qty in order.items)


def total_due(order: Order) -> int:
    """What the payment provider is asked to charge."""
    return subtotal(order)
'''

CHECKOUT_V141 = CHECKOUT_V130.replace(
    '''    """What the payment provider is asked to charge."""
    return subtotal(order)
''',
    '''    """What the payment provider is asked to charge, after gift cards."""
    return subtotal(order) - order.gift_card_balance
''')

CHECKOUT_FIXED = CHECKOUT_V130.replace(
    '''    """What the payment provider is asked to charge."""
    return subtotal(order)
''',
    '''    """What the payment provider is asked to charge, after gift cards.

    A gift card never covers more than the order: the provider rejects
    negative amounts with HTTP 500.
    """
    amount = subtotal(order)
    return amount - min(order.gift_card_balance, amount)
''')

CHECKOUT_MAIN_LATER = CHECKOUT_FIXED.replace(
    '"""Order totals for shop-checkout. Amounts are integer cents."""',
    '"""Order totals for shop-checkout. Amounts are integer cents.\n\n'
    'See docs/pricing.md for how discounts, gift cards and loyalty points combine.\n"""')

TESTS_V141 = '''\
from app.checkout import Order, total_due


def test_card_only():
    assert total_due(Order(items=[("mug", 1200, 2)])) == 2400


def test_partial_gift_card():
    assert total_due(Order(items=[("mug", 1200, 1)], gift_card_balance=500)) == 700
'''

TESTS_FIXED = TESTS_V141 + '''

def test_gift_card_larger_than_order():
    assert total_due(Order(items=[("mug", 1200, 1)], gift_card_balance=5000)) == 0
'''

CONFIG = '''\
# hotfix-tui demo configuration for shop-checkout.

[hotfix]
branch_prefix = "hotfix/"
tag_format = "v{{version}}"
forward_port = ["main"]

[approvals]
required = 1
break_glass = true

[scope]
max_files = 5
max_lines = 80
checklist = [
    "Root cause understood",
    "Change limited to the failing component",
    "Rollback plan tested or obvious",
]

[identity]
# The demo lets one person act as two (HOTFIX_ACTOR=bob) to show the approval: a
# sandbox, where each HOTFIX_ACTOR name counts as its own person. Never in a real
# repository: there the two-person rule compares OS accounts.
allow_override = true
sandbox = true

[environments.staging]
deploy = ["./ops/deploy-staging.sh", "{srv}/staging", "{{version}}", "{{short_sha}}"]
verify = ["./ops/healthcheck.sh", "{srv}/staging/current"]
timeout_s = 300
cancel_grace_s = 5

[environments.production]
# The release path: a deploy here needs the same content deployed and verified on
# staging first (min_soak_s = 300 would also wait five minutes after that).
requires = ["staging"]
driver = "local-symlink"
path = "{srv}/production"
verify = ["./ops/healthcheck.sh", "{srv}/production/current"]
verify_items = ["Checkout error rate back to baseline on the dashboard"]
timeout_s = 600
cancel_grace_s = 10
'''

AUTHORS = [("Priya Raman", "priya@shop.example"), ("Tom Becker", "tom@shop.example"),
           ("Ana Souza", "ana@shop.example"), ("Li Wei", "li@shop.example")]


def default_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hotfix-tui" / "demo"


def _script(name: str) -> str:
    return resources.files("hotfix_tui.demo_files").joinpath(name).read_text(encoding="utf-8")


class _Repo:
    def __init__(self, path: Path, start: datetime) -> None:
        self.path = path
        self.when = start
        self.n = 0

    def write(self, rel: str, text: str, executable: bool = False) -> None:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        if executable:
            p.chmod(0o755)

    def commit(self, message: str, days: float = 2.5) -> str:
        self.when += timedelta(days=days, hours=(self.n * 7) % 9)
        name, email = AUTHORS[self.n % len(AUTHORS)]
        self.n += 1
        stamp = self.when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
               "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
               "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        gitops.run_git(self.path, "add", "--all", env=env)
        gitops.run_git(self.path, "commit", "--quiet", "--no-verify", "-m", message, env=env)
        return gitops.run_git(self.path, "rev-parse", "HEAD").out.strip()

    def tag(self, name: str, message: str) -> None:
        stamp = self.when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        env = {"GIT_COMMITTER_DATE": stamp, "GIT_COMMITTER_NAME": "Release Bot",
               "GIT_COMMITTER_EMAIL": "release@shop.example"}
        gitops.run_git(self.path, "tag", "-a", name, "-m", message, env=env)


def build_repository(repo_dir: Path, srv: Path, now: datetime) -> dict[str, str]:
    """The service's history: three releases, the bug in v1.4.1, the fix on main."""
    repo_dir.mkdir(parents=True)
    gitops.run_git(repo_dir, "init", "--quiet", "-b", "main")
    for key, value in (("user.name", "Demo Engineer"), ("user.email", "oncall@shop.example"),
                       ("commit.gpgsign", "false"), ("tag.gpgsign", "false")):
        gitops.run_git(repo_dir, "config", key, value)
    r = _Repo(repo_dir, now - timedelta(days=95))
    r.write("README.md", "# shop-checkout\n\nOrder totals and payment handoff for the shop.\n")
    r.write("app/__init__.py", "")
    r.write("app/checkout.py", CHECKOUT_V130.replace("    gift_card_balance: int = 0\n", ""))
    r.commit("Initial checkout service")
    r.write("app/cart.py", "def add(cart, sku, qty=1):\n    cart[sku] = cart.get(sku, 0) + qty\n"
            "    return cart\n")
    r.commit("Cart: add items with quantities")
    r.write("app/payments.py", '"""Hand-off to the payment provider."""\n\n\n'
            "def charge(amount_cents: int) -> dict:\n"
            "    if amount_cents < 0:\n"
            '        raise ValueError("provider rejects negative amounts")\n'
            '    return {"status": "ok", "amount": amount_cents}\n')
    r.commit("Payments: provider hand-off")
    r.write("ops/deploy-staging.sh", _script("deploy-staging.sh"), executable=True)
    r.write("ops/healthcheck.sh", _script("healthcheck.sh"), executable=True)
    r.commit("Ops: staging deploy and health check scripts")
    r.write("app/checkout.py", CHECKOUT_V130)
    r.commit("Checkout: carry the gift card balance on the order")
    r.write("tests/test_checkout.py", TESTS_V141.split("\n\ndef test_partial")[0] + "\n")
    r.commit("Tests for checkout totals")
    r.write("CHANGELOG.md", "# Changelog\n\n## 1.3.0\n- Gift card balance on orders\n")
    r.commit("Release notes for 1.3.0", days=1)
    r.tag("v1.3.0", "shop-checkout 1.3.0")
    for i, (path, text, msg) in enumerate([
        ("app/cart.py", "def add(cart, sku, qty=1):\n    if qty <= 0:\n        raise ValueError("
         "'quantity must be positive')\n    cart[sku] = cart.get(sku, 0) + qty\n    return cart\n",
         "Cart: refuse non-positive quantities"),
        ("docs/pricing.md", "# Pricing\n\nDiscounts first, then gift cards.\n",
         "Docs: how pricing steps combine"),
        ("app/payments.py", '"""Hand-off to the payment provider."""\n\nTIMEOUT_S = 10\n\n\n'
         "def charge(amount_cents: int) -> dict:\n    if amount_cents < 0:\n"
         '        raise ValueError("provider rejects negative amounts")\n'
         '    return {"status": "ok", "amount": amount_cents}\n',
         "Payments: explicit provider timeout"),
    ]):
        r.write(path, text)
        r.commit(msg, days=3 + i)
    r.write("CHANGELOG.md", "# Changelog\n\n## 1.4.0\n- Quantity validation\n- Provider timeout"
            "\n\n## 1.3.0\n- Gift card balance on orders\n")
    r.commit("Release notes for 1.4.0", days=1)
    r.tag("v1.4.0", "shop-checkout 1.4.0")
    r.write("app/checkout.py", CHECKOUT_V141)
    r.write("tests/test_checkout.py", TESTS_V141)
    r.commit("Checkout: support partial gift card payments", days=6)
    r.write("CHANGELOG.md", "# Changelog\n\n## 1.4.1\n- Partial gift card payments\n\n## 1.4.0\n"
            "- Quantity validation\n- Provider timeout\n\n## 1.3.0\n- Gift card balance on "
            "orders\n")
    r.commit("Release notes for 1.4.1", days=1)
    r.tag("v1.4.1", "shop-checkout 1.4.1")
    v141 = gitops.run_git(repo_dir, "rev-parse", "v1.4.1^{commit}").out.strip()
    r.write("app/loyalty.py", '"""Loyalty points preview (not live yet)."""\n\n\n'
            "def points_for(amount_cents: int) -> int:\n    return amount_cents // 100\n")
    r.commit("Loyalty: points preview behind a flag", days=3)
    r.write("app/checkout.py", CHECKOUT_FIXED)
    r.write("tests/test_checkout.py", TESTS_FIXED)
    fix = r.commit("Checkout: cap gift card redemption at the order total\n\n"
                   "A gift card larger than the order made total_due negative, and the\n"
                   "payment provider answers negative amounts with HTTP 500.", days=4)
    r.write("app/checkout.py", CHECKOUT_MAIN_LATER)
    r.commit("Checkout: point to the pricing docs", days=0.3)
    r.write("app/search.py", "def search(catalog, query):\n    q = query.lower()\n"
            "    return [p for p in catalog if q in p.lower()]\n")
    r.commit("Search: case-insensitive product search", days=0.2)
    (repo_dir / ".hotfix.toml").write_text(CONFIG.format(srv=srv), encoding="utf-8")
    r.commit("Add hotfix-tui configuration", days=0.1)
    return {"v141": v141, "fix": fix}


def _release(repo_dir: Path, env_path: Path, version: str, sha: str) -> None:
    """Put a release live the way the local-symlink driver does (for the starting state)."""
    tmp = repo_dir.parent / f".release-{version}"
    gitops.add_detached_worktree(repo_dir, tmp, sha)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "hotfix_tui.deploy.drivers", "local-symlink", "--path",
             str(env_path), "--version", version, "--sha", sha, "--source", str(tmp)],
            capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise HotfixError(f"demo: could not place release {version}: {proc.stderr.strip()}")
    finally:
        gitops.remove_worktree(repo_dir, tmp)


def create_demo(target: Path | None = None, force: bool = False,
                reuse: bool = False) -> Path:
    """Create the sandbox and return the repository path."""
    explicit = target is not None
    root = (target or default_dir()).expanduser().absolute()
    repo_dir = root / REPO_NAME
    if root.exists() and any(root.iterdir()):
        is_demo = (root / MARKER).exists()
        if reuse and is_demo and (repo_dir / ".git").exists():
            return repo_dir
        if explicit and not force:
            raise HotfixError(f"{root} exists and is not empty; use --force to replace a "
                              "demo sandbox there, or choose another --dir")
        if not is_demo:
            raise HotfixError(f"{root} is not empty and is not a hotfix demo sandbox; "
                              "refusing to delete it")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("hotfix-tui demo sandbox; safe to delete\n")
    srv = root / "srv"
    try:
        for env in ("production", "staging"):
            (srv / env).mkdir(parents=True, exist_ok=True)
        shas = build_repository(repo_dir, srv, datetime.now(UTC))
        _release(repo_dir, srv / "production", "1.4.1", shas["v141"])
        _release(repo_dir, srv / "staging", "1.4.1", shas["v141"])
        _seed_records(repo_dir)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)  # never leave half a sandbox behind
        raise
    return repo_dir


def _seed_records(repo_dir: Path) -> None:
    ctx = services.open_context(repo=repo_dir)
    for env in ("production", "staging"):
        services.adopt(ctx, env, "v1.4.1", "released by the regular pipeline before the "
                       "incident")
    old = services.open_incident(ctx, "Search results slow for long queries", 3, "search")
    services.set_incident_status(ctx, old.key, "mitigated")
    services.set_incident_status(ctx, old.key, "resolved")
    services.open_incident(
        ctx, "Checkout fails with HTTP 500 when a gift card covers the whole order", 1,
        "checkout")


def next_steps(repo_dir: Path) -> str:
    return f"""\
demo sandbox ready: {repo_dir}

  cd {repo_dir}
  hotfix                                   # the console
  hotfix incident list
  hotfix start --incident INC-2 --title "Cap gift card redemption"
  hotfix pick HF-1 main~3                  # the fix on main
  hotfix edit HF-1 --why "…" --risk "…" --test-plan "…" --rollback-plan "…"
  hotfix check HF-1 1; hotfix check HF-1 2; hotfix check HF-1 3
  hotfix submit HF-1
  HOTFIX_ACTOR=bob hotfix approve HF-1     # a second person (demo only)
  hotfix deploy HF-1 --env staging         # staging first: follows the live log
  hotfix verify HF-1 --env staging         # its health check
  hotfix status --hotfix HF-1              # production is next
  hotfix deploy HF-1 --env production
  hotfix verify HF-1 --env production; hotfix verify HF-1 --env production --item 1
  hotfix finish HF-1
  hotfix rollback --env production --reason "drill"
"""
