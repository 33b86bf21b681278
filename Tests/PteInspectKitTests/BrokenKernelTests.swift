import Foundation
import Glibc
import TestResults
import XCTest
@testable import PteInspectKit

/// What a broken kernel looks like to the runner, without one: a helper that never answers (a
/// task stuck in the kernel), a splat in the kernel log during a step, a run killed in the middle.
/// Each must end in a report (HANG, CRASH, a KTAP prefix the kernel's own parser reads), never a
/// silent wait.
final class BrokenKernelTests: ObservedTestCase {
    let p = PageRef("parent", "P")

    /// A stand-in for `pteinspect worker` that answers `ping` and `map`, and then never answers
    /// again (it execs sleep: the pid the runner holds is the one that sleeps).
    func stuckWorker() throws -> String {
        let path = NSTemporaryDirectory() + "stuck-worker-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sh"
        let script = """
            #!/bin/bash
            while read -r command rest; do
              case "$command" in
                ping) echo ok ;;
                map) echo "ok 0x10000" ;;
                *) exec sleep 600 ;;
              esac
            done

            """
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        addTeardownBlock { unlink(path) }
        return path
    }

    func environment() -> ScenarioEnvironment {
        ScenarioEnvironment(kernelRelease: "6.1.0-56-amd64", isRoot: true, module: nil, fixtureDevice: false, swapDevices: [],
                            thpMode: "always", ksm: false, userfaultfdProblem: nil, uffdioMove: false)
    }

