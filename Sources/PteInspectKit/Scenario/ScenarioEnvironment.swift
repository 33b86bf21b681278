import CPteInspect
import Foundation
import Glibc

/// What the machine offers the scenarios, probed once: checked against each scenario's
/// requirements before it runs, so an unmet one is a SKIP with a reason a person can act on.
public struct ScenarioEnvironment {
    public var kernelRelease: String
    public var kernel: KernelVersion? { KernelVersion(release: kernelRelease) }
    public var isRoot: Bool
    public var module: ModuleInfo?
    public var fixtureDevice: Bool
    /// Active swap devices (/proc/swaps), highest priority first.
    public var swapDevices: [String]
    /// The bracketed value of /sys/kernel/mm/transparent_hugepage/enabled.
    public var thpMode: String?
    public var ksm: Bool
    /// nil when userfaultfd works; otherwise why not.
    public var userfaultfdProblem: String?
    public var uffdioMove: Bool
    /// /sys/module/zswap/parameters/enabled (nil: no zswap in this kernel).
    public var zswapEnabled: Bool?
    /// What madvise(MADV_GUARD_INSTALL) on an anonymous page of this process returned: nil when
    /// the kernel accepted it, else its errno (EINVAL: no guard regions, a kernel before 6.13).
    public var guardInstallErrno: Int32?
    /// UFFDIO_API granted UFFD_FEATURE_RWP and UFFD_FEATURE_RWP_ASYNC.
    public var uffdRwp: Bool

    public init(kernelRelease: String, isRoot: Bool, module: ModuleInfo?, fixtureDevice: Bool, swapDevices: [String],
                thpMode: String?, ksm: Bool, userfaultfdProblem: String?, uffdioMove: Bool, zswapEnabled: Bool? = nil,
                guardInstallErrno: Int32? = EINVAL, uffdRwp: Bool = false) {
        self.kernelRelease = kernelRelease
        self.isRoot = isRoot
        self.module = module
        self.fixtureDevice = fixtureDevice
        self.swapDevices = swapDevices
        self.thpMode = thpMode
        self.ksm = ksm
        self.userfaultfdProblem = userfaultfdProblem
        self.uffdioMove = uffdioMove
        self.zswapEnabled = zswapEnabled
        self.guardInstallErrno = guardInstallErrno
        self.uffdRwp = uffdRwp
    }

