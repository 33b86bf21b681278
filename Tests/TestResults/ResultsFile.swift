import Foundation
import XCTest

/// Every test case of this package derives from this class, so that a test process writes its
/// counts to a results file for the harness (tools/test adds up files, it does not read XCTest's
/// words): `$PTEINSPECT_RESULTS/xctest-TARGET.json`, `{"name", "passed", "failed", "skipped",
/// "complete"}`, rewritten after every test case (`complete` false until the bundle has finished:
/// a process that died midway leaves what it had counted, and says so). Without
/// PTEINSPECT_RESULTS nothing is written.
open class ObservedTestCase: XCTestCase {
    override open class func setUp() {
        super.setUp()
        ResultsFile.register(target: String(reflecting: self).split(separator: ".").first.map(String.init) ?? "tests")
    }
}

/// The observer behind `ObservedTestCase`: counts each finished test case.
final class ResultsFile: NSObject, XCTestObservation {
    nonisolated(unsafe) private static var shared: ResultsFile?

    static func register(target: String) {
        guard shared == nil, let folder = ProcessInfo.processInfo.environment["PTEINSPECT_RESULTS"], !folder.isEmpty else { return }
        let observer = ResultsFile(path: (folder as NSString).appendingPathComponent("xctest-\(target).json"), name: "xctest-\(target)")
        shared = observer
        XCTestObservationCenter.shared.addTestObserver(observer)
        observer.write(complete: false)
    }

    let path: String
    let name: String
    private var passed = 0, failed = 0, skipped = 0

    init(path: String, name: String) {
        self.path = path
        self.name = name
    }

    func testCaseDidFinish(_ testCase: XCTestCase) {
        guard let run = testCase.testRun else { return }
        if run.hasBeenSkipped {
            skipped += 1
        } else if run.hasSucceeded {
            passed += 1
        } else {
            failed += 1
        }
        write(complete: false)
    }

    func testBundleDidFinish(_ testBundle: Bundle) { write(complete: true) }

    func write(complete: Bool) {
        let object: [String: Any] = ["name": name, "passed": passed, "failed": failed, "skipped": skipped, "complete": complete]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        try? data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
