"""The history browser's search: words alone are read off the full-text index newest
first (a page of a common word costs a page, not every match), with the same rows, order
and pages as the plan a filter gets."""

from __future__ import annotations

from hotfix_tui import services
from tests.helpers import make_service_repo, query_plans

TITLES = ["Fix checkout totals", "Checkout badge", "Gift card overflow", "Checkout timeout",
          "Search timeout", "Checkout rounding", "Cart count", "checkout again"]


def _shop(tmp_path, monkeypatch):
    svc = make_service_repo(tmp_path / "shop")
    monkeypatch.setenv("HOTFIX_ACTOR", "alice")
    assert svc.cli("incident", "open", "--title", "Payments broken", "--sev", "1").code == 0
    for title in TITLES:
        assert svc.cli("start", "--incident", "INC-1", "--title", title).code == 0
    return services.open_context(repo=svc.path), svc


def _pages(ctx, text: str, size: int) -> list[tuple[list[str], bool]]:
    pages, before = [], None
    while True:
        page = services.history_page(ctx, text, before, size, count=False)
        pages.append(([h.key for h in page.rows], page.has_more))
        if not page.has_more:
            return pages
        before = page.rows[-1].number


def test_words_alone_page_like_a_filtered_search(tmp_path, monkeypatch):
    ctx, _ = _shop(tmp_path, monkeypatch)
    for words in ("checkout", "timeout", "check", "checkout timeout", "nothing"):
        for size in (1, 2, 3, 60):
            alone = _pages(ctx, words, size)
            # a filter every hotfix passes: the other plan (h.id IN the matches)
            filtered = _pages(ctx, f"{words} after:2000-01-01", size)
            assert alone == filtered, (words, size)
    assert _pages(ctx, "checkout", 2) == [(["HF-8", "HF-6"], True), (["HF-4", "HF-2"], True),
                                          (["HF-1"], False)]


def test_words_alone_are_read_off_the_index_in_its_order(tmp_path, monkeypatch):
    ctx, svc = _shop(tmp_path, monkeypatch)
    plan, = query_plans(monkeypatch, svc.path,
                        lambda: services.history_page(ctx, "checkout", None, 2, count=False),
                        "hotfix_search")
    assert plan[0].startswith("SCAN f VIRTUAL TABLE"), plan  # the index drives
    assert not any("TEMP B-TREE" in d for d in plan), plan  # in its order: no sort of all
