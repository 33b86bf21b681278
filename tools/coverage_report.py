#!/usr/bin/env python3
"""The tables of tools/coverage: from each phase's lcov tracefile (baseline, suite, selftests)
and the kernel tree, per file of mm/ that writes page-table entries the lines and functions each
phase executed, and every call site in those files that writes an entry, with the phases that
reached it. Writes OUT/report.md and OUT/report.json.

  coverage_report.py --tree TREE --line 6.12 --out OUT --selftests OUT/selftests.tsv --suite OUT/suite.json

A call site is a line of FILE.c that calls one of WRITERS (not a comment, not a definition). Its
count is gcov's for that line, summed over every copy the compiler inlined; a line gcov has no
record of was compiled out (an #ifdef, a config the kernel does not have) and is "no code".
"""
import argparse
import json
import os
import re
import sys

FILES = ["mm/memory.c", "mm/rmap.c", "mm/mremap.c", "mm/mprotect.c", "mm/userfaultfd.c",
         "mm/huge_memory.c", "mm/swapfile.c", "mm/ksm.c", "mm/madvise.c", "mm/migrate.c"]
PHASES = ["suite", "selftests", "baseline"]

# Helpers that write (set, clear, or modify bits of) a present or non-present entry: the generic
# ones of include/linux/pgtable.h and the arch's. pmd_clear()/pmd_populate() write a table
# pointer, not an entry with the bits the matrix is about, and are not listed.
WRITERS = [
    "set_pte_at", "set_ptes", "set_pte", "set_pmd_at", "set_pud_at", "set_huge_pte_at",
    "pte_clear", "pte_clear_not_present_full", "clear_not_present_full_ptes", "clear_full_ptes",
    "ptep_clear", "ptep_get_and_clear", "ptep_get_and_clear_full", "get_and_clear_full_ptes",
    "ptep_clear_flush", "ptep_set_wrprotect", "wrprotect_ptes", "ptep_set_access_flags",
    "ptep_modify_prot_start", "ptep_modify_prot_commit", "modify_prot_start_ptes", "modify_prot_commit_ptes",
    "ptep_test_and_clear_young", "ptep_clear_flush_young", "clear_young_dirty_ptes",
    "pmdp_set_wrprotect", "pmdp_huge_get_and_clear", "pmdp_huge_get_and_clear_full", "pmdp_invalidate",
    "pmdp_invalidate_ad", "pmdp_huge_clear_flush", "pmdp_set_access_flags", "pmdp_collapse_flush",
    "pmdp_establish", "pmdp_test_and_clear_young", "pmdp_clear_flush_young", "pmdp_get_and_clear",
]
CALL = re.compile(r"(?<![\w.>])(%s)\s*\(" % "|".join(sorted(WRITERS, key=len, reverse=True)))
# A declaration or definition of a function, or a macro: not a call.
DEFINITION = re.compile(r"^\s*(static|extern|#\s*define)\b")


def read_info(path):
    """lcov tracefile -> {source file: {"lines": {line: count}, "functions": {name: (line, count)}}}"""
    files, current = {}, None
    with open(path) as info:
        for raw in info:
            line = raw.strip()
            if line.startswith("SF:"):
                current = files.setdefault(line[3:], {"lines": {}, "functions": {}})
            elif current is None:
                continue
            elif line.startswith("DA:"):
                number, count = line[3:].split(",")[:2]
                current["lines"][int(number)] = current["lines"].get(int(number), 0) + int(count)
            elif line.startswith("FN:"):
                number, name = line[3:].split(",", 1)
                old = current["functions"].get(name, (int(number), 0))
                current["functions"][name] = (int(number), old[1])
            elif line.startswith("FNDA:"):
                count, name = line[5:].split(",", 1)
                start = current["functions"].get(name, (0, 0))[0]
                current["functions"][name] = (start, current["functions"].get(name, (0, 0))[1] + int(count))
            elif line == "end_of_record":
                current = None
    return files


def by_relative(files, tree):
    """The tracefile's absolute paths made relative to the tree (mm/memory.c)."""
    result = {}
    for path, data in files.items():
        relative = os.path.relpath(path, tree) if path.startswith("/") else path
        result[relative] = data
    return result


def call_sites(tree, relative):
    """(line number, helper, text) of each entry-writing call in the file."""
    sites = []
    in_comment = False
    with open(os.path.join(tree, relative), errors="replace") as source:
        for number, text in enumerate(source, 1):
            stripped = text.strip()
            if in_comment:
                if "*/" in stripped:
                    in_comment = False
                continue
            if stripped.startswith("/*") and "*/" not in stripped:
                in_comment = True
                continue
            if stripped.startswith(("*", "//", "/*")) or DEFINITION.match(text):
                continue
            code = text.split("//")[0]
            for match in CALL.finditer(code):
                sites.append((number, match.group(1), stripped))
    return sites


# A function definition as kernel style writes it: its name at column 0 or after its return type
# on the same line, then "(", and no ";" (a prototype) at the end of the line.
DEFINITION_HEAD = re.compile(r"^(?:[A-Za-z_][\w\s\*]*?[\s\*])?([A-Za-z_]\w*)\(")


