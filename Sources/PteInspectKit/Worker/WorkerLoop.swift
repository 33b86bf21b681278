import CPteInspect
import Glibc

/// The helper process that performs memory operations for the CLI and the tests, so the CLI
/// itself never maps test memory or forks. It reads one `WorkerCommand` per line on stdin and
/// answers one `WorkerReply` line on stdout (the commands, their arguments and replies:
/// WorkerProtocol.swift; what each verb does: its `execute`, Verbs/*.swift). A failed system
/// call answers "error CALL: TEXT [errno N]", whatever the command, so a step can expect an
/// errno of any of them.
///
/// The worker pins itself to one CPU first (see pti_pin_to_cpu()). EOF on stdin is `exit`.
public enum WorkerLoop {
    public static func run() -> Never {
        let worker = WorkerState()
        pinToFirstAllowedCPU()
        while let line = readLine(strippingNewline: true) {
            if line.allSatisfy({ $0 == " " }) { continue }
            let command: WorkerCommand
            do {
                command = try WorkerCommand(line: line)
            } catch {
                respond(.failed(error))
                continue
            }
            if command.verb is Exit {
                respond(.ok(""))
                finish(worker)
            }
            guard let reply = perform(command, worker) else { continue }   // the new worker child
            respond(reply)
        }
        finish(worker)
    }

    /// The reply to one command; nil in a child that became a worker (it answers nothing to the fork).
    static func perform(_ command: WorkerCommand, _ worker: WorkerState) -> WorkerReply? {
        do {
            return .ok(try command.verb.execute(worker))
        } catch let failure as WorkerFailure {
            return .failed(failure)
        } catch is WorkerState.BecameWorker {
            return nil
        } catch {
            return .failed(WorkerFailure(message: "\(error)"))
        }
    }

    private static func respond(_ reply: WorkerReply) {
        print(reply.line)
        fflush(stdout)
    }

    private static func finish(_ worker: WorkerState) -> Never {
        for pid in Array(worker.children.keys) { try? worker.release(pid) }
        exit(0)
    }

    private static func pinToFirstAllowedCPU() {
        // CPU 0 is always present in the VM and on ordinary machines; if it is not allowed, stay
        // unpinned rather than fail (refcount-dependent results may then vary).
        _ = pti_pin_to_cpu(0)
    }
}
