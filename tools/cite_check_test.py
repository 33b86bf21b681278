#!/usr/bin/env python3
"""Tests of tools/cite_check.py: on a small made-up tree (each rule), and on a copy of a real
scenario with one citation spoiled, against Debian's trees (skipped where they are not extracted).

  python3 tools/cite_check_test.py      (tools/cite-check-tests runs it for tools/test)
"""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cite_check as cc
import results  # tools/results.py: the counts for the harness  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MEMORY_C_OLD = """\
// SPDX-License-Identifier: GPL-2.0-only
#include <linux/mm.h>

static int helper(int x)
{
	return x + 1;
}

vm_fault_t do_swap_page(struct vm_fault *vmf)
{
	pte_t pte;

	if (vmf->flags & FAULT_FLAG_WRITE) {
		pte = maybe_mkwrite(pte_mkdirty(pte), vma);
		vmf->flags &= ~FAULT_FLAG_WRITE;
	}
out:
	return helper(0);
}
"""


def write_tree(root, version, memory_c, rmap_c="void folio_add_new_anon_rmap(struct folio *folio)\n{\n\t__folio_set_anon(folio, vma, address, exclusive);\n}\n"):
    major, minor, sub = version.split(".")
    os.makedirs(os.path.join(root, "mm"), exist_ok=True)
    open(os.path.join(root, "Makefile"), "w").write("VERSION = %s\nPATCHLEVEL = %s\nSUBLEVEL = %s\n" % (major, minor, sub))
    open(os.path.join(root, "mm", "memory.c"), "w").write(memory_c)
    open(os.path.join(root, "mm", "rmap.c"), "w").write(rmap_c)
    return cc.Tree(root)


SCENARIO = """\
name: t
title: t
summary: t
kernels:
  both: {from: "5.19", basis: b}
  new: {from: "6.11", basis: b}
steps:
  - parent: map P 1
    expect:
      - summary: s
        kernels: KERNELS
        cite:
          file: FILE
          function: FUNCTION
          detail: "DETAIL"
        check:
          - parent:P.present == 1