def enclosing(source_lines, number):
    """The function the line is in: the last definition head at or before it. From the source,
    not from gcov's function records, which leave out the static inline functions the compiler
    folded into their callers (__copy_present_ptes() into copy_pte_range(), for one)."""
    for index in range(number - 1, -1, -1):
        line = source_lines[index]
        if not line or line[0] in " \t#{}/*" or line.rstrip().endswith(";"):
            continue
        match = DEFINITION_HEAD.match(line)
        if match and match.group(1) not in ("if", "for", "while", "switch", "return", "sizeof"):
            return match.group(1)
    return "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", required=True)
    parser.add_argument("--line", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--selftests", required=True)
    parser.add_argument("--suite", required=True)
    args = parser.parse_args()

    phases = {p: by_relative(read_info(os.path.join(args.out, p + ".info")), args.tree) for p in PHASES}
    release = open(os.path.join(args.tree, "include/config/kernel.release")).read().strip() \
        if os.path.exists(os.path.join(args.tree, "include/config/kernel.release")) else args.line

    files = []
    for relative in FILES:
        row = {"file": relative}
        for phase in PHASES:
            data = phases[phase].get(relative, {"lines": {}, "functions": {}})
            lines = data["lines"]
            functions = data["functions"]
            row[phase] = {
                "lines": len(lines), "lines_hit": sum(1 for c in lines.values() if c > 0),
                "functions": len(functions), "functions_hit": sum(1 for _, c in functions.values() if c > 0),
            }
        files.append(row)

    sites = []
    for relative in FILES:
        source_lines = open(os.path.join(args.tree, relative), errors="replace").read().split("\n")
        for number, helper, text in call_sites(args.tree, relative):
            counts = {}
            for phase in PHASES:
                lines = phases[phase].get(relative, {"lines": {}})["lines"]
                counts[phase] = lines.get(number)   # None: gcov has no code on that line
            sites.append({"file": relative, "line": number, "function": enclosing(source_lines, number),
                          "helper": helper, "text": text, "counts": counts})

    def reached(site, phase):
        return (site["counts"][phase] or 0) > 0

    def category(site):
        if site["counts"]["suite"] is None:
            return "no code"
        suite, selftests = reached(site, "suite"), reached(site, "selftests")
        if suite and selftests:
            return "both"
        if suite:
            return "pteinspect only"
        if selftests:
            return "selftests only"
        return "neither"

    for site in sites:
        site["category"] = category(site)
        site["baseline"] = reached(site, "baseline")

    selftest_runs = []
    if os.path.exists(args.selftests):
        for row in open(args.selftests):
            name, status, seconds = row.rstrip("\n").split("\t")
            selftest_runs.append({"name": name, "exit": int(status), "seconds": int(seconds)})
    suite_summary = {}
    if os.path.exists(args.suite):
        report = json.load(open(args.suite))
        suite_summary = report.get("summary", {})

    categories = ["both", "pteinspect only", "selftests only", "neither", "no code"]
    counted = {c: sum(1 for s in sites if s["category"] == c) for c in categories}
    result = {"kernel": release, "files": files, "call_sites": sites, "categories": counted,
              "selftests": selftest_runs, "suite": suite_summary}
    json.dump(result, open(os.path.join(args.out, "report.json"), "w"), indent=1)

    def pct(hit, total):
        return f"{hit}/{total} ({100.0 * hit / total:.1f}%)" if total else "-"

    md = [f"# mm/ coverage on {release}: pteinspect's suite and the kernel's mm selftests", ""]
    md.append("Lines and functions executed (gcov, mm/ profiled alone; baseline = the idle guest):")
    md.append("")
    md.append("| file | lines: pteinspect | lines: selftests | functions: pteinspect | functions: selftests | lines: baseline |")
    md.append("|---|---|---|---|---|---|")
    for row in files:
        md.append(f"| {row['file']} | {pct(row['suite']['lines_hit'], row['suite']['lines'])} | "
                  f"{pct(row['selftests']['lines_hit'], row['selftests']['lines'])} | "
                  f"{pct(row['suite']['functions_hit'], row['suite']['functions'])} | "
                  f"{pct(row['selftests']['functions_hit'], row['selftests']['functions'])} | "
                  f"{pct(row['baseline']['lines_hit'], row['baseline']['lines'])} |")
    md.append("")
    total_code = sum(counted[c] for c in categories if c != "no code")
    md.append(f"Entry-writing call sites ({len(sites)} in these files, {total_code} compiled in): " +
              ", ".join(f"{c} {counted[c]}" for c in categories) + ".")
    suite_reached = counted["both"] + counted["pteinspect only"]
    selftests_reached = counted["both"] + counted["selftests only"]
    md.append(f"pteinspect reaches {suite_reached} of {total_code}; the selftests {selftests_reached}.")
    md.append("")
    md.append("| file:line | function | helper | pteinspect | selftests | baseline | who |")
    md.append("|---|---|---|---|---|---|---|")
    for site in sites:
        c = site["counts"]
        show = lambda v: "-" if v is None else str(v)
        md.append(f"| {site['file']}:{site['line']} | {site['function']} | {site['helper']} | "
                  f"{show(c['suite'])} | {show(c['selftests'])} | {show(c['baseline'])} | {site['category']} |")
    md.append("")
    if selftest_runs:
        md.append("Selftests run (exit status, seconds; 124 = the bound ended it, 127 = not built):")
        md.append("")
        md.append(", ".join(f"{r['name']} {r['exit']} ({r['seconds']} s)" for r in selftest_runs))
        md.append("")
    open(os.path.join(args.out, "report.md"), "w").write("\n".join(md) + "\n")
    print("\n".join(md[:len(files) + 10]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