    func testAWorkerThatNeverAnswersTimesOutWithinTheBound() throws {
        let worker = try WorkerProcess(executable: try stuckWorker(), replyTimeout: 1)
        let started = Date()
        XCTAssertThrowsError(try worker.send(.write(0x10000))) { error in
            guard case let WorkerProcess.Failure.timedOut(command, pid, seconds, place)? = error as? WorkerProcess.Failure else {
                return XCTFail("expected a timeout, got \(error)")
            }
            XCTAssertEqual(command, "write 0x10000")
            XCTAssertEqual(pid, worker.pid)
            XCTAssertEqual(seconds, 1)
            XCTAssertTrue(place.contains("state S"), "where the helper was: \(place)")
        }
        let waited = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(waited, 0.9)
        XCTAssertLessThan(waited, 5, "the bound is 1 s")
        worker.kill()
        XCTAssertNil(worker.leftBehind, "SIGKILL takes a sleeping process down")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    func testAHungStepIsAHangNamingTheStepAndTheNextScenarioRuns() throws {
        let observer = FakeObserver(visible: [.present]) { _ in PageObservation([.present: .bool(true)]) }
        let runner = ScenarioRunner(observer: observer, environment: environment(), executable: try stuckWorker())
        runner.stepTimeout = 1
        let hung = runner.run(Scenario(name: "hangs", title: "t", summary: "", watch: [p], steps: [
            Step("parent", .map("P", pages: 1)),
            Step("parent", .write(Loc("P"))),
            Step("parent", .read(Loc("P"))),
        ]))
        XCTAssertEqual(hung.verdict, .hang)
        XCTAssertEqual(hung.steps.count, 2, "the scenario ends at the step that hung")
        XCTAssertEqual(hung.steps.last?.fault, .hang)
        XCTAssertEqual(hung.steps.last?.error, "step 2 (parent: write P) did not complete within 1 s")
        XCTAssertTrue(hung.steps.last?.kernelReport.first?.hasPrefix("where the helper was: state S") ?? false,
                      "\(hung.steps.last?.kernelReport ?? [])")
        XCTAssertEqual(runner.hangs, 1)

        let next = runner.run(Scenario(name: "after", title: "t", summary: "", watch: [p], steps: [Step("parent", .map("P", pages: 1))]))
        XCTAssertEqual(next.verdict, .pass, next.reason ?? "")

        let ktap = KTAPReport.render([hung, next])
        XCTAssertTrue(ktap.contains("# HANG: step 2 (parent: write P) did not complete within 1 s\n"), ktap)
        XCTAssertTrue(ktap.contains("not ok 1 hangs\n"), ktap)
        XCTAssertTrue(ktap.contains("ok 2 after\n"), ktap)
    }

    func testASplatLoggedDuringAStepIsACrashQuotingTheKernel() throws {
        // A file stands in for /dev/kmsg: the observer "logs" a BUG while step 1 is observed.
        let path = NSTemporaryDirectory() + "kmsg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("6,100,1000000,-;before the scenario\n".utf8)))
        addTeardownBlock { unlink(path) }
        let log = try XCTUnwrap(KernelLog(path: path))
        let observer = FakeObserver(visible: [.present]) { calls in
            if calls == 0, let handle = FileHandle(forWritingAtPath: path) {
                handle.seekToEndOfFile()
                handle.write(Data("""
                    4,101,2500000,-;------------[ cut here ]------------
                    4,102,2500001,-;kernel BUG at mm/memory.c:3921!
                     SUBSYSTEM=mm
                    4,103,2500002,-;RIP: 0010:do_swap_page+0x1234/0x2000

                    """.utf8))
                handle.closeFile()
            }
            return PageObservation([.present: .bool(true)])
        }
        let runner = ScenarioRunner(observer: observer, environment: environment(), executable: ScenarioEngineTests.pteinspectBinary)
        runner.kernelLog = log
        let result = runner.run(Scenario(name: "crashes", title: "t", summary: "", watch: [p], steps: [
            Step("parent", .map("P", pages: 1)),
            Step("parent", .write(Loc("P"))),
        ]))
        XCTAssertEqual(result.verdict, .crash)
        XCTAssertEqual(result.steps.count, 1, "the scenario ends at the step during which the kernel complained")
        XCTAssertEqual(result.steps[0].fault, .crash)
        XCTAssertEqual(result.steps[0].error, "the kernel reported a problem during this step: kernel BUG at mm/memory.c:3921!")
        XCTAssertEqual(result.steps[0].kernelReport, [
            "[    2.500001] kernel BUG at mm/memory.c:3921!",
            "[    2.500002] RIP: 0010:do_swap_page+0x1234/0x2000",
        ])
        XCTAssertFalse(result.steps[0].kernelReport.joined().contains("before the scenario"))
        XCTAssertTrue(TimelineReport.render(step: result.steps[0]).contains("CRASH  the kernel reported a problem during this step"))
    }

    func testKernelLogRecordsParse() throws {
        let record = try XCTUnwrap(KernelLog.Record("12,7,3000000,-;BUG: KASAN: slab-use-after-free in foo\n SUBSYSTEM=x\n"))
        XCTAssertEqual(record.level, 4)   // facility 1 (user) << 3 | 4
        XCTAssertEqual(record.sequence, 7)
        XCTAssertEqual(record.seconds, 3)
        XCTAssertEqual(record.message, "BUG: KASAN: slab-use-after-free in foo")
        XCTAssertNil(KernelLog.Record("not a record"))
        XCTAssertNil(KernelSplat.report(in: [KernelLog.Record(level: 6, sequence: 1, seconds: 1, message: "zram0: detected capacity change")]))
    }

    /// A user-space process's fault is printed with the kernel's words ("general protection
    /// fault"), but it is the process's problem: seen at boot under tools/broken-kernel
    /// boot-userspace, where it made the boot watchdog blame the kernel.
    func testAUserSpaceFaultIsNotAKernelSplat() {
        let user = [
            KernelLog.Record(level: 6, sequence: 1, seconds: 26, message: "traps: systemd-udevd[53] general protection fault ip:7f3f7488c89f sp:7ffe572fa720 error:0 in ld-linux-x86-64.so.2[1b89f,7f3f74872000+26000]"),
            KernelLog.Record(level: 6, sequence: 2, seconds: 26, message: "ip[52]: segfault at 8 ip 00007fc948224b51 sp 00007ffee3ebc4a0 error 4 in ld-linux-x86-64.so.2"),
        ]
        XCTAssertNil(KernelSplat.report(in: user))
        let kernel = KernelLog.Record(level: 4, sequence: 3, seconds: 27, message: "Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI")
        XCTAssertEqual(KernelSplat.report(in: user + [kernel])?.first, kernel.line)
    }

    // MARK: - The report as results come, read by the kernel's own KTAP parser

    /// tools/testing/kunit/kunit.py from Debian's linux-source-6.12 (tools/setup installs it),
    /// extracted once into .cache/kernel-tools.
    func kunitParser() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = root.appendingPathComponent(".cache/kernel-tools").path
        let parser = directory + "/linux-source-6.12/tools/testing/kunit/kunit.py"
        if FileManager.default.fileExists(atPath: parser) { return parser }
        let tarball = "/usr/src/linux-source-6.12.tar.xz"
        guard FileManager.default.fileExists(atPath: tarball) else {
            throw XCTSkip("the kernel's KTAP parser comes from \(tarball): apt-get install linux-source-6.12 (tools/setup does)")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        tar.arguments = ["-xJf", tarball, "-C", directory, "linux-source-6.12/tools/testing/kunit"]
        try tar.run()
        tar.waitUntilExit()
        XCTAssertEqual(tar.terminationStatus, 0, "extracting kunit.py from \(tarball)")
        return parser
    }

    /// kunit.py parse --json of `ktap`: the top-level results as (name, status) and the subtests'.
    func parse(_ ktap: String, with parser: String) throws -> (tests: [(String, String)], groups: [(String, [String])]) {
        let input = NSTemporaryDirectory() + "ktap-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try ktap.write(toFile: input, atomically: true, encoding: .utf8)
        defer { unlink(input); unlink(input + ".json") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [parser, "parse", "--json=\(input).json", input]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()   // status 1 when a test failed or is missing: what is read below says which
        let data = try Data(contentsOf: URL(fileURLWithPath: input + ".json"))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = (object["test_cases"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0["status"] as? String ?? "") }
        let groups = (object["sub_groups"] as? [[String: Any]] ?? []).map { group in
            (group["name"] as? String ?? "", (group["test_cases"] as? [[String: Any]] ?? []).map { $0["status"] as? String ?? "" })
        }
        return (cases, groups)
    }

    func testStreamedKTAPParsesAfterEveryScenarioAndWhenCutShort() throws {
        let parser = try kunitParser()
        var output = ""
        let reporter = RunReporter(format: .ktap) { output += $0 }
        let scenarios = ["first", "second", "third"].map { Scenario(name: $0, title: "t", summary: "", watch: [], steps: []) }
        reporter.begin(planned: 3, kernel: "6.12.117+deb12-amd64", backend: "fake", notes: ["a note"])
        XCTAssertEqual(output, "KTAP version 1\n1..3\n# a note\n", "the plan comes before any result")

        reporter.started(scenarios[0])
        reporter.ended(ScenarioResult(scenario: scenarios[0], backend: .pagemap, steps: [], skipReason: "why not"))
        var parsed = try parse(output, with: parser)
        XCTAssertEqual(parsed.tests.map(\.1), ["SKIP", "ERROR", "ERROR"], "one result, and the parser says two are missing")

        var hung = StepResult(number: 1, step: Step("parent", .write(Loc("P"))), outcome: .failed(errno: nil, message: "timed out"),
                              pages: [], changed: [:], expectations: [], error: "step 1 (parent: write P) did not complete within 1 s")
        hung.fault = .hang
        hung.kernelReport = ["where the helper was: state D (disk sleep), wchan folio_wait_bit_common"]
        reporter.started(scenarios[1])
        reporter.ended(ScenarioResult(scenario: scenarios[1], backend: .pagemap, steps: [hung]))
        parsed = try parse(output, with: parser)
        XCTAssertEqual(parsed.groups.map(\.0), ["second"])
        XCTAssertEqual(parsed.groups.first?.1, ["FAIL"], "the hung step is a failed subtest")

        reporter.started(scenarios[2])
        reporter.cutShort("observing parent:P did not return within 1 s")
        reporter.ended(ScenarioResult(scenario: scenarios[2], backend: .pagemap, steps: []))   // after the end: not written
        parsed = try parse(output, with: parser)
        XCTAssertEqual(parsed.tests.map(\.0), ["first", "third"])
        XCTAssertEqual(parsed.tests.map(\.1), ["SKIP", "FAIL"])
        XCTAssertTrue(output.hasSuffix("# HANG: observing parent:P did not return within 1 s\nnot ok 3 third\n"), output)
    }

    func testAJSONReportFileIsCompleteJSONAfterEveryScenario() throws {
        let path = NSTemporaryDirectory() + "report-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json"
        addTeardownBlock { unlink(path) }
        let reporter = RunReporter(format: .ktap, jsonOut: path) { _ in }
        let scenario = Scenario(name: "only", title: "t", summary: "", watch: [], steps: [])
        func saved() throws -> [String: Any] {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        }
        reporter.begin(planned: 2, kernel: "k", backend: "fake", notes: [])
        XCTAssertEqual(try saved()["complete"] as? Bool, false)
        reporter.started(scenario)
        reporter.ended(ScenarioResult(scenario: scenario, backend: .pagemap, steps: []))
        XCTAssertEqual((try saved()["scenarios"] as? [Any])?.count, 1)
        XCTAssertEqual(try saved()["complete"] as? Bool, false, "1 of 2")
        reporter.cutShort("the kernel is too wedged to go on")
        XCTAssertEqual(try saved()["interrupted"] as? String, "the kernel is too wedged to go on")
        XCTAssertNil(reporter.jsonOutError)
        XCTAssertEqual(try SavedReport.load(path).scenarios.count, 1, "report diff/table read it")
    }

    /// tools/ktap-counts (the kernel's kunit_parser) counts what pteinspect reported: a PASS, a
    /// SKIP, a HANG as a failure, and a planned scenario that never came as missing.
    func testKtapCountsReadsWhatTheReporterWrote() throws {
        _ = try kunitParser()
        var output = ""
        let reporter = RunReporter(format: .ktap) { output += $0 }
        let names = ["passes", "skips", "hangs", "never"]
        let scenarios = names.map { Scenario(name: $0, title: "t", summary: "", watch: [], steps: []) }
        reporter.begin(planned: 4, kernel: "k", backend: "fake", notes: [])
        reporter.started(scenarios[0])
        let step = StepResult(number: 1, step: Step("parent", .write(Loc("P"))), outcome: .succeeded(""),
                              pages: [], changed: [:], expectations: [], error: nil)
        reporter.ended(ScenarioResult(scenario: scenarios[0], backend: .pagemap, steps: [step]))
        reporter.started(scenarios[1])
        reporter.ended(ScenarioResult(scenario: scenarios[1], backend: .pagemap, steps: [], skipReason: "no swap"))
        var hung = StepResult(number: 1, step: Step("parent", .write(Loc("P"))), outcome: .failed(errno: nil, message: "timed out"),
                              pages: [], changed: [:], expectations: [], error: "step 1 (parent: write P) did not complete within 1 s")
        hung.fault = .hang
        reporter.started(scenarios[2])
        reporter.ended(ScenarioResult(scenario: scenarios[2], backend: .pagemap, steps: [hung]))
        let path = NSTemporaryDirectory() + "ktap-counts-\(getpid()).ktap"
        try output.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("tools/ktap-counts").path
        let process = Process(), pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = [path]
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertEqual(text, "pass 1 fail 1 skip 1 missing 1 empty 0\n", output)
    }

    /// `--format jsonl`: every line a JSON object written when it is known; a run cut short
    /// leaves whole lines that `report diff|table` read as far as they go.
    func testJSONLinesAreWholeObjectsAsTheyComeAndReadBack() throws {
        var output = ""
        let reporter = RunReporter(format: .jsonl) { output += $0 }
        let scenarios = ["first", "second"].map { Scenario(name: $0, title: "t", summary: "", watch: [], steps: []) }
        func records() throws -> [[String: Any]] {
            XCTAssertTrue(output.hasSuffix("\n"), "whole lines only")
            return try output.split(separator: "\n").map {
                try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
        }
        reporter.begin(planned: 2, kernel: "6.12.117+deb12-amd64", backend: "fake", notes: [])
        XCTAssertEqual(try records().map { $0["record"] as? String }, ["run"])
        XCTAssertEqual(try records().first?["planned"] as? Int, 2)
        reporter.started(scenarios[0])
        reporter.ended(ScenarioResult(scenario: scenarios[0], backend: .pagemap, steps: []))
        XCTAssertEqual(try records().last?["name"] as? String, "first")
        XCTAssertEqual(try records().last?["verdict"] as? String, "PASS")
        reporter.started(scenarios[1])
        reporter.cutShort("the kernel is too wedged to go on")
        let end = try XCTUnwrap(try records().last)
        XCTAssertEqual(end["record"] as? String, "end")
        XCTAssertEqual(end["complete"] as? Bool, false)
        XCTAssertEqual(end["interrupted"] as? String, "the kernel is too wedged to go on")
        XCTAssertEqual((end["summary"] as? [String: Any])?["pass"] as? Int, 1)

        let path = NSTemporaryDirectory() + "report-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).jsonl"
        addTeardownBlock { unlink(path) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(output.utf8)))
        let saved = try SavedReport.load(path)
        XCTAssertEqual(saved.kernel, "6.12.117+deb12-amd64")
        XCTAssertEqual(saved.scenarios.map(\.name), ["first"])
        // Killed in the middle of a line: the whole lines before it still read.
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data((output + #"{"record":"scen"#).utf8)))
        XCTAssertEqual(try SavedReport.load(path).scenarios.map(\.name), ["first"])
        // A damaged line in the middle is an error naming it.
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data((output + "{\n").utf8)))
        XCTAssertThrowsError(try SavedReport.load(path)) { error in
            XCTAssertTrue("\(error)".contains(":4: not a JSON object"), "names the line: \(error)")
        }
    }

    /// The real CLI, killed (SIGKILL) as soon as its first scenario is reported: what it printed
    /// is a KTAP prefix the kernel's parser reads. The pagemap backend, on the host's kernel.
    func testACLIKilledMidRunLeavesAParseablePrefix() throws {
        let parser = try kunitParser()
        guard geteuid() == 0 else { throw XCTSkip("scenario run needs root") }
        let cli = Process(), output = Pipe()
        cli.executableURL = URL(fileURLWithPath: ScenarioEngineTests.pteinspectBinary)
        cli.arguments = ["scenario", "run", "--backend", "pagemap", "--format", "ktap", "anon-faults", "fork-cow", "mremap-exclusive"]
        cli.standardOutput = output
        cli.standardError = FileHandle.nullDevice
        try cli.run()
        var text = ""
        let deadline = Deadline(seconds: 120)
        let fd = output.fileHandleForReading.fileDescriptor
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !text.contains("\nok 1 ") && !text.contains("\nnot ok 1 ") && !deadline.passed {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 1000) > 0 else { continue }
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            text += String(decoding: buffer[..<count], as: UTF8.self)
        }
        XCTAssertFalse(deadline.passed, "the first scenario's result did not come within 120 s")
        kill(cli.processIdentifier, SIGKILL)
        cli.waitUntilExit()
        text += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("KTAP version 1\n1..3\n"), text)
        let parsed = try parse(text, with: parser)
        XCTAssertEqual(parsed.groups.first?.0, "anon-faults", "the first scenario was reported before the kill")
        let statuses = Set(parsed.groups.first?.1 ?? [])
        XCTAssertFalse(statuses.isEmpty)
        XCTAssertTrue(statuses.isSubset(of: ["PASS", "SKIP"]), "\(statuses)\n\(text)")
        // Each of the 3 planned scenarios is either reported or, as the parser says, missing.
        let missing = parsed.tests.filter { $0.1 == "ERROR" }.count
        let reported = parsed.groups.count + parsed.tests.filter { $0.1 != "ERROR" }.count
        XCTAssertEqual(reported + missing, 3, "\(parsed)")
        XCTAssertGreaterThan(missing, 0, "the kill came before the last scenario: \(text)")
    }
}

