"""core.backport: the order of evidence, the "probably" state, and the patch fingerprints,
on plain values (no repository)."""

from __future__ import annotations

from hotfix_tui.core.backport import (
    Carrier,
    Change,
    Facts,
    Patch,
    judge,
    overall,
    patch_of,
    picked_from,
    weakest,
)

C, SRC, M = "c" * 40, "0" * 40, "e" * 40
P1, P2 = "1" * 40, "2" * 40
D, D2 = "d" * 40, "b" * 40
PATCH = Patch("exact-1", "loose-1", ("a.py",))
OTHER = Patch("exact-2", "loose-2", ("a.py",))


def change(**kw) -> Change:
    return Change(**{"sha": C, "subject": "Fix", "patch": PATCH, "sources": (SRC,), **kw})


def test_trailers_are_read_in_order_once_each():
    msg = (f"Fix\n\nbody mentions {D} in passing\n(cherry picked from commit {SRC})\n"
           f"(cherry picked from commit {C})\n(cherry picked from commit {SRC})\n")
    assert picked_from(msg) == (SRC, C)
    assert picked_from(f"cherry picked from commit {SRC}") == ()  # not a trailer line
    assert picked_from("") == ()


def test_ancestry_comes_first_and_names_what_was_found():
    facts = Facts(reachable=frozenset({SRC}), carriers=(Carrier(D, frozenset({C}), PATCH),),
                  exact={"exact-1": D})
    v = judge(change(), facts)
    assert (v.state, v.evidence, v.commits, v.text) == (
        "contained", "ancestry", (SRC,), f"by ancestry of {SRC[:10]}")
    v = judge(change(), Facts(reachable=frozenset({C})))
    assert (v.evidence, v.text) == ("ancestry", "by ancestry")


def test_a_trailer_naming_the_commit_itself_counts_whatever_the_patch():
    v = judge(change(), Facts(carriers=(Carrier(D, frozenset({C}), OTHER),)))
    assert (v.state, v.evidence, v.commits, v.text) == (
        "contained", "cherry_picked", (D,), f"cherry-picked as {D[:10]}")


def test_a_trailer_naming_the_source_needs_the_same_patch():
    same = judge(change(), Facts(carriers=(Carrier(D, frozenset({SRC}), PATCH),)))
    assert (same.state, same.evidence) == ("contained", "cherry_picked")
    loose_only = Patch("exact-9", "loose-1", ("a.py",))  # only the context differs
    assert judge(change(), Facts(carriers=(Carrier(D, frozenset({SRC}), loose_only),))
                 ).evidence == "cherry_picked"
    edited = judge(change(), Facts(carriers=(Carrier(D, frozenset({SRC}), OTHER),)))
    assert (edited.state, edited.evidence, edited.commits) == ("probably", "same_source", (D,))
    assert edited.text == f"probably: same source, different patch ({D[:10]} also picks {SRC[:10]})"
    assert not edited.contained


def test_the_same_patch_beats_a_probable_source():
    facts = Facts(carriers=(Carrier(D, frozenset({SRC}), OTHER),), exact={"exact-1": D2})
    v = judge(change(), facts)
    assert (v.state, v.evidence, v.commits, v.text) == (
        "contained", "patch_id", (D2,), f"same patch as {D2[:10]}")
    v = judge(change(), Facts(loose={"loose-1": D2}))
    assert v.text == f"same patch as {D2[:10]} (context differs)"


def test_a_merge_source_counts_when_every_commit_it_brought_in_is_there():
    merged = change(sources=(M,), members={M: (P1, P2)})
    both = Facts(carriers=(Carrier(D, frozenset({P1}), OTHER), Carrier(D2, frozenset({P2}))))
    v = judge(merged, both)
    assert (v.state, v.evidence, v.commits) == ("contained", "cherry_picked", (D, D2))
    assert judge(merged, Facts(reachable=frozenset({P1, P2}))).evidence == "ancestry"
    mixed = judge(merged, Facts(reachable=frozenset({P1}),
                                carriers=(Carrier(D2, frozenset({P2})),)))
    assert (mixed.evidence, mixed.commits) == ("cherry_picked", (P1, D2))
    half = judge(merged, Facts(carriers=(Carrier(D, frozenset({P1})),)))
    assert (half.state, half.evidence) == ("probably", "same_source")
    assert half.text == f"probably: 1 of 2 commits of merge {M[:10]} cherry-picked ({D[:10]})"


def test_nothing_matches():
    v = judge(change(), Facts(carriers=(Carrier(D, frozenset({D2}), PATCH),)))
    assert (v.state, v.evidence, v.commits) == ("missing", None, ())
    # no patch at all (an empty commit, a merge): only ancestry and trailers can tell
    assert judge(change(patch=Patch()), Facts(exact={"": D})).state == "missing"


def test_a_branch_rests_on_its_weakest_commit():
    contained = judge(change(), Facts(reachable=frozenset({C})))
    by_patch = judge(change(), Facts(exact={"exact-1": D}))
    probable = judge(change(), Facts(carriers=(Carrier(D, frozenset({SRC}), OTHER),)))
    missing = judge(change(), Facts())
    assert overall([]) == "nothing_to_check" and weakest([]) is None
    assert overall([contained, by_patch]) == "contained"
    assert weakest([contained, by_patch]) is by_patch
    assert overall([contained, probable]) == "probably"
    assert overall([probable, missing, contained]) == "missing"
    assert weakest([probable, missing]) is missing


DIFF = """diff --git a/app/x.py b/app/x.py
index 1111111111111111111111111111111111111111..2222222222222222222222222222222222222222 100644
--- a/app/x.py
+++ b/app/x.py
@@ -1,3 +1,3 @@
 def f():
-    return 1
+    return 2
 # end
"""


def test_patch_fingerprints_ignore_line_numbers_whitespace_and_file_order():
    base = patch_of(DIFF)
    assert base.paths == ("app/x.py",) and base.exact and base.loose
    moved = DIFF.replace("@@ -1,3 +1,3 @@", "@@ -40,3 +40,3 @@").replace("index 1111", "index 3333")
    assert patch_of(moved) == base
    assert patch_of(DIFF.replace("    return 2", "\treturn   2")).exact == base.exact
    other_context = patch_of(DIFF.replace(" # end", " # the end"))
    assert other_context.exact != base.exact and other_context.loose == base.loose
    second = DIFF.replace("app/x.py", "app/y.py")
    assert patch_of(DIFF + second) == patch_of(second + DIFF)
    assert patch_of(DIFF + second).exact != base.exact
    assert patch_of("") == Patch()


def test_binary_changes_are_told_apart_by_their_blobs():
    binary = ("diff --git a/logo.png b/logo.png\nindex {}..{} 100644\n"
              "Binary files a/logo.png and b/logo.png differ\n")
    one = patch_of(binary.format("1" * 40, "2" * 40))
    two = patch_of(binary.format("1" * 40, "3" * 40))
    assert one.exact and one.exact != two.exact and one.loose != two.loose
