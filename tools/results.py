#!/usr/bin/env python3
"""The results files the test stages write and the harness adds up (tools/test, tools/run,
tools/vm-tests): one JSON object per check, {"name", "passed", "failed", "skipped",
"complete"}, in a folder per stage ($PTEINSPECT_RESULTS; tools/vm shares it with the guest and
describes the stage in its _vm.json). The stages write them (this helper's `record`, the
`scenarios` summary of a pteinspect JSON report, the XCTest bundles' own ResultsFile); the
harness reads them (`sum`), never the stages' words.

  results.py record DIR NAME PASSED FAILED [SKIPPED]   one check's counts (nothing when DIR is
                                                       empty: the check ran outside a harness)
  results.py scenarios DIR NAME REPORT.json            a scenario run's counts, from its JSON report
                                                       (HANG and CRASH count as failed; an incomplete
                                                       or interrupted run as one more failure)
  results.py sum DIR [--require NAME]... [--json-out FILE]
                                                       one line per file and the total; exit 1 when
                                                       anything failed, a required file is missing or
                                                       a file is not complete
  results.py get FILE KEY                              one value of a JSON object (for shell)
  results.py describe FILE KEY=VALUE...                a JSON object of those strings (a stage's
                                                       description, _vm.json)
  results.py crashes REPORT.json                       each CRASH step: a header line, then the
                                                       kernel's report, for decoding
"""
import json
import os
import sys


def write(folder, name, passed, failed, skipped=0, complete=True, note=None):
    os.makedirs(folder, exist_ok=True)
    record = {"name": name, "passed": int(passed), "failed": int(failed), "skipped": int(skipped), "complete": bool(complete)}
    if note:
        record["note"] = note
    path = os.path.join(folder, name + ".json")
    with open(path + ".tmp", "w") as out:
        json.dump(record, out, sort_keys=True)
    os.replace(path + ".tmp", path)
    return record


def report(name, passed, failed, skipped=0):
    """A check's last line for a person ("NAME: N passed, M failed"), and its counts for the
    harness ($PTEINSPECT_RESULTS)."""
    print("%s: %d passed, %d failed" % (name, passed, failed), flush=True)
    record_env(name, passed, failed, skipped)


def record_env(name, passed, failed, skipped=0):
    """A Python check's counts into $PTEINSPECT_RESULTS, when a harness set it."""
    folder = os.environ.get("PTEINSPECT_RESULTS")
    if folder:
        write(folder, name, passed, failed, skipped)


def scenario_counts(report):
    """(passed, failed, skipped, note) of a pteinspect scenario report (schema
    pteinspect.scenario-report v1): its summary, and an incomplete run as one failure more. An XFAIL
    (a known kernel bug showed) counts as passed, as kselftest counts it, and is named in the note."""
    summary = report.get("summary") or {}
    passed, skipped = summary.get("pass", 0) + summary.get("xfail", 0), summary.get("skip", 0)
    failed = summary.get("fail", 0) + summary.get("hang", 0) + summary.get("crash", 0)
    note = None
    if summary.get("xfail"):
        note = "%d XFAIL: a known kernel bug showed" % summary["xfail"]
    if report.get("interrupted"):
        note = "the run stopped: %s" % report["interrupted"] + ("; " + note if note else "")
        failed += 1
    elif not report.get("complete", True):
        note = "the run ended before its last scenario" + ("; " + note if note else "")
        failed += 1
    return passed, failed, skipped, note


def read_folder(folder):
    """Every record of the folder; a file whose name starts with "_" describes the stage (tools/vm's
    _vm.json: the kernel, its build tree, the module) and is no record."""
    records = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if name.endswith(".json") and not name.startswith("_"):
            try:
                with open(os.path.join(folder, name)) as f:
                    records.append(json.load(f))
            except (OSError, ValueError) as error:
                records.append({"name": name[:-5], "passed": 0, "failed": 1, "skipped": 0, "complete": False,
                                "note": "unreadable: %s" % error})
    return records


def total(folder, required=()):
    """The folder's records, what is wrong with them, and their sum."""
    records = read_folder(folder)
    problems = []
    names = {r.get("name") for r in records}
    for name in required:
        if name not in names:
            problems.append("%s: no results (the check did not run, or did not finish)" % name)
    for r in records:
        if not r.get("complete", True):
            problems.append("%s: incomplete (the process ended before its last case)" % r.get("name"))
    sums = {k: sum(int(r.get(k, 0)) for r in records) for k in ("passed", "failed", "skipped")}
    sums["failed"] += len(problems)
    return records, problems, sums


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    command, args = argv[1], argv[2:]
    if command == "record" and len(args) in (4, 5):
        if args[0]:
            write(args[0], args[1], *args[2:])
        return 0
    if command == "scenarios" and len(args) == 3:
        try:
            with open(args[2]) as f:
                report = json.load(f)
            passed, failed, skipped, note = scenario_counts(report)
        except (OSError, ValueError) as error:
            passed, failed, skipped, note = 0, 1, 0, "no readable report: %s" % error
        write(args[0], args[1], passed, failed, skipped, note=note)
        print("%s: %d passed, %d failed, %d skipped%s" % (args[1], passed, failed, skipped, (" (%s)" % note) if note else ""))
        return 0
    if command == "sum" and args:
        folder, required, json_out, rest = args[0], [], None, args[1:]
        while rest:
            if rest[0] == "--require" and len(rest) > 1:
                required.append(rest[1]); rest = rest[2:]
            elif rest[0] == "--json-out" and len(rest) > 1:
                json_out = rest[1]; rest = rest[2:]
            else:
                print("results.py sum: unknown argument %s" % rest[0], file=sys.stderr)
                return 2
        records, problems, sums = total(folder, required)
        for r in records:
            print("  %-16s %d passed, %d failed, %d skipped%s" % (r.get("name"), r.get("passed", 0), r.get("failed", 0),
                                                                 r.get("skipped", 0), (" (%s)" % r["note"]) if r.get("note") else ""))
        for p in problems:
            print("  %s" % p)
        if json_out:
            with open(json_out, "w") as out:
                json.dump(dict(sums, problems=problems), out, sort_keys=True)
        return 1 if sums["failed"] else 0
    if command == "get" and len(args) == 2:
        try:
            with open(args[0]) as f:
                value = json.load(f).get(args[1])
        except (OSError, ValueError):
            return 1
        if value is None:
            return 1
        print(value)
        return 0
    if command == "describe" and args and all("=" in a for a in args[1:]):
        with open(args[0] + ".tmp", "w") as out:
            json.dump(dict(a.split("=", 1) for a in args[1:]), out, sort_keys=True)
        os.replace(args[0] + ".tmp", args[0])
        return 0
    if command == "crashes" and len(args) == 1:
        with open(args[0]) as f:
            report = json.load(f)
        for scenario in report.get("scenarios", []):
            for step in scenario.get("steps", []):
                if step.get("fault") == "CRASH":
                    print("== the kernel's report of %s, step %s (%s: %s)" % (scenario["name"], step["number"], step["actor"], step["action"]))
                    print("\n".join(step.get("kernel_report") or []))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