extension BrokenKernelTests {
    /// A real worker, stopped (SIGSTOP): no reply, a timeout that says the process is stopped,
    /// and SIGKILL still takes it down.
    func testAStoppedWorkerTimesOutAndSaysItIsStopped() throws {
        let worker = try WorkerProcess(executable: ScenarioEngineTests.pteinspectBinary, replyTimeout: 1)
        kill(worker.pid, SIGSTOP)
        XCTAssertThrowsError(try worker.send(.ping)) { error in
            guard case let WorkerProcess.Failure.timedOut(_, _, _, place)? = error as? WorkerProcess.Failure else {
                return XCTFail("expected a timeout, got \(error)")
            }
            XCTAssertTrue(place.hasPrefix("state T (stopped)"), place)
        }
        worker.kill()
        XCTAssertNil(worker.leftBehind)
    }
}

extension BrokenKernelTests {
    /// A helper whose fault BUGs never answers: the splat in the log ends the wait well before
    /// the step's bound, and the step is a CRASH, not a HANG.
    func testASplatWhileAHelperIsAwaitedEndsTheWaitAsACrash() throws {
        let path = NSTemporaryDirectory() + "kmsg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))
        addTeardownBlock { unlink(path) }
        let observer = FakeObserver(visible: [.present]) { _ in PageObservation([.present: .bool(true)]) }
        let runner = ScenarioRunner(observer: observer, environment: environment(), executable: try stuckWorker())
        runner.stepTimeout = 60
        runner.kernelLog = try XCTUnwrap(KernelLog(path: path))
        DispatchQueue.global().asyncAfter(deadline: .now() + 1.5) {
            if let handle = FileHandle(forWritingAtPath: path) {
                handle.seekToEndOfFile()
                handle.write(Data("0,200,9000000,-;kernel BUG at mm/memory.c:4000!\n4,201,9000001,-;Oops: invalid opcode: 0000 [#1] PREEMPT SMP KASAN NOPTI\n".utf8))
                handle.closeFile()
            }
        }
        let started = Date()
        let result = runner.run(Scenario(name: "bugs", title: "t", summary: "", watch: [p], steps: [
            Step("parent", .map("P", pages: 1)),
            Step("parent", .write(Loc("P"))),
        ]))
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "the splat ends the wait, not the 60 s bound")
        XCTAssertEqual(result.verdict, .crash, result.reason ?? "")
        XCTAssertEqual(result.steps.last?.number, 2, "step 2, the one the helper never answered")
        XCTAssertEqual(result.steps.last?.fault, .crash)
        let error = result.steps.last?.error ?? ""
        XCTAssertTrue(error.hasPrefix("the kernel reported a problem during this step: kernel BUG at mm/memory.c:4000!"), error)
        XCTAssertTrue(error.contains("the helper had not answered after"), "the wait was given up, not timed out: \(error)")
        XCTAssertEqual(result.steps.last?.kernelReport.first, "[    9.000000] kernel BUG at mm/memory.c:4000!")
        XCTAssertEqual(runner.hangs, 0, "a crash is not counted as a hang")
    }
}

