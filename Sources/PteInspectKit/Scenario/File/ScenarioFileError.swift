import Yams

/// A mistake in a scenario file, where it is: "scenarios/fork-cow.yaml:12:9: unknown field ...".
/// Every check of the loader ends in one of these; none becomes a SKIP at run time.
public struct ScenarioFileError: Error, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    public let message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    init(file: String, at mark: Mark?, _ message: String) {
        self.init(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, message: message)
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// The closest of `candidates` to `word` when it is a plausible misspelling (edit distance at most
/// a third of the word rounded up, "wirte" -> "write"), for "did you mean".
func closest(to word: String, in candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
    let letters = Array(word.lowercased())
    let scored = candidates.map { ($0, distance(letters, Array($0.lowercased()))) }.min { $0.1 < $1.1 }
    guard let (best, score) = scored, score <= (letters.count + 2) / 3 else { return nil }
    return best
}

/// " (did you mean 'x'?)" or "".
func didYouMean(_ word: String, _ candidates: [String]) -> String {
    closest(to: word, in: candidates).map { " (did you mean '\($0)'?)" } ?? ""
}

extension ScenarioFileError {
    /// The text of the file at `path`; one it cannot read is an error naming it.
    static func contents(of path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ScenarioFileError(file: path, line: 0, column: 0, message: "cannot be read: \(error.localizedDescription)")
        }
    }
}
