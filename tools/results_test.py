#!/usr/bin/env python3
"""Tests of tools/results.py: what a stage writes is what the harness adds up; a missing,
incomplete or unreadable file is a failure, never a silent zero."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.py")
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Results(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def run_tool(self, *args):
        return subprocess.run([TOOL] + list(args), capture_output=True, text=True)

    def test_records_add_up(self):
        self.assertEqual(self.run_tool("record", self.dir, "ynl", "3", "0").returncode, 0)
        self.assertEqual(self.run_tool("record", self.dir, "vm-shell", "6", "1", "2").returncode, 0)
        out = os.path.join(self.dir, "total")
        run = self.run_tool("sum", self.dir, "--require", "ynl", "--json-out", out)
        self.assertEqual(run.returncode, 1, run.stdout)
        self.assertEqual(json.load(open(out)), {"passed": 9, "failed": 1, "skipped": 2, "problems": []})
        self.assertIn("vm-shell         6 passed, 1 failed, 2 skipped", run.stdout)

    def test_a_missing_or_incomplete_check_fails(self):
        results.write(self.dir, "xctest-PteInspectVMTests", 40, 0, complete=False)
        _, problems, sums = results.total(self.dir, ["xctest-PteInspectVMTests", "ynl"])
        self.assertEqual(sums["failed"], 2)
        self.assertTrue(any(p.startswith("ynl: no results") for p in problems))
        self.assertTrue(any("incomplete" in p for p in problems))
        open(os.path.join(self.dir, "broken.json"), "w").write("{")
        self.assertEqual(results.total(self.dir)[2]["failed"], 3)

    def test_a_scenario_report_counts_hang_crash_and_a_stop_as_failures(self):
        report = os.path.join(self.dir, "r.json")
        json.dump({"summary": {"pass": 50, "fail": 1, "hang": 1, "crash": 1, "skip": 11}, "complete": False,
                   "interrupted": "RCU stall"}, open(report, "w"))
        self.assertEqual(self.run_tool("scenarios", self.dir, "vm-scenarios", report).returncode, 0)
        record = json.load(open(os.path.join(self.dir, "vm-scenarios.json")))
        self.assertEqual((record["passed"], record["failed"], record["skipped"]), (50, 4, 11))
        self.assertIn("RCU stall", record["note"])
        self.run_tool("scenarios", self.dir, "none", os.path.join(self.dir, "absent.json"))
        self.assertEqual(json.load(open(os.path.join(self.dir, "none.json")))["failed"], 1)

    def test_get_reads_one_value(self):
        path = os.path.join(self.dir, "vm.json")
        json.dump({"kdir": "/lib/modules/x/build"}, open(path, "w"))
        self.assertEqual(self.run_tool("get", path, "kdir").stdout.strip(), "/lib/modules/x/build")
        self.assertEqual(self.run_tool("get", path, "absent").returncode, 1)


class KernelList(unittest.TestCase):
    """tools/kernel-list: the kernels of tools/run --kernels FILE."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def listed(self, text):
        path = os.path.join(self.dir, "kernels.toml")
        open(path, "w").write(text)
        return subprocess.run([os.path.join(TOP, "tools", "kernel-list"), path], capture_output=True, text=True)

    def test_the_example_lists_four_kernels_with_tools_vms_arguments(self):
        run = subprocess.run([os.path.join(TOP, "tools", "kernel-list"), os.path.join(TOP, "docs", "examples", "kernels.toml")],
                             capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual([line.split("\t") for line in run.stdout.splitlines()],
                         [["6.1", "--release", "6.1"], ["6.12", "--release", "6.12"], ["7.3", "--release", "7.3"],
                          ["7.3-debug", "--release", "7.3", "--debug-kernel"]])

    def test_own_kernels_and_their_options(self):
        open(os.path.join(self.dir, "bzImage"), "w").close()
        run = self.listed('[[kernel]]\nlabel = "mine"\nimage = "%s/bzImage"\nkdir = "%s"\nappend = ["a=1", "b"]\n' % (self.dir, self.dir))
        self.assertEqual(run.stdout.strip().split("\t"), ["mine", "--kernel", self.dir + "/bzImage", "--kdir", self.dir, "--append", "a=1", "--append", "b"])

    def test_mistakes_are_refused_with_the_reason(self):
        for text, said in [('[[kernel]]\nlabel = "x"\nrelese = "6.1"\n', "did you mean release?"),
                           ('[[kernel]]\nlabel = "x"\nrelease = "6.1"\n[[kernel]]\nlabel = "x"\nrelease = "6.12"\n', "used twice"),
                           ('[[kernel]]\nlabel = "a/b"\nrelease = "6.1"\n', "label must be a name"),
                           ('[[kernel]]\nlabel = "x"\nimage = "/nonexistent"\nkdir = "/"\n', "does not exist"),
                           ('[[kernel]]\nlabel = "x"\nrelease = "6.1"\nimage = "/"\nkdir = "/"\n', "release and debug name Debian's"),
                           ('[[kernel]\n', "kernels.toml"),
                           ("", "no [[kernel]] table")]:
            run = self.listed(text)
            self.assertEqual(run.returncode, 2, text)
            self.assertIn(said, run.stderr, text)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=1).result
    failed = len(result.failures) + len(result.errors)
    results.report("results-tests", result.testsRun - failed - len(result.skipped), failed)
    sys.exit(1 if failed else 0)
