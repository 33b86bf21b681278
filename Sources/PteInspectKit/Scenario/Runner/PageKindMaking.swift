import Foundation
import Glibc

// Making a page kind (`map-kind`, PageKind.recipe): the mapping, the settings that choose the
// folio size, the writes and splits, the check that the kernel made what was asked, and the
// page-out of a swapped kind. cow.c's do_run_with_thp() and run_with_base_page() make them the
// same way.

extension StepContext {
    /// `map-kind`: the kind at a fresh mapping bound to `symbol`. The outcome is the address (and,
    /// for a swapped kind, whether the folio went out whole); `state.kindNotMade` /
    /// `kindNotSwapped` say why the kernel did not make it, for the runner's SKIP.
    func makeKind(_ kind: PageKind, symbol: String) throws -> StepOutcome {
        let outcome: StepOutcome
        switch kind.shape {
        case .small: outcome = try bind(symbol, MapAnon(pages: 1, protection: .readWrite, sharing: .private))
        case .shmem: outcome = try bind(symbol, MapAnon(pages: 1, protection: .readWrite, sharing: .shared))
        case .shmemTHP: outcome = try bind(symbol, MapTHP(sharing: .shared))
        case .thp, .thpPTE, .thpSingle, .mthp: outcome = try bind(symbol, MapTHP(sharing: .private))
        }
        content.map(actor, symbol, shared: kind.isShmem, file: false)
        let base = try address(Loc(symbol))
        // Mapped with MADV_HUGEPAGE, not written yet: the mm is on khugepaged's list now.
        if kind.holdsKhugepaged { try holdKhugepaged() }
        try make(kind, at: base, tag: tag(Loc(symbol)))
        if kind.pages > 1, tag(Loc(symbol)) != nil {
            // what make() filled: page i's tag is the first one plus i (ContentTag: the page is its low bits)
            content.set(actor, Loc(symbol), pages: kind.pages) { self.tag(Loc(symbol, $0)).map(PageContent.stored) ?? .unknown }
        } else {
            content.store(actor, Loc(symbol), tag(Loc(symbol)))
        }
        if kind.shape == .thpSingle { content.advise(actor, Loc(symbol, 1), pages: kind.pages - 1, .dontneed) }
        // The folio is checked before it is paged out: a swapped kind is that kind swapped.
        state.kindNotMade = kindNotMade(PageKind(kind.shape), at: PageRef(actor, symbol))
        if kind.swapped, state.kindNotMade == nil {
            let before = kind.swapOutCount()
            try send(Madvise(at: base, pages: kind.pages, advice: .pageout))
            state.kindNotSwapped = kindNotMade(kind, at: PageRef(actor, symbol))
            // Whether the folio went out whole is part of what the kernel did: the outcome says it.
            if case let .succeeded(address) = outcome, let note = kind.swapOutNote(before: before, after: kind.swapOutCount()) {
                return .succeeded(address + "; " + note)
            }
        }
        return outcome
    }