/// One list of splat markers for the runner and the scripts: the expression the scripts take from
/// `pteinspect kernel-log --pattern` finds every marker with grep -E, and a boot banner none.
final class KernelSplatListTests: ObservedTestCase {
    /// tools/vm's excerpt of a console after a boot that went wrong (pteinspect kernel-log
    /// --console): from the first report or root-mount failure, user space's faults not counted.
    func testAConsoleExcerptStartsAtTheKernelsFirstReport() {
        let noise = (1...70).map { "[    0.\($0)] booting line \($0)" }
        let fault = "[    2.0] traps: sh[53] general protection fault ip:4011 sp:7ffd error:0 in sh"
        let text = (noise + [fault, "[    3.0] kernel BUG at mm/memory.c:4153!", "[    3.1] RIP: do_anonymous_page"]).joined(separator: "\n")
        XCTAssertEqual(KernelSplat.consoleExcerpt(text), ["[    3.0] kernel BUG at mm/memory.c:4153!", "[    3.1] RIP: do_anonymous_page"])
        let mount = (noise + ["[    4.0] VFS: Unable to mount root fs on unknown-block(0,0)"]).joined(separator: "\n")
        XCTAssertEqual(KernelSplat.consoleExcerpt(mount).first, "[    4.0] VFS: Unable to mount root fs on unknown-block(0,0)")
        XCTAssertEqual(KernelSplat.consoleExcerpt(noise.joined(separator: "\n")), Array(noise.suffix(60)), "nothing found: the last 60 lines")
    }

