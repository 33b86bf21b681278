/// `scenario run`'s loop over the scenarios: each is run and reported as it ends; the run stops
/// early when the kernel is compromised (KernelCompromise: every scenario left is reported as
/// not run, with the reason, unless `keepGoing`) or when `hangsBeforeStopping` steps hung
/// without a kernel report (the report is cut short there).
public final class ScenarioSuite {
    public let keepGoing: Bool
    public let hangsBeforeStopping: Int
    /// lockdep's state after each scenario (KernelCompromise.debugLocks; replaceable in tests).
    public var debugLocks: () -> Bool? = { KernelCompromise.debugLocks() }
    /// Told once, when the kernel is found compromised.
    public var onCompromise: (KernelCompromise) -> Void = { _ in }
    /// A compromise found by an earlier run of this boot (KernelCompromise.Record): unless
    /// `keepGoing`, no scenario of this run is run, each is reported as not run with its reason.
    public var carried: KernelCompromise?

    public init(keepGoing: Bool, hangsBeforeStopping: Int) {
        self.keepGoing = keepGoing
        self.hangsBeforeStopping = hangsBeforeStopping
    }

    /// Runs `scenarios` with `run`, reporting to `reporter` (and finishing it); `hangs`: the
    /// runner's count of steps that hung. Returns the compromise that stopped the run, if any.
    @discardableResult
    public func run(_ scenarios: [Scenario], backend: Backend, reporter: RunReporter,
                    run: (Scenario) -> ScenarioResult, hangs: () -> Int) -> KernelCompromise? {
        var compromise: KernelCompromise? = keepGoing ? nil : carried
        var locks = debugLocks()
        for (index, scenario) in scenarios.enumerated() {
            if let compromise, !keepGoing {
                reporter.ended(ScenarioResult(scenario: scenario, backend: backend, steps: [], skipReason: compromise.notRun))
                continue
            }
            reporter.started(scenario)
            let result = run(scenario)
            reporter.ended(result)
            // lockdep only switches itself off with a report, which makes the scenario a CRASH;
            // reading /proc/lockdep_stats costs a walk of every lock class: only then.
            let locksNow = result.verdict == .crash ? debugLocks() : locks
            if compromise == nil {
                compromise = KernelCompromise.detect(in: result)
                    ?? KernelCompromise.lockdepWentOff(during: scenario.name, before: locks, after: locksNow)
                if let compromise { onCompromise(compromise) }
            }
            locks = locksNow
            if compromise == nil, hangs() >= hangsBeforeStopping && index + 1 < scenarios.count {
                reporter.cutShort("\(hangs()) steps hung (the last in \(scenario.name)): the kernel is too wedged to go on")
                return nil
            }
        }
        reporter.finish(interrupted: keepGoing ? nil : compromise?.description)
        return keepGoing ? nil : compromise
    }
}
