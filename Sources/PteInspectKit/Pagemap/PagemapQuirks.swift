import Glibc

/// Known kernel bugs in what the pagemap files report, each found by testing the kernel itself (a
/// probe), not by its version: a patched or newer kernel that fixed the bug is then read normally.
public struct PagemapQuirks: Equatable {
    /// /proc/kpageflags sets KPF_KSM (bit 21) for every anonymous page. Introduced by
    /// dee3d0bef2b0 ("proc: rewrite stable_page_flags()") in v6.10: stable_page_flags() tests
    /// `mapping & PAGE_MAPPING_KSM`, which is true whenever PAGE_MAPPING_ANON is set, since
    /// PAGE_MAPPING_KSM == PAGE_MAPPING_ANON | PAGE_MAPPING_MOVABLE (Debian 6.12.117 fs/proc/page.c
    /// L134-137, include/linux/page-flags.h L673-675). Fixed upstream by "fs/proc: fix KPF_KSM
    /// reported for all anonymous pages" (Jinjiang Tu, mm-hotfixes, July 2026, Cc stable); Debian's
    /// 6.12.117 does not have it (../shared/kernel/6.12-leads.md). On such a kernel the pagemap
    /// backend cannot tell a KSM page from any other anonymous page; the module can (it compares
    /// the mapping's low bits with PAGE_MAPPING_KSM as a whole).
    public var ksmOnEveryAnonPage: Bool

    public static let none = PagemapQuirks(ksmOnEveryAnonPage: false)

    /// What to tell a person about each quirk this kernel has.
    public var notes: [String] {
        ksmOnEveryAnonPage ? [
            "this kernel's /proc/kpageflags reports KPF_KSM for every anonymous page (a kernel bug from dee3d0bef2b0 " +
            "\"proc: rewrite stable_page_flags()\", v6.10; fixed by \"fs/proc: fix KPF_KSM reported for all anonymous " +
            "pages\"): pagemap's ksm bit is not compared and the pagemap backend cannot see PageKsm",
        ] : []
    }

    /// The quirks of the running kernel, probed once per process (needs the PFN, i.e. root;
    /// without it nothing can be read and no quirk is assumed).
    public static let current: PagemapQuirks = probe()

    /// One private anonymous page of this process, written and never MADV_MERGEABLE, so KSM
    /// cannot have merged it: if kpageflags calls it KSM, the kernel has the bug.
    static func probe() -> PagemapQuirks {
        let size = Int(SystemPage.size)
        guard let page = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), page != MAP_FAILED else {
            return .none
        }
        defer { munmap(page, size) }
        page.storeBytes(of: 0x5a, as: UInt8.self)
        guard let reader = try? PagemapReader(pid: getpid()),
              let entry = try? reader.entries(start: UInt64(UInt(bitPattern: page)), end: UInt64(UInt(bitPattern: page)) + UInt64(size)).first,
              entry.flag(.anon) == true, let ksm = entry.flag(.ksm) else {
            return .none
        }
        return PagemapQuirks(ksmOnEveryAnonPage: ksm)
    }
}
