#!/usr/bin/env python3
"""pteinspect's scenarios as LAVA results (the test definition tools/lava/pteinspect.yaml runs this).

  lava-results.py run [--scenarios 'all'|NAMES] [--backend module|pagemap|auto] [--expectations yes|no]
                      [--report FILE.jsonl]
      In the guest, as root: loads the module (modprobe pteinspect), sets up zram swap when none is
      active, runs `pteinspect scenario run --format jsonl` and reports each scenario as it ends.
  lava-results.py report FILE.jsonl [--planned NAMES] [--expectations yes|no] [--dry-run]
      Reports an existing JSON Lines report (docs/scenario-report.md) the same way.

LAVA results (lava-test-case, lava-test-set; names take [A-Za-z0-9_.-], NAME[KIND] is NAME.KIND,
as in the kselftest collection):
  module-load              modprobe pteinspect (run, --backend module only)
  zram-swap                swap for the swap scenarios (skip when it cannot be set up)
  SCENARIO                 one per scenario run: PASS pass, SKIP skip, FAIL/HANG/CRASH fail,
                           XFAIL (a known kernel bug showed) pass with the bug in the log;
                           a scenario not run because the kernel was compromised, or with no
                           result at all (the run was cut short), fail
  SCENARIO.stepN.eM        one per expectation (M-th of step N, as KCIDB's paths), in the test
                           set SCENARIO: PASS pass, FAIL fail, SKIP skip, XFAIL pass (logged)
  run-complete             the report's end record says complete
  kernel-log               `pteinspect kernel-log`: no BUG/WARNING/... in the kernel log after the run
Without lava-test-case on PATH (or with --dry-run) the calls are printed instead. Exits 0 whatever the
results (LAVA's run.sh runs under `set -e`); 2 on bad usage.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

LAVA_NAME = re.compile(r"[^A-Za-z0-9_.-]")
# XFAIL (a known kernel bug showed, docs/scenario-format.md "Known kernel bugs") is LAVA's pass, as
# kselftest's `ok N ... # XFAIL` is an ok: the bug is named in the case's log line.
VERDICT_RESULT = {"PASS": "pass", "FAIL": "fail", "SKIP": "skip", "XFAIL": "pass", "HANG": "fail", "CRASH": "fail"}


def case_name(scenario):
    """kind-fork-cow[thp] -> kind-fork-cow.thp; any other character LAVA does not take -> _."""
    m = re.fullmatch(r"(.*)\[(.*)\]", scenario)
    name = f"{m.group(1)}.{m.group(2)}" if m else scenario
    return LAVA_NAME.sub("_", name)


def say(text):
    print(text, flush=True)


class Lava:
    def __init__(self, dry_run):
        self.dry = dry_run or shutil.which("lava-test-case") is None
        if self.dry and not dry_run:
            say("lava-results: lava-test-case is not on PATH (not under LAVA): printing the results")

    def _call(self, argv):
        if self.dry:
            say("  " + " ".join(argv))
        else:
            subprocess.run(argv, check=False)

    def case(self, name, result, note=None):
        if note:
            say(f"{name}: {result}: {note}")
        self._call(["lava-test-case", name, "--result", result])

    def set_start(self, name):
        self._call(["lava-test-set", "start", name])

    def set_stop(self):
        self._call(["lava-test-set", "stop"])


class Reporter:
    def __init__(self, lava, expectations, planned):
        self.lava = lava
        self.expectations = expectations
        self.planned = list(planned or [])
        self.seen = []
        self.complete = None
        self.interrupted = None

    def line(self, text):
        text = text.strip()
        if not text:
            return
        try:
            record = json.loads(text)
        except ValueError:
            say(f"lava-results: not JSON, ignored: {text[:200]}")
            return
        kind = record.get("record")
        if kind == "run":
            say(f"pteinspect: kernel {record.get('kernel')}, backend {record.get('backend')}, "
                f"{record.get('planned')} scenarios planned")
        elif kind == "scenario":
            self.scenario(record)
        elif kind == "end":
            self.complete = bool(record.get("complete"))
            self.interrupted = record.get("interrupted")
            say(f"pteinspect: end: complete {self.complete}, summary {json.dumps(record.get('summary'))}"
                + (f", interrupted: {self.interrupted}" if self.interrupted else ""))

    def scenario(self, s):
        name = s.get("name", "?")
        self.seen.append(name)
        case = case_name(name)
        verdict = s.get("verdict", "?")
        reason = s.get("reason") or ""
        result = VERDICT_RESULT.get(verdict, "fail")
        if verdict == "SKIP" and reason.startswith("not run:"):
            result = "fail"   # the kernel was compromised before it (KCIDB: MISS); not a skip
        say(f"=== {name}: {verdict}" + (f" ({reason})" if reason else ""))
        if verdict in ("FAIL", "HANG", "CRASH", "XFAIL"):
            if s.get("detail"):
                say(f"    detail: {s['detail']}")
            for step in s.get("steps", []):
                if step.get("error"):
                    say(f"    step {step.get('number')} ({step.get('action')}): {step['error']}")
                for kline in (step.get("kernel_report") or [])[:40]:
                    say(f"    | {kline}")
        if self.expectations:
            expectations = [(st.get("number"), i + 1, e) for st in s.get("steps", [])
                            for i, e in enumerate(st.get("expectations", []))]
            if expectations:
                self.lava.set_start(case)
                for number, index, e in expectations:
                    ev = e.get("verdict", "?")
                    note = None
                    if ev != "PASS":
                        note = ("XFAIL " if ev == "XFAIL" else "") + f"step {number}: {e.get('summary', '')}"
                        if e.get("reason"):
                            note += f" ({e['reason']})"
                        for mm in (e.get("mismatches") or [])[:3]:
                            note += f"; {mm.get('assertion')}: expected {mm.get('expected')}, observed {mm.get('observed')}"
                    self.lava.case(f"{case}.step{number}.e{index}", VERDICT_RESULT.get(ev, "fail"), note)
                self.lava.set_stop()
        self.lava.case(case, result)

    def finish(self):
        missing = [n for n in self.planned if n not in self.seen]
        for name in missing:
            self.lava.case(case_name(name), "fail", "no result: the run ended before it"
                           + (f" ({self.interrupted})" if self.interrupted else ""))
        if self.complete is None:
            self.lava.case("run-complete", "fail", "the report has no end record (pteinspect was killed, or could not start)")
        else:
            self.lava.case("run-complete", "pass" if self.complete and not missing else "fail", self.interrupted)


def names_of(pteinspect, selection):
    """The scenario runs a selection stands for (NAME[KIND] each), from `scenario list --names`."""
    out = subprocess.run([pteinspect, "scenario", "list", "--names"], capture_output=True, text=True)
    if out.returncode != 0:
        say(f"lava-results: pteinspect scenario list failed (exit {out.returncode}): {out.stderr.strip()}")
        return None, None
    every = out.stdout.split()
    if selection in ("", "all"):
        return every, []
    wanted, args = [], []
    for word in re.split(r"[\s,]+", selection.strip()):
        if not word:
            continue
        if word not in every and not any(n.startswith(word + "[") for n in every):
            dotted = re.fullmatch(r"(.*)\.([^.]*)", word)   # kind-fork-cow.thp -> kind-fork-cow[thp]
            if dotted and f"{dotted.group(1)}[{dotted.group(2)}]" in every:
                word = f"{dotted.group(1)}[{dotted.group(2)}]"
        args.append(word)
        wanted += [n for n in every if n == word or n.startswith(word + "[")] or [word]
    return wanted, args


def sh(command):
    return subprocess.run(command, shell=True, capture_output=True, text=True)


def cmd_run(opts):
    lava = Lava(opts.dry_run)
    pteinspect = shutil.which("pteinspect")
    if pteinspect is None:
        lava.case("pteinspect-installed", "fail", "pteinspect is not on PATH")
        return 0
    say(sh(f"{pteinspect} --version").stdout.strip())
    if opts.backend == "module":
        if os.path.isdir("/sys/module/pteinspect"):
            lava.case("module-load", "pass", "already loaded")
        else:
            out = sh("modprobe pteinspect")
            lava.case("module-load", "pass" if out.returncode == 0 else "fail",
                      None if out.returncode == 0 else f"modprobe pteinspect: {out.stderr.strip()}; "
                      + sh("dmesg | tail -5").stdout.strip())
    # zram swap, as tools/vm-guest and the kselftest runner set it up
    zram = None
    if sh("grep -q '^/' /proc/swaps").returncode == 0:
        lava.case("zram-swap", "pass", "swap already active")
    else:
        out = sh("{ [ -e /sys/block/zram0 ] || modprobe zram num_devices=1; } && [ -e /sys/block/zram0 ]"
                 " && echo 512M >/sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null && swapon /dev/zram0"
                 " && { sysctl -qw vm.page-cluster=0 || true; }")
        if out.returncode == 0:
            zram = "/dev/zram0"
            lava.case("zram-swap", "pass")
        else:
            lava.case("zram-swap", "skip", f"no zram swap, the swap scenarios will SKIP: {out.stderr.strip()}")
    planned, args = names_of(pteinspect, opts.scenarios)
    reporter = Reporter(lava, opts.expectations == "yes", planned or [])
    argv = [pteinspect, "scenario", "run", "--format", "jsonl", "--backend", opts.backend] + (args or [])
    say("lava-results: " + " ".join(argv))
    report = open(opts.report, "w") if opts.report else None
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    for text in proc.stdout:
        if report:
            report.write(text)
            report.flush()
        reporter.line(text)
    status = proc.wait()
    if report:
        report.close()
    say(f"lava-results: pteinspect scenario run exited {status}")
    reporter.finish()
    if opts.report:
        # pteinspect's own summary (the scenario x kernel table), next to LAVA's results in the log
        table = sh(f"{pteinspect} report table {opts.report}")
        say("pteinspect report table:\n" + table.stdout + table.stderr)
    out = sh(f"timeout 120 {pteinspect} kernel-log --lines 200")
    if out.returncode == 0:
        lava.case("kernel-log", "pass")
    else:
        say(out.stdout + out.stderr)
        lava.case("kernel-log", "fail", "the kernel log has a report (above)" if out.returncode == 1
                  else f"pteinspect kernel-log exited {out.returncode}")
    if zram:
        sh("swapoff /dev/zram0 && echo 1 >/sys/block/zram0/reset")
    return 0


def cmd_report(opts):
    lava = Lava(opts.dry_run)
    planned = [n for n in re.split(r"[\s,]+", opts.planned or "") if n]
    reporter = Reporter(lava, opts.expectations == "yes", planned)
    with open(opts.file) as f:
        for text in f:
            reporter.line(text)
    reporter.finish()
    return 0


def yes_no(value):
    """yes/true/1/on, or no/false/0/off/'' (LAVA writes a job parameter of YAML's `no`, a false
    boolean, as an empty string)."""
    v = str(value).strip().lower()
    if v in ("yes", "true", "1", "on"):
        return "yes"
    if v in ("no", "false", "0", "off", ""):
        return "no"
    raise argparse.ArgumentTypeError(f"yes or no, not {value!r}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--scenarios", default="all")
    run.add_argument("--backend", default="module", choices=["module", "pagemap", "auto"])
    run.add_argument("--expectations", default="yes", type=yes_no)
    run.add_argument("--report", help="also keep the JSON Lines report here")
    run.add_argument("--dry-run", action="store_true")
    rep = sub.add_parser("report")
    rep.add_argument("file")
    rep.add_argument("--planned", help="the scenario runs expected (NAME[KIND], space or comma separated)")
    rep.add_argument("--expectations", default="yes", type=yes_no)
    rep.add_argument("--dry-run", action="store_true")
    opts = p.parse_args()
    return cmd_run(opts) if opts.command == "run" else cmd_report(opts)


if __name__ == "__main__":
    sys.exit(main())
