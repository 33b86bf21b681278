import Foundation

/// What a scenario verb's `perform` gets from the runner for one step: the stepping actor and its
/// worker, the run's state (actors, bindings, settings, the content model), and the calls every
/// verb shares (send a worker command, bind a name to the address it returns, a page's address).
final class StepContext {
    let step: Step
    let number: Int
    let state: RunState
    let runner: ScenarioRunner

    init(step: Step, number: Int, state: RunState, runner: ScenarioRunner) {
        self.step = step
        self.number = number
        self.state = state
        self.runner = runner
    }

    var actor: String { step.actor }
    /// What each page must hold (the data checks): a verb records what it changes here.
    var content: ContentModel { state.content }
    var environment: ScenarioEnvironment { runner.environment }
    var observer: PageObserver { runner.observer }
    var pageSize: UInt64 { SystemPage.size }

    /// The stepping actor's worker.
    func worker() throws -> WorkerProcess {
        guard let worker = state.worker(actor) else { throw ScenarioError.unbound("no actor '\(actor)' (not spawned, or exited)") }
        return worker
    }

    /// The address of the stepping actor's page `loc`.
    func address(_ loc: Loc) throws -> Address {
        guard let address = state.address(PageRef(actor, loc), pageSize: pageSize) else {
            throw ScenarioError.unbound("\(actor) has no mapping '\(loc.symbol)'")
        }
        return Address(address)
    }

    /// Another actor's page: its worker and address.
    func locate(_ ref: PageRef) throws -> (WorkerProcess, Address) {
        guard let worker = state.worker(ref.actor), let address = state.address(ref, pageSize: pageSize) else {
            throw ScenarioError.unbound("no page \(ref)")
        }
        return (worker, Address(address))
    }

    /// Sends a command to the stepping actor's worker; the reply's value.
    @discardableResult
    func send(_ verb: some WireVerb) throws -> String { try worker().send(WorkerCommand(verb)) }

    /// Sends a command that replies with an address and binds `symbol` to it in this actor.
    func bind(_ symbol: String, _ verb: some WireVerb) throws -> StepOutcome {
        let address = try worker().sendForAddress(WorkerCommand(verb))
        state.symbols[actor, default: [:]][symbol] = address
        return .succeeded("0x" + String(address, radix: 16))
    }

    /// What the actor stores at `loc` (the data checks): the step's tag.
    func tag(_ loc: Loc, by writer: String? = nil) -> UInt32? {
        content.tag(writer ?? actor, step: number, page: loc.page)?.value
    }

    /// `body` under the runner's watchdog, as every call of the CLI's own.
    func guarded<T>(_ what: @autoclosure () -> String, _ body: () throws -> T) rethrows -> T {
        try runner.guarded(what(), body)
    }
}