    /// Guard regions, probed for real: one anonymous page mapped here, madvise(MADV_GUARD_INSTALL)
    /// on it, unmapped again. A kernel before 6.13 does not know the advice (mm/madvise.c
    /// madvise_behavior_valid()) and fails it with EINVAL. nil: accepted; else the errno.
    static func probeGuardInstall() -> Int32? {
        let size = Int(SystemPage.size)
        guard let page = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), page != MAP_FAILED else {
            return errno
        }
        defer { munmap(page, size) }
        return madvise(page, size, Advice.guardInstall.value) == 0 ? nil : errno
    }

    public static func probe(module: ModuleInfo?) -> ScenarioEnvironment {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let swaps = (try? String(contentsOfFile: "/proc/swaps", encoding: .utf8)) ?? ""
        let devices = swaps.split(separator: "\n").dropFirst().compactMap { line -> (String, Int)? in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 5, let priority = Int(fields[4]) else { return nil }
            return (String(fields[0]), priority)
        }.sorted { $0.1 > $1.1 }.map(\.0)
        let thp = (try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8))
            .flatMap { text -> String? in
                guard let open = text.firstIndex(of: "["), let close = text.firstIndex(of: "]") else { return nil }
                return String(text[text.index(after: open)..<close])
            }
        var features: UInt64 = 0, ioctls: UInt64 = 0
        var problem: String?
        let plain = pti_uffd_open(0, &features, &ioctls)
        if plain >= 0 {
            close(plain)
        } else {
            problem = "userfaultfd() failed: \(ErrnoName(code: errno).message)"
                + (errno == EPERM ? " (run as root, or sysctl vm.unprivileged_userfaultfd=1)" : "")
                + (errno == ENOSYS ? " (kernel built without CONFIG_USERFAULTFD)" : "")
        }
        // A feature the kernel lacks fails UFFDIO_API with EINVAL (fs/userfaultfd.c, 7.3
        // mm/userfaultfd.c userfaultfd_api()): each is asked for on a context of its own.
        func granted(_ wanted: UInt64) -> Bool {
            guard problem == nil else { return false }
            let fd = pti_uffd_open(wanted, &features, &ioctls)
            guard fd >= 0 else { return false }
            close(fd)
            return features & wanted == wanted
        }
        let move = granted(UInt64(PTI_UFFD_FEATURE_MOVE))
        let rwp = granted(UInt64(PTI_UFFD_FEATURE_RWP) | UInt64(PTI_UFFD_FEATURE_RWP_ASYNC))
        let zswap = (try? String(contentsOfFile: "/sys/module/zswap/parameters/enabled", encoding: .utf8))
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) == "Y" }
        return ScenarioEnvironment(
            kernelRelease: release, isRoot: geteuid() == 0, module: module,
            fixtureDevice: access("/dev/pteinspect", F_OK) == 0, swapDevices: devices, thpMode: thp,
            ksm: access("/sys/kernel/mm/ksm/run", W_OK) == 0, userfaultfdProblem: problem, uffdioMove: move,
            zswapEnabled: zswap, guardInstallErrno: probeGuardInstall(), uffdRwp: rwp)
    }

    /// Why `requirement` is not met here, or nil.
    public func unmet(_ requirement: Requirement) -> String? {
        switch requirement {
        case .root:
            return isRoot ? nil : "needs root (PFNs, /proc/kpageflags and the module need CAP_SYS_ADMIN): run with sudo"
        case .module:
            return module != nil ? nil : "needs the pteinspect module (fields pagemap cannot show): load kmod/pteinspect.ko or run `tools/run`"
        case .fixtureDevice:
            return fixtureDevice ? nil : "needs /dev/pteinspect, the module's fixture device: load kmod/pteinspect.ko"
        case .swap:
            return swapDevices.isEmpty ? "needs an active swap device and there is none: tools/vm sets up zram; elsewhere e.g. "
                + "`modprobe zram; echo 512M > /sys/block/zram0/disksize; mkswap /dev/zram0; swapon /dev/zram0`" : nil
        case .userfaultfd:
            return userfaultfdProblem
        case .thp:
            guard let thpMode else { return "needs transparent hugepages (no /sys/kernel/mm/transparent_hugepage)" }
            return thpMode == "never" ? "needs transparent hugepages: echo madvise > /sys/kernel/mm/transparent_hugepage/enabled" : nil
        case .ksm:
            return ksm ? nil : "needs KSM (/sys/kernel/mm/ksm/run missing or not writable: CONFIG_KSM, root)"
        case .uffdioMove:
            if let userfaultfdProblem { return userfaultfdProblem }
            return uffdioMove ? nil : "UFFDIO_MOVE is not in this kernel (\(kernelRelease)): UFFDIO_API refuses UFFD_FEATURE_MOVE "
                + "(added in 6.8, \"userfaultfd: UFFDIO_MOVE uABI\")"
        case .notUffdioMove:
            if let userfaultfdProblem { return userfaultfdProblem }
            return uffdioMove ? "this kernel (\(kernelRelease)) has UFFDIO_MOVE; this scenario shows its absence" : nil
        case .synchronousSwap:
            // zram sets SWP_SYNCHRONOUS_IO (its bdev is synchronous): do_swap_page() then reads a
            // page with swap count 1 straight into a new folio, without the swap cache.
            guard let device = swapDevices.first else { return unmet(.swap) }
            return device.hasPrefix("/dev/zram") ? nil
                : "holds for a zram swap device (SWP_SYNCHRONOUS_IO: swap-in without the swap cache before 7.0, its swap cache freed at once from 7.0); the swap in use here is \(device)"
        case .guardRegions:
            guard let error = guardInstallErrno else { return nil }
            if error == EINVAL {
                return "this kernel has no guard regions: MADV_GUARD_INSTALL came in v6.13 (662df3e5c376); "
                    + "madvise(MADV_GUARD_INSTALL) on an anonymous page failed with EINVAL here (\(kernelRelease))"
            }
            return "madvise(MADV_GUARD_INSTALL) on an anonymous page failed with \(ErrnoName(code: error).name) (\(ErrnoName(code: error).message))"
        case .uffdRwp:
            if let userfaultfdProblem { return userfaultfdProblem }
            return uffdRwp ? nil : "this kernel (\(kernelRelease)) has no userfaultfd read-write protection: UFFDIO_API refuses "
                + "UFFD_FEATURE_RWP (added in 7.3 with UFFDIO_REGISTER_MODE_RWP and UFFDIO_RWPROTECT)"
        case .zswapOff:
            return zswapEnabled == true
                ? "zswap is enabled (/sys/module/zswap/parameters/enabled): once it has been, a large folio is swapped in as order-0 pages (zswap_never_enabled(), 6.12 mm/memory.c alloc_swap_folio())"
                : nil
        }
    }
}