    /// khugepaged held off while a scenario has a MADV_HUGEPAGE range (PageKind.khugepagedSleep),
    /// put back when the scenario ends like every setting. Called once the range is mapped with
    /// MADV_HUGEPAGE and before its first write. The order matters (mm/khugepaged.c
    /// khugepaged_wait_work(), 6.1.192 L2497-2515, 6.12.118 L2569-2587): with no mm on its list
    /// khugepaged sleeps without a timeout, `wait_event_freezable(khugepaged_wait,
    /// khugepaged_wait_event());`, and the MADV_HUGEPAGE that lists an mm wakes it for a scan at
    /// once, whatever scan_sleep_millisecs says (a hold set before it was seen to collapse a
    /// thp-pte range between two steps on the 6.12 debug kernel). With the mm listed, the
    /// setting's store wakes it for one more pass (`khugepaged_sleep_expire = 0;`), after which
    /// it sleeps the new time. The range is written once that pass is over.
    ///
    /// A pass has a sleep of its own that looks the same from outside: khugepaged_do_scan() that
    /// fails to allocate a huge page sleeps alloc_sleep_millisecs (60 s by default) and goes on
    /// with the pass (`if (result == SCAN_ALLOC_HUGE_PAGE_FAIL) { ... khugepaged_alloc_sleep();`,
    /// 6.1.192 L2486, 6.12.118 L2558): state S, the same innermost frame where both are inlined
    /// into khugepaged(). Taken for the wait between passes, it would let the rest of that pass
    /// collapse a range map-kind splits after the hold. kind-ksm[thp-pte]'s range was collapsed
    /// so (2 rounds in 26 on the 6.12 debug kernel: refcount 512 at step 1, a PMD at a new PFN at
    /// step 2); whether by this or by a khugepaged that was running (sleepsBetweenScans) is not
    /// known, the failing rounds did not record thp_collapse_alloc_failed. So the hold first
    /// sets alloc_sleep_millisecs to 0: khugepaged_alloc_sleep() is
    /// `add_wait_queue(&khugepaged_wait, ...); schedule_timeout(msecs_to_jiffies(...))` (6.1.192
    /// L731-739, 6.12.118 L838-846), so the store's `wake_up_interruptible(&khugepaged_wait)`
    /// ends one under way, and the ones after it last a tick at most. Then the wait between
    /// passes is the only sleep that lasts: khugepaged has gone to sleep since the stores (its
    /// voluntary context switches counted up), sleeps between scans (sleepsBetweenScans), and is
    /// still asleep, not once more, 50 ms later. Bounded at 10 s (nice 19 on a debug kernel can
    /// take seconds); past it the scenario goes on.
    func holdKhugepaged() throws {
        guard FileManager.default.fileExists(atPath: PageKind.khugepagedSleep),
              !state.settings.contains(where: { $0.path == PageKind.khugepagedSleep }) else { return }
        let khugepaged = ScenarioRunner.kernelThread(named: "khugepaged")
        let before = khugepaged.flatMap(ScenarioRunner.voluntarySwitches)
        if FileManager.default.fileExists(atPath: PageKind.khugepagedAllocSleep) {
            _ = try state.set(PageKind.khugepagedAllocSleep, to: "0")
        }
        _ = try state.set(PageKind.khugepagedSleep, to: PageKind.khugepagedHoldMillis)
        guard let khugepaged, let before else { return }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let asleep = ScenarioRunner.voluntarySwitches(khugepaged), asleep != before,
               ScenarioRunner.sleepsBetweenScans(khugepaged) != false {
                usleep(50_000)
                if ScenarioRunner.voluntarySwitches(khugepaged) == asleep,
                   ScenarioRunner.sleepsBetweenScans(khugepaged) != false { return }
            }
            usleep(10_000)
        }
    }

    /// The rest of `map-kind` once the range is mapped at `base`, up to the page-out of a swapped
    /// kind (PageKind.recipe; cow.c's
    /// do_run_with_thp() and run_with_base_page() make them the same way).
    private func make(_ kind: PageKind, at base: Address, tag: UInt32?) throws {
        if let control = kind.mthpControl {
            // Only this size may be chosen: alloc_anon_folio() tries the highest enabled order
            // that fits the 2 MiB-aligned VMA first (6.12 mm/memory.c L4654), so every other
            // size, the PMD one included, is off (each put back when the scenario ends).
            let directory = "/sys/kernel/mm/transparent_hugepage"
            let sizes = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for size in sizes.sorted() where size.hasPrefix("hugepages-") && size.hasSuffix("kB") {
                let path = "\(directory)/\(size)/enabled"
                guard path != control, FileManager.default.fileExists(atPath: path) else { continue }
                _ = try state.set(path, to: "never")
            }
            _ = try state.set(control, to: "always")
        }
        if kind.shape == .shmemTHP {
            // A shmem THP for a MADV_HUGEPAGE range (shmem_huge_global_enabled(): SHMEM_HUGE_ADVISE
            // and VM_HUGEPAGE); on 6.11+ anonymous shmem's PMD size follows it when "inherit".
            _ = try state.set(PageKind.shmemControl, to: "advise")
            if FileManager.default.fileExists(atPath: PageKind.shmemPMDControl) {
                _ = try state.set(PageKind.shmemPMDControl, to: "inherit")
            }
        }
        try send(Write(at: base, value: tag))
        // Every page its own contents (its tag: the first one plus the page number), written
        // while the folio is mapped whole and writable (no fault, the folio stays as made): a
        // check of every page then tells each page from the others and from zeros.
        if kind.pages > 1, let tag { try send(Fill(at: base, pages: kind.pages, first: tag)) }
        let page = pageSize
        switch kind.shape {
        case .thpPTE, .thpSingle:
            // cow.c THP_RUN_PTE: "Trigger PTE-mapping the THP by temporarily mapping a single
            // subpage R/O" (mprotect splits the PMD: change_huge_pmd -> __split_huge_pmd).
            try send(Mprotect(at: Address(base.value + page), pages: 1, protection: .read))
            try send(Mprotect(at: Address(base.value + page), pages: 1, protection: .readWrite))
            if kind.shape == .thpSingle {
                // cow.c THP_RUN_SINGLE_PTE: "Discard all but a single subpage of that PTE-mapped THP".
                try send(Madvise(at: Address(base.value + page), pages: kind.pages - 1, advice: .dontneed))
            }
        case .small, .thp, .mthp, .shmem, .shmemTHP:
            break
        }
    }

    /// Why `map-kind` did not make `kind` at `ref` (PageKind.notMade), or nil; an observation
    /// that fails is a reason too.
    private func kindNotMade(_ kind: PageKind, at ref: PageRef) -> String? {
        guard let worker = state.worker(ref.actor), let address = state.address(ref, pageSize: pageSize) else { return "\(ref) is not mapped" }
        do {
            let seen = try guarded("checking the kind made at \(ref)") {
                try observer.observe(pid: worker.pid, address: address) { _, _ in "" }
            }
            return kind.notMade(seen)
        } catch {
            return "observing \(ref) failed: \(error)"
        }
    }

}