    func grepE(_ pattern: String, _ text: String) throws -> [String] {
        let grep = Process()
        grep.executableURL = URL(fileURLWithPath: "/bin/grep")
        grep.arguments = ["-E", pattern]
        let input = Pipe(), output = Pipe()
        grep.standardInput = input
        grep.standardOutput = output
        try grep.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        input.fileHandleForWriting.closeFile()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        grep.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    func testThePatternTheScriptsUseFindsEveryMarkerAndNoBanner() throws {
        let lines = KernelSplat.markers.map { "[    1.000000] x \($0) y" }
        XCTAssertEqual(try grepE(KernelSplat.extendedRegex, lines.joined(separator: "\n") + "\n"), lines)
        let banners = """
            [    0.000000] KernelAddressSanitizer initialized (generic)
            [    0.100000] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar
            [    0.200000] kmemleak: Kernel memory leak detector initialized (mem pool available: 15845)
            [    0.300000] page_table_check: enabled

            """
        XCTAssertEqual(try grepE(KernelSplat.extendedRegex, banners), [])
    }

    func testTheCLIPrintsThatPattern() throws {
        let cli = Process()
        cli.executableURL = URL(fileURLWithPath: ScenarioEngineTests.pteinspectBinary)
        cli.arguments = ["kernel-log", "--pattern"]
        let output = Pipe()
        cli.standardOutput = output
        try cli.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        cli.waitUntilExit()
        XCTAssertEqual(cli.terminationStatus, 0)
        XCTAssertEqual(String(decoding: data, as: UTF8.self), KernelSplat.extendedRegex + "\n")
    }

    func testALogReadFromTheStartHasWhatWasThereBefore() throws {
        let path = NSTemporaryDirectory() + "kmsg-start-\(getpid())"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("""
            6,1,1000000,-;booted
            4,2,2000000,-;WARNING: CPU: 0 PID: 1 at mm/mm_init.c:10 mm_sysfs_init+0x1/0x2
            4,3,2000001,-;Call Trace:

            """.utf8)))
        addTeardownBlock { unlink(path) }
        let fromStart = try XCTUnwrap(KernelLog(path: path, fromStart: true)).read()
        XCTAssertEqual(fromStart.map(\.sequence), [1, 2, 3])
        XCTAssertEqual(KernelSplat.report(in: fromStart)?.first, "[    2.000000] WARNING: CPU: 0 PID: 1 at mm/mm_init.c:10 mm_sysfs_init+0x1/0x2")
        XCTAssertEqual(try XCTUnwrap(KernelLog(path: path)).read(), [], "opened at the end: only what comes later")
    }
}
