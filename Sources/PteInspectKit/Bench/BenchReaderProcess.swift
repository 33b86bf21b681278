import Foundation
import Glibc

/// One benchmark reader, run as a process of its own so that its peak RSS and CPU time are its
/// own, waited for with a bound, its result line parsed.
public struct BenchReaderProcess {
    public enum Failure: Error, CustomStringConvertible {
        case timedOut(String, Double)
        case failed(String, Int32, String)
        case noResult(String, String)

        public var description: String {
            switch self {
            case let .timedOut(command, seconds): return "\(command) did not finish within \(Int(seconds)) s (killed)"
            case let .failed(command, status, output): return "\(command) exited with status \(status): \(output.suffix(400))"
            case let .noResult(command, output): return "\(command) printed no result line: \(output.suffix(400))"
            }
        }
    }

    public let executable: String
    public let arguments: [String]

    public init(executable: String, arguments: [String]) {
        self.executable = executable
        self.arguments = arguments
    }

    var commandLine: String { ([executable] + arguments).joined(separator: " ") }

    /// Runs the reader to its end (at most `timeout` seconds, then SIGKILL) and returns its result.
    public func run(timeout: Double) throws -> BenchReaderResult {
        let process = Process(), output = Pipe(), errors = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // The pipes are drained while the reader runs: a chatty reader must not block on a full pipe.
        let outputData = Collector(output.fileHandleForReading), errorData = Collector(errors.fileHandleForReading)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw Failure.timedOut(commandLine, timeout)
            }
            usleep(5_000)
        }
        let text = outputData.finish(), stderrText = errorData.finish()
        guard process.terminationStatus == 0 else {
            throw Failure.failed(commandLine, process.terminationStatus, stderrText + text)
        }
        guard let result = BenchReaderResult.parse(text) else { throw Failure.noResult(commandLine, text + stderrText) }
        return result
    }

    /// Reads a pipe to its end on a thread of its own.
    private final class Collector: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                data = handle.readDataToEndOfFile()
                done.signal()
            }
        }

        func finish() -> String {
            done.wait()
            return String(decoding: data, as: UTF8.self)
        }
    }
}