extension ScenarioRunner {
    /// The pid of the kernel thread called `name` (its /proc/PID/comm), if it runs.
    static func kernelThread(named name: String) -> Int32? {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
        return pids.first { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == name
        }
    }

    /// Whether khugepaged sleeps between two scans: it sleeps (state S in /proc/PID/stat: its
    /// waits are wait_event_freezable()s, TASK_INTERRUPTIBLE), and the innermost frame of its
    /// kernel stack that /proc/PID/stack shows (the scheduler's own are left out) is khugepaged()
    /// or khugepaged_wait_work() (where the compiler kept it), not a scan's (khugepaged_do_scan()'s
    /// lru_add_drain_all(), a collapse waiting for a lock or memory). Seen on the 6.12 debug
    /// kernel: `[<0>] khugepaged+0x414/0x11d0` on top. A khugepaged that runs is inside a pass,
    /// and its stack reads empty: the unwinder refuses a task running on another CPU
    /// (arch/x86/kernel/unwind_orc.c __unwind_start(): `if (task_on_another_cpu(task)) goto err;`,
    /// 6.1.192 L656, 6.12.118 L699). Taking that empty stack for "cannot tell" let a pass that had
    /// begun before the hold collapse a thp-pte range it had just split (kind-ksm[thp-pte], 1 run
    /// in 10 on the 6.12 debug kernel). nil only where the stack cannot be read at all.
    static func sleepsBetweenScans(_ pid: Int32) -> Bool? {
        if let state = taskState(pid), state != "S" { return false }
        guard let stack = try? String(contentsOfFile: "/proc/\(pid)/stack", encoding: .utf8) else { return nil }
        return betweenScans(stack: stack) ?? false
    }

    /// The state letter of /proc/PID/stat (R running, S sleeping, D uninterruptible...): the
    /// field after the command's closing parenthesis.
    static func taskState(_ pid: Int32) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].first { $0 != " " }
    }

    /// The decision of `sleepsBetweenScans` on the text of a stack; nil for an empty one.
    static func betweenScans(stack: String) -> Bool? {
        guard let top = stack.split(separator: "\n").first else { return nil }
        let function = top.split(separator: " ").last?.prefix { $0 != "+" } ?? ""
        return function == "khugepaged" || function == "khugepaged_wait_work"
    }

    /// voluntary_ctxt_switches of /proc/PID/status: how many times the task went to sleep.
    static func voluntarySwitches(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return status.split(separator: "\n").first { $0.hasPrefix("voluntary_ctxt_switches:") }
            .flatMap { Int($0.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") }
    }

}
