/// A kernel build option (Kconfig) the scenarios need, and why.
public struct KernelOption: Hashable {
    /// Without the CONFIG_ prefix: the name after `config` in a Kconfig file.
    public let name: String
    public let why: String

    public init(_ name: String, _ why: String) {
        self.name = name
        self.why = why
    }
}

/// The kernel options scenarios need, derived from their requirements: kselftest's `config`
/// fragment of the collection (`pteinspect scenario kconfig`, tools/install --kselftest), the
/// file kernel CI merges into the kernel's configuration (scripts/kconfig/merge_config.sh).
/// tools/kselftest-check checks that each is a `config NAME` of Debian's 6.1 and 6.12 trees.
public enum KernelOptions {
    /// What every scenario needs, whatever it requires.
    public static let always: [KernelOption] = [
        KernelOption("MODULES", "the pteinspect module (kernel/module/Kconfig)"),
        KernelOption("NET", "generic netlink, the module's protocol"),
        KernelOption("PROC_PAGE_MONITOR", "/proc/PID/pagemap, /proc/kpageflags, /proc/kpagecount, /proc/PID/clear_refs"),
        KernelOption("MEM_SOFT_DIRTY", "the soft-dirty bit of entries and pagemap (clear-refs soft-dirty)"),
        KernelOption("SHMEM", "shared page kinds (memfd, MAP_SHARED|MAP_ANONYMOUS)"),
        KernelOption("PRINTK", "/dev/kmsg: a kernel splat during a step is a CRASH, not a FAIL"),
    ]

    /// What `requirement` needs of the kernel's build (a requirement of the machine, such as
    /// root or zswap being off, needs nothing).
    public static func options(for requirement: Requirement) -> [KernelOption] {
        switch requirement {
        case .root, .fixtureDevice, .notUffdioMove, .zswapOff:
            return []
        case .guardRegions:
            // No option of its own: 7.3 mm/madvise.c madvise_behavior_valid() accepts
            // MADV_GUARD_INSTALL / MADV_GUARD_REMOVE unconditionally (PTE markers are always built
            // in since ca92ea3dc5a2, v6.2); a kernel before 6.13 has no guard regions at all.
            return []
        case .module:
            return [KernelOption("MODULES", "the pteinspect module (kernel/module/Kconfig)")]
        case .swap:
            return [KernelOption("SWAP", "swap scenarios (MADV_PAGEOUT, swap-in, swapoff)"),
                    KernelOption("ZRAM", "the swap device the collection sets up when none is active")]
        case .synchronousSwap:
            return [KernelOption("ZRAM", "zram swap: SWP_SYNCHRONOUS_IO (swap-in without the swap cache before 7.0, through it and freed at once from 7.0)")]
        case .userfaultfd, .uffdioMove, .uffdRwp:
            return [KernelOption("USERFAULTFD", "userfaultfd scenarios"),
                    KernelOption("PTE_MARKER_UFFD_WP", "uffd-wp on shmem: PTE markers")]
        case .thp:
            return [KernelOption("TRANSPARENT_HUGEPAGE", "THP and mTHP page kinds")]
        case .ksm:
            return [KernelOption("KSM", "KSM merge and unmerge")]
        }
    }

    /// Every option the scenarios need, `always` first, then by requirement, each once.
    public static func needed(by scenarios: [Scenario]) -> [KernelOption] {
        var seen = Set<String>()
        var options: [KernelOption] = []
        let required = scenarios.flatMap { $0.requirements + $0.steps.flatMap { $0.expectations.flatMap(\.requirements) } }
        for option in always + required.flatMap(options(for:)) where seen.insert(option.name).inserted {
            options.append(option)
        }
        return options
    }

    /// A config fragment: each option as `CONFIG_NAME=y` after a comment saying why.
    public static func fragment(_ options: [KernelOption]) -> String {
        options.map { "# \($0.why)\nCONFIG_\($0.name)=y\n" }.joined()
    }
}