"""


class SmallTree(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        old = write_tree(os.path.join(self.dir, "a"), "6.1.192", MEMORY_C_OLD,
                         "void page_add_new_anon_rmap(struct page *page)\n{\n\t__page_set_anon_rmap(folio, page, vma, address, 1);\n}\n")
        moved = MEMORY_C_OLD.replace("#include <linux/mm.h>\n", "#include <linux/mm.h>\n" + "#include <linux/swap.h>\n" * 9)
        new = write_tree(os.path.join(self.dir, "b"), "6.12.118", moved)
        self.trees = {"6.1": old, "6.12": new}
        self.versions = {"6.1": "6.1.192", "6.12": "6.12.118"}

    def tearDown(self):
        shutil.rmtree(self.dir)

    def check(self, detail, kernels="both", file="mm/memory.c", function="do_swap_page"):
        path = os.path.join(self.dir, "s.yaml")
        text = SCENARIO.replace("KERNELS", kernels).replace("FILE", file).replace("FUNCTION", function).replace("DETAIL", detail.replace('"', '\\"'))
        open(path, "w").write(text)
        uses, _ = cc.citations_of(path, self.versions)
        self.assertEqual(len(uses), 1)
        findings, outcome = cc.check_use(uses[0], self.trees, list(self.versions))
        return findings, outcome, path

    def test_a_verbatim_quote_with_its_lines_holds(self):
        findings, outcome, _ = self.check("`pte = maybe_mkwrite(pte_mkdirty(pte), vma);` (6.1.192 L14, 6.12.118 L23)")
        self.assertEqual(findings, [])
        self.assertEqual(outcome, {"6.1.192": "ok", "6.12.118": "ok"})

    def test_a_misquote_is_caught_with_its_place(self):
        findings, outcome, path = self.check("`pte = maybe_mkwrite(pte_mkclean(pte), vma);`")
        self.assertEqual(outcome["6.1.192"], "FAIL")
        self.assertTrue(findings[0].where.startswith(path + ":13:"), findings[0].where)
        self.assertIn("is not in mm/memory.c", findings[0].message)

    def test_a_quote_of_another_function_names_where_it_is(self):
        findings, _, _ = self.check("`return x + 1;`")
        self.assertIn("but in helper()", findings[0].message)

    def test_a_quote_is_found_in_a_function_the_detail_names(self):
        findings, _, _ = self.check("helper(): `return x + 1;`")
        self.assertEqual(findings, [])

    def test_whitespace_and_ellipsis_do_not_matter(self):
        findings, _, _ = self.check("`if (vmf->flags & FAULT_FLAG_WRITE)   {  pte = ... vmf->flags &= ~FAULT_FLAG_WRITE;`")
        self.assertEqual(findings, [])

    def test_quotes_sharing_line_numbers_each_find_theirs(self):
        findings, _, _ = self.check("`pte = maybe_mkwrite(pte_mkdirty(pte), vma);` ... `return helper(0);` (6.1.192 L14, L18)")
        self.assertEqual(findings, [])
        findings, _, _ = self.check("`pte = maybe_mkwrite(pte_mkdirty(pte), vma);` ... `return helper(0);` (6.12.117 L14, L18)")
        self.assertEqual(sorted(f.message.split(' (`')[0] for f in findings if f.fix), ["moved: 6.12.117 L14 -> 6.12.118 L23", "moved: 6.12.117 L18 -> 6.12.118 L27", "stale tree label: 6.12.117 -> 6.12.118"])

    def test_each_line_number_is_where_its_own_quote_is(self):
        # the second quote of a pair at the first number: the second number is wrong (review of cite-check)
        findings, _, _ = self.check("`pte = maybe_mkwrite(pte_mkdirty(pte), vma);` ... `return helper(0);` (6.1.192 L14, L22)")
        self.assertEqual([f.message.split(' (`')[0] for f in findings], ["off: 6.1.192 L22 -> 6.1.192 L18"])
        # a wide range must start at its quote
        findings, _, _ = self.check("`return helper(0);` (6.1.192 L9-19)")
        self.assertEqual([f.message.split(' (`')[0] for f in findings], ["off: 6.1.192 L9-19 -> 6.1.192 L18-19"])
        # a line number with no quote must lie inside the function, its end too
        findings, _, _ = self.check("do_swap_page() (6.1.192 L10-25)")
        self.assertTrue(any("is not inside do_swap_page()" in f.message for f in findings), [f.message for f in findings])

    def test_two_labels_hold_for_both_trees_and_end_with_their_clause(self):
        # the 6.1-only quote claimed for both trees fails on 6.12
        findings, outcome, _ = self.check("6.1.192 and 6.12.118: `return x + 1;` in helper()", file="mm/memory.c", function="do_swap_page")
        self.assertEqual(outcome, {"6.1.192": "ok", "6.12.118": "ok"})
        findings, outcome, _ = self.check("6.1.192: `__page_set_anon_rmap(folio, page, vma, address, 1);`; then `__page_set_anon_rmap(folio, page, vma, address, 1);` again",
                                          file="mm/rmap.c", function="page_add_new_anon_rmap (6.1), folio_add_new_anon_rmap (6.12)")
        self.assertEqual(outcome["6.12.118"], "FAIL", "after the ';' the quote is claimed for both trees again")
        findings, _, _ = self.check("6.21.118: `return helper(0);` (6.21.118 L18)")
        self.assertTrue(any("6.21.118 names a tree of no kernel line" in f.message for f in findings), [f.message for f in findings])
        # a stable release in prose is not a tree label
        findings, _, _ = self.check("`return helper(0);` (6.1.192 L18), as since the 6.1.56 stable update")
        self.assertEqual(findings, [])

    def test_quotes_are_code_not_comments_and_whole_names(self):
        findings, _, _ = self.check("`FAULT_FLAG_WRITE) {`")
        self.assertEqual(findings, [])
        findings, _, _ = self.check("`AULT_FLAG_WRITE) {`")
        self.assertTrue(findings, "part of a longer name")
        src = self.trees["6.1"].source("mm/memory.c")
        self.assertEqual(src.find("SPDX-License-Identifier"), [])
        self.assertEqual(src.find("// SPDX-License-Identifier: GPL-2.0-only"), [1], "a quote of a comment is looked for in the raw text")

    def test_a_paraphrase_is_not_looked_for(self):
        findings, _, _ = self.check("~`pte_mkwrite() only for FAULT_FLAG_WRITE`")
        self.assertEqual(findings, [])

    def test_a_line_number_must_name_its_tree(self):
        findings, _, _ = self.check("`return helper(0);` (L18)")
        self.assertTrue(any("must name its tree" in f.message for f in findings))

    def test_a_line_number_away_from_its_quote_is_reported_as_moved_and_fixed(self):
        findings, outcome, path = self.check("`pte = maybe_mkwrite(pte_mkdirty(pte), vma);` (6.12.118 L14)")
        self.assertEqual(outcome["6.12.118"], "moved")
        moved = [f for f in findings if f.fix]
        self.assertEqual(len(moved), 1)
        self.assertIn("6.12.118 L14 -> 6.12.118 L23", moved[0].message)
        uses, text = cc.citations_of(path, self.versions)
        fixed = cc.apply_fixes(path, text, [(uses[0].detail_node,) + f.fix for f in findings if f.fix])
        self.assertIn("(6.12.118 L23)", fixed)

    def test_a_stale_tree_label_follows_its_quote(self):
        findings, _, path = self.check("`pte = maybe_mkwrite(pte_mkdirty(pte), vma);` (6.12.117 L14)")
        self.assertEqual(sorted(f.message.split(' (`')[0] for f in findings if f.fix), ["moved: 6.12.117 L14 -> 6.12.118 L23", "stale tree label: 6.12.117 -> 6.12.118"])
        _, text = cc.citations_of(path, self.versions)
        uses, _ = cc.citations_of(path, self.versions)
        fixed = cc.apply_fixes(path, text, [(uses[0].detail_node,) + f.fix for f in findings if f.fix])
        self.assertIn("(6.12.118 L23)", fixed)

    def test_a_stale_label_whose_code_has_not_moved_is_relabelled(self):
        findings, _, _ = self.check("`pte = maybe_mkwrite(pte_mkdirty(pte), vma);` (6.12.117 L23)")
        self.assertEqual([f.message.split(' (`')[0] for f in findings if f.fix], ["stale tree label: 6.12.117 -> 6.12.118"])

    def test_a_wide_range_with_a_stale_label_moves_with_its_first_quote(self):
        # 9 lines moved: inside the tolerance of a 12-line range, but the range started at the quote
        findings, _, _ = self.check("`pte = maybe_mkwrite(pte_mkdirty(pte), vma);` (6.12.117 L14-25)")
        self.assertEqual([f.message.split(' (`')[0] for f in findings if f.fix], ["moved: 6.12.117 L14-25 -> 6.12.118 L23-34", "stale tree label: 6.12.117 -> 6.12.118"])

    def test_a_stale_label_without_a_quote_is_an_error(self):
        findings, _, _ = self.check("the write fault (6.12.117 L25)")
        self.assertTrue(any("stale tree label, and no quote" in f.message and f.fix is None for f in findings))
        self.assertFalse([f for f in findings if f.fix], "no relabelling while a line number cannot be followed")

    def test_a_line_number_outside_the_function(self):
        findings, _, _ = self.check("do_swap_page() (6.1.192 L3)")
        self.assertTrue(any("is not inside do_swap_page()" in f.message for f in findings))

    def test_a_function_missing_from_a_claimed_tree(self):
        findings, outcome, _ = self.check("", file="mm/rmap.c", function="page_add_new_anon_rmap")
        self.assertEqual(outcome["6.12.118"], "FAIL")
        self.assertIn("page_add_new_anon_rmap() is not defined in mm/rmap.c", findings[0].message)

    def test_per_line_functions(self):
        findings, outcome, _ = self.check("6.1.192: `__page_set_anon_rmap(folio, page, vma, address, 1);`; 6.12.118: `__folio_set_anon(folio, vma, address, exclusive);`",
                                          file="mm/rmap.c", function="page_add_new_anon_rmap (6.1), folio_add_new_anon_rmap (6.12)")
        self.assertEqual(findings, [])
        self.assertEqual(outcome, {"6.1.192": "ok", "6.12.118": "ok"})

    def test_the_kernel_range_decides_the_trees(self):
        findings, outcome, _ = self.check("", kernels="new", file="mm/rmap.c", function="folio_add_new_anon_rmap")
        self.assertEqual(findings, [])
        self.assertEqual(outcome, {"6.12.118": "ok"})

    def test_a_quote_holds_for_the_tree_of_its_line_numbers(self):
        findings, _, _ = self.check("`__folio_set_anon(folio, vma, address, exclusive);` (6.12.118 L3)",
                                    file="mm/rmap.c", function="page_add_new_anon_rmap (6.1), folio_add_new_anon_rmap (6.12)")
        self.assertEqual(findings, [])

    def test_a_stale_line_number_in_prose(self):
        text = 'kernels:\n  k: {from: "6.11", basis: b, note: "writable since v6.11 (6.12.117 mm/memory.c L4544); 6.12.20 has the fix; 6.12.118 L4553 is fine"}\n'
        found = cc.check_prose("s.yaml", text, self.versions)
        self.assertEqual(len(found), 1, [f.message for f in found])
        self.assertIn("6.12.117", found[0].message)

    def test_function_spans(self):
        src = self.trees["6.1"].source("mm/memory.c")
        self.assertEqual(src.functions["helper"], (4, 7))
        self.assertEqual(src.functions["do_swap_page"], (9, 19))
        self.assertNotIn("out", src.functions)


class Commits(unittest.TestCase):
    def test_format_and_use(self):
        d = tempfile.mkdtemp()
        try:
            table = os.path.join(d, "commits.yaml")
            open(table, "w").write(textwrap.dedent("""\
                commits:
                  - {hash: c18160dba5ff, title: "mm: swap: reuse", release: v6.11, stable: [], source: a Fixes tag}
                  - {hash: C18160DBA5FF, title: "", release: "6.11", stable: [6.12], source: x}
                """))
            commits, problems = cc.load_commits(table)
            self.assertEqual(len(problems), 4, problems)
            found = cc.check_hashes("s.yaml", "basis: c18160dba5ff (v6.11)\nnote: since 242d12c98174\n", commits)
            self.assertEqual([f.where for f in found], ["s.yaml:2:13"])
        finally:
            shutil.rmtree(d)


    def test_a_range_must_follow_the_commit_its_basis_names(self):
        commits = {"c50f8e6053b0": {"release": "v6.14", "stable": ["6.12.20"]}, "c18160dba5ff": {"release": "v6.11", "stable": []}}
        text = textwrap.dedent("""\
            kernels:
              backport: {from: "6.12.20", below: "6.13", basis: c50f8e6053b0 in 6.12 stable}
              too-early: {from: "6.12.5", basis: c50f8e6053b0}
              before: {from: "5.19", below: "6.11", basis: read swap-in writable since c18160dba5ff}
              wrong: {from: "6.10", basis: c18160dba5ff}
            """)
        found = cc.check_ranges("s.yaml", text, commits)
        self.assertEqual([f.where for f in found], ["s.yaml:3:14", "s.yaml:5:10"], [f.message for f in found])


class SharedLibrary(unittest.TestCase):
    """scenarios/lib/shared.yaml: a catalog file names its ranges, and may not define them again."""

    def test_a_shared_range_decides_the_trees_and_may_not_be_redefined(self):
        d = tempfile.mkdtemp()
        try:
            library = os.path.join(d, "shared.yaml")
            open(library, "w").write('kernels:\n  new: {from: "6.8", basis: b}\n')
            lib = cc.Library(library)
            path = os.path.join(d, "s.yaml")
            open(path, "w").write(textwrap.dedent("""\
                kernels:
                  new: {from: "5.19", basis: again}
                  own: {basis: o}
                steps:
                  - parent: write P
                    expect:
                      - {summary: s, kernels: new, cite: {file: mm/rmap.c, function: f}, check: [a]}
                """))
            redefined = lib.redefined(path)
            self.assertEqual([f.where for f in redefined], [path + ":2:3"], [f.message for f in redefined])
            open(path, "w").write("steps:\n  - parent: write P\n    expect:\n      - {summary: s, kernels: new, cite: {file: mm/rmap.c, function: f}, check: [a]}\n")
            uses, _ = cc.citations_of(path, {"6.1": "6.1.192", "6.12": "6.12.118"}, lib)
            self.assertEqual(uses[0].claims, {"6.12"}, "the shared range's from: 6.8 claims 6.12.118 only")
        finally:
            shutil.rmtree(d)


class RealTrees(unittest.TestCase):
    """A copy of a catalog scenario with one quote spoiled is caught, with its file and line."""

    def test_a_spoiled_copy_of_a_scenario(self):
        cache = os.path.join(TOP, ".cache", "kernel-src")
        if not all(os.path.isfile(os.path.join(cache, "linux-source-%s" % l, "Makefile")) for l in ("6.1", "6.12")):
            self.skipTest("the kernel trees are not extracted (tools/cite-check extracts them)")
        original = os.path.join(TOP, "scenarios", "07-pageout-exclusive.yaml")
        text = open(original).read()
        target = "pte_swp_mkexclusive(swp_pte)"
        self.assertIn(target, text)
        d = tempfile.mkdtemp()
        try:
            copy = os.path.join(d, "07-copy.yaml")
            open(copy, "w").write(text.replace(target, "pte_swp_mkexclusive(pte)", 1))
            line = text[:text.index(target)].count("\n") + 1
            run = subprocess.run([os.path.join(TOP, "tools", "cite-check"), copy], capture_output=True, text=True)
            self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
            wrong = [l for l in run.stdout.splitlines() if l.startswith(copy + ":") and "pte_swp_mkexclusive(pte)" in l]
            self.assertTrue(wrong, run.stdout)
            cite_line = int(wrong[0].split(":")[1])
            self.assertTrue(0 <= line - cite_line <= 4, (line, wrong[0]))   # the cite block holding the quote
            clean = subprocess.run([os.path.join(TOP, "tools", "cite-check"), original], capture_output=True, text=True)
            self.assertEqual(clean.returncode, 0, clean.stdout[-2000:])
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=1).result
    failed = len(result.failures) + len(result.errors)
    results.report("cite-check-tests", result.testsRun - failed - len(result.skipped), failed)
    sys.exit(1 if failed else 0)
