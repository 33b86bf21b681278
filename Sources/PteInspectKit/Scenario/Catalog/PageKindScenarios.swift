import Glibc

enum PageKindScenarios {
    static let ksm: Scenario = {
        let a = PageRef("parent", "A"), b = PageRef("parent", "B")
        let ksmRun = "/sys/kernel/mm/ksm/run"
        return Scenario(
            name: "ksm", title: "KSM: identical pages merge into one write-protected KSM page, never exclusive; a write unshares",
            summary: """
            ksmd merges two identical pages of MADV_MERGEABLE VMAs: one of the original pages becomes the \
            KSM page, both PTEs map it write-protected and clean, PG_anon_exclusive is cleared \
            (write_protect_page) and folio->mapping becomes a stable node, not an anon_vma. A write always \
            copies from a KSM page, even by its last sharer. (ksmd is stopped before the writes, or it \
            would merge the identical copies straight back.)
            """,
            documents: ["003 (PageAnon and mapping)"], requirements: [.root, .ksm],
            watch: [a, b],
            steps: [
                Step("parent", .map("A", pages: 1)),
                Step("parent", .map("B", pages: 1)),
                Step("parent", .madvise(Loc("A"), pages: 1, .mergeable)),
                Step("parent", .madvise(Loc("B"), pages: 1, .mergeable), expect: [
                    Expectation("MADV_MERGEABLE sets VM_MERGEABLE", kernels: Kernels.always,
                                cite: Citation("mm/ksm.c", "ksm_madvise", "case MADV_MERGEABLE: *vm_flags |= VM_MERGEABLE"),
                                [a.has(.vmaFlag(.mergeable), true), b.has(.vmaFlag(.mergeable), true)]),
                ]),
                Step("parent", .write(Loc("A"))),
                Step("parent", .write(Loc("B")), label: "written"),
                Step("parent", .drain),
                Step("system", .setting(path: ksmRun, value: "1")),
                Step("system", .waitForKsm([a, b], seconds: 180), label: "merged", expect: [
                    Expectation("both addresses map one KSM page, one of the two originals", kernels: Kernels.always,
                                cite: Citation("mm/ksm.c", "try_to_merge_two_pages", "the page being scanned becomes the KSM page, the tree page is replaced (L1315)"),
                                [a.has(.ksm, true), b.has(.ksm, true), b.same(.pfn, as: a), .field(a, .pfn, .oneOf([a, b], at: "written")),
                                 a.has(.mapcount, 2), a.has(.anon, true)]),
                    Expectation("the KSM page is never anon-exclusive", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/ksm.c", "write_protect_page", "if (anon_exclusive && page_try_share_anon_rmap(page)) ... (L1024)"),
                                [a.has(.anonExclusive, false)]),
                    Expectation("both PTEs are write-protected and clean", kernels: Kernels.always,
                                cite: Citation("mm/ksm.c", "write_protect_page", "entry = pte_mkclean(pte_wrprotect(entry)); replace_page(): newpte = mk_pte(kpage, vma->vm_page_prot)"),
                                [a.has(.write, false), b.has(.write, false), a.has(.dirty, false), b.has(.dirty, false)]),
                ]),
                // ksmd would merge the copies straight back into the stable tree (same content):
                // stop it, merged pages stay merged (run=0, Documentation/admin-guide/mm/ksm.rst).
                Step("system", .setting(path: ksmRun, value: "0")),
                Step("parent", .write(Loc("A")), expect: [
                    Expectation("a write copies out of the KSM page into a new exclusive anon page", kernels: Kernels.wpReuse,
                                cite: Citation("mm/memory.c", "do_wp_page", "if (folio_test_ksm(folio) || folio_ref_count(folio) > 3) goto copy;"),
                                [a.differs(.pfn, from: b), a.has(.ksm, false), a.has(.anonExclusive, true), a.has(.write, true),
                                 b.has(.ksm, true), b.has(.mapcount, 1)]),
                ]),
                Step("parent", .write(Loc("B")), expect: [
                    Expectation("the last sharer's write still copies", kernels: Kernels.wpReuse,
                                cite: Citation("mm/memory.c", "do_wp_page", "KSM folios always go to copy, whatever the refcount"),
                                [b.differs(.pfn, at: "merged"), b.has(.ksm, false), b.has(.anonExclusive, true)]),
                ]),
            ])
    }()

    static let procMem: Scenario = {
        let never = PageRef("target", "R"), zero = PageRef("target", "R", 1), owned = PageRef("target", "R", 2)
        let file = PageRef("target", "F")
        let force = Citation("mm/gup.c", "can_follow_write_pte",
                             "in a !VM_WRITE private VMA only an exclusive anon page may be written (FOLL_FORCE); otherwise fault and retry (L506)",
                             document: "seed 000 (get_user_pages force)")
        return Scenario(
            name: "proc-mem-force", title: "FOLL_FORCE writes through /proc/PID/mem into a read-only private mapping",
            summary: """
            Seed 000 worried that get_user_pages(force) assumes one handle_mm_fault() breaks COW. On 6.1 \
            a forced write re-validates with can_follow_write_pte() after each fault and may only write an \
            exclusive anon page: an untouched page gets a fresh page (read-only, and not dirty: the VMA has \
            no VM_WRITE), the zero page is copied, and a page the target already owns exclusively is \
            written in place. A page of a private file mapping is COWed into an anon page indexed at \
            its file offset.
            """,
            documents: ["000 (get_user_pages force)"], requirements: [.root],
            actors: ["target", "debugger"],
            watch: [never, zero, owned, file],
            steps: [
                Step("target", .map("R", pages: 3)),
                Step("target", .mapFile("F", file: "data", pages: 1, .read, shared: false)),
                Step("target", .read(Loc("F")), label: "file-read", expect: [
                    Expectation("a read fault maps the page-cache page itself (not anon)", kernels: Kernels.always,
                                cite: Citation("mm/memory.c", "do_read_fault", "finish_fault() -> do_set_pte() maps the file page read-only"),
                                [file.has(.present, true), file.has(.anon, false), file.has(.write, false)]),
                ]),
                Step("target", .write(Loc("R", 2)), label: "owned"),
                Step("target", .mprotect(Loc("R"), pages: 3, .read)),
                Step("target", .read(Loc("R", 1)), label: "zero", expect: [
                    Expectation("the read maps the zero page", kernels: Kernels.special,
                                cite: Citation("mm/memory.c", "do_anonymous_page", "read fault -> my_zero_pfn"),
                                [zero.has(.zeroPage, true), owned.has(.write, false), owned.has(.anonExclusive, true)]),
                ]),
                Step("debugger", .memWrite(actor: "target", Loc("R")), expect: [
                    Expectation("an untouched page: a new exclusive page, read-only and not dirty", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/memory.c", "do_anonymous_page", "pte_mkwrite(pte_mkdirty(entry)) only if (vma->vm_flags & VM_WRITE) (L4207)",
                                               document: "seed 000"),
                                [never.has(.present, true), never.has(.anonExclusive, true), never.has(.write, false), never.has(.dirty, false),
                                 never.has(.softDirty, false), never.has(.indexIsLinear, true)]),
                ]),
                Step("debugger", .memWrite(actor: "target", Loc("R", 1)), expect: [
                    Expectation("the zero page is copied: a new exclusive page, dirty but not writable", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/memory.c", "wp_page_copy", "entry = maybe_mkwrite(pte_mkdirty(entry), vma): no VM_WRITE, no RW"),
                                [zero.differs(.pfn, at: "zero"), zero.has(.zeroPage, false), zero.has(.anonExclusive, true), zero.has(.write, false),
                                 zero.has(.dirty, true)]),
                ]),
                Step("debugger", .memWrite(actor: "target", Loc("R", 2)), expect: [
                    Expectation("the target's exclusive page is written in place: same PFN, PTE still read-only", kernels: Kernels.anonExclusive, cite: force,
                                [owned.same(.pfn, at: "owned"), owned.has(.write, false), owned.has(.anonExclusive, true)]),
                ]),
                Step("debugger", .memWrite(actor: "target", Loc("F")), expect: [
                    Expectation("a private file page is COWed into an exclusive anon page; the page cache keeps the original", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/memory.c", "do_wp_page", "not anon, not shared -> wp_page_copy() (L3511)"),
                                [file.differs(.pfn, at: "file-read"), file.has(.anon, true), file.has(.anonExclusive, true), file.has(.mapcount, 1)]),
                    Expectation("the copy is indexed at the file offset (linear), read-only and dirty, in a new anon_vma", kernels: Kernels.always,
                                cite: Citation("mm/memory.c", "wp_page_copy", "anon_vma_prepare(vma); page_add_new_anon_rmap(new_page, vma, vmf->address)"),
                                [file.has(.index, 0), file.has(.indexIsLinear, true), file.has(.write, false), file.has(.dirty, true), file.isSet(.vmaAnonVma)]),
                ]),
            ])
    }()

    static let pinFork: Scenario = {
        let p = PageRef("parent", "P"), c = PageRef("child", "P"), c2 = PageRef("child2", "P")
        return Scenario(
            name: "pin-fork", title: "A pinned exclusive page across fork: the child gets its own copy at fork time",
            summary: """
            A FOLL_PIN reference (here FOLL_WRITE|FOLL_LONGTERM through /dev/pteinspect) makes \
            page_try_dup_anon_rmap() refuse to share the page: copy_present_page() gives the child a \
            private copy at fork, and the parent's page stays writable and exclusive, so the DMA target \
            can never be COWed away from the pinning process. After unpinning, fork shares it again.
            """,
            requirements: [.root, .module, .fixtureDevice],
            watch: [p, c, c2],
            steps: [
                Step("parent", .map("P", pages: 1)),
                Step("parent", .write(Loc("P")), label: "written"),
                Step("parent", .drain),
                Step("parent", .pin(Loc("P"), pages: 1, write: true, longterm: true), expect: [
                    Expectation("the pin adds GUP_PIN_COUNTING_BIAS (1024) references; the PTE is unchanged", kernels: Kernels.pinBias,
                                cite: Citation("mm/gup.c", "try_grab_page", "folio_ref_add(folio, GUP_PIN_COUNTING_BIAS) for a small page (L219)"),
                                [p.has(.refcount, 1025), p.has(.mapcount, 1), p.has(.write, true), p.has(.anonExclusive, true)]),
                ]),
                Step("parent", .fork(child: "child"), expect: [
                    Expectation("the parent is untouched: same page, writable, exclusive, mapped once", kernels: Kernels.pinnedFork,
                                cite: Citation("include/linux/rmap.h", "page_try_dup_anon_rmap",
                                               "if (unlikely(page_needs_cow_for_dma(vma, page))) return -EBUSY; (L234)"),
                                [p.same(.pfn, at: "written"), p.has(.write, true), p.has(.anonExclusive, true), p.has(.mapcount, 1)]),
                    Expectation("the child already has its own exclusive copy", kernels: Kernels.pinnedFork,
                                cite: Citation("mm/memory.c", "copy_present_page", "pte = maybe_mkwrite(pte_mkdirty(pte), dst_vma); page_add_new_anon_rmap() (L911)"),
                                [c.differs(.pfn, from: p), c.has(.write, true), c.has(.dirty, true), c.has(.anonExclusive, true), c.has(.mapcount, 1),
                                 c.same(.pageAnonVma, as: c, .vmaAnonVma), c.differs(.vmaAnonVma, from: p)]),
                ]),
                Step("parent", .unpin(Loc("P"), pages: 1), expect: [
                    Expectation("unpinning drops the bias", kernels: Kernels.pinBias,
                                cite: Citation("mm/gup.c", "unpin_user_page", "gup_put_folio(folio, 1, FOLL_PIN)"),
                                [p.has(.refcount, 1)]),
                ]),
                Step("parent", .fork(child: "child2"), expect: [
                    Expectation("unpinned, the page is shared by fork as usual", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/memory.c", "copy_present_pte", "page_try_dup_anon_rmap() succeeds: PG_anon_exclusive cleared, PTE write-protected"),
                                [c2.same(.pfn, as: p), p.has(.anonExclusive, false), p.has(.write, false), p.has(.mapcount, 2)]),
                ]),
            ])
    }()

    static let pfnmap: Scenario = {
        let f = PageRef("parent", "F"), f1 = PageRef("parent", "F", 1), cf = PageRef("child", "F"), cf1 = PageRef("child", "F", 1)
        let g = PageRef("parent", "G")
        return Scenario(
            name: "pfnmap", title: "VM_PFNMAP from remap_pfn_range: special PTEs, vm_normal_page() NULL, vm_pgoff == PFN; a write COWs",
            summary: """
            Seed 002: a private remap_pfn_range() mapping of driver memory has no struct pages as far as \
            the VM is concerned. The VMA gets VM_PFNMAP|VM_IO and vm_pgoff = the first PFN, the PTEs are \
            special and vm_normal_page() returns NULL. A write COWs into an ordinary anonymous page \
            (vm_normal_page() returns it), indexed at vm_pgoff + offset, i.e. the original PFN, which no \
            longer matches the PTE: that mismatch is how the pre-pte_special rule tells a COWed page from \
            the raw mapping. Fork copies the PTEs; /proc/PID/mem refuses the VMA.
            """,
            documents: ["002 (VM_PFNMAP and vm_normal_page)"], requirements: [.root, .module, .fixtureDevice],
            watch: [f, f1, cf, cf1, g],
            steps: [
                Step("parent", .mapFixture("F", pages: 2, shared: false), label: "mapped", expect: [
                    Expectation("the VMA is VM_PFNMAP|VM_IO|VM_DONTEXPAND with vm_pgoff = the first PFN, no anon_vma", kernels: Kernels.always,
                                cite: Citation("mm/memory.c", "remap_pfn_range_internal",
                                               "if (is_cow_mapping(vma->vm_flags)) { ... vma->vm_pgoff = pfn; } (L2515); vma->vm_flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP",
                                               document: "seed 002"),
                                [f.has(.vmaFlag(.pfnmap), true), f.has(.vmaFlag(.io), true), f.has(.vmaFlag(.dontexpand), true),
                                 f.same(.vmaPgoff, as: f, .pfn), f.absent(.vmaAnonVma)]),
                    Expectation("the PTEs are special, read-only (private), linear; vm_normal_page() is NULL", kernels: Kernels.special,
                                cite: Citation("mm/memory.c", "vm_normal_page",
                                               "if (likely(!pte_special(pte))) goto check_pfn; if (vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) return NULL; (L612-625)",
                                               document: "seed 002"),
                                [f.has(.special, true), f.has(.normalPage, false), f.has(.write, false), f.has(.pfnLinear, true),
                                 f1.has(.special, true), f1.has(.pfnLinear, true)]),
                ]),
                Step("parent", .write(Loc("F", 1)), expect: [
                    Expectation("the write COWs into an ordinary exclusive anon page that vm_normal_page() returns", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/memory.c", "do_wp_page", "vmf->page = vm_normal_page(...); if (!vmf->page) ... return wp_page_copy(vmf); (L3428)",
                                               document: "seed 002"),
                                [f1.differs(.pfn, at: "mapped"), f1.has(.special, false), f1.has(.normalPage, true), f1.has(.anon, true),
                                 f1.has(.anonExclusive, true), f1.has(.write, true), f1.has(.dirty, true), f1.isSet(.vmaAnonVma)]),
                    Expectation("its index is linear: vm_pgoff + 1, the PFN it replaced; the PFN is no longer linear", kernels: Kernels.always,
                                cite: Citation("mm/memory.c", "vm_normal_page",
                                               "!ARCH_HAS_PTE_SPECIAL branch: if (pfn == vma->vm_pgoff + off) return NULL; if (!is_cow_mapping()) return NULL; (the COWed page is not linear)",
                                               document: "seed 002"),
                                [f1.has(.indexIsLinear, true), f1.same(.index, as: f1, .pfn, at: "mapped"), f1.has(.pfnLinear, false),
                                 f.has(.special, true)]),
                ]),
                Step("parent", .fork(child: "child"), expect: [
                    Expectation("fork copies the PFN map's PTEs (old, special) and shares the COWed page", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/memory.c", "vma_needs_copy", "if (src_vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) return true; (L1262)"),
                                [cf.same(.pfn, as: f), cf.has(.special, true), cf.has(.young, false), cf1.same(.pfn, as: f1), f1.has(.mapcount, 2),
                                 f1.has(.anonExclusive, false), f1.has(.write, false)]),
                ]),
                Step("parent", .memRead(actor: "parent", Loc("F")), expect: [
                    Expectation("/proc/PID/mem refuses a VM_PFNMAP VMA (no vm_ops->access): EIO", kernels: Kernels.always,
                                cite: Citation("mm/gup.c", "check_vma_flags", "if (vm_flags & (VM_IO | VM_PFNMAP)) return -EFAULT; -> EIO from __access_remote_vm()"),
                                [.outcome(.fails(.EIO))]),
                ]),
                Step("parent", .mapFixture("G", pages: 1, shared: true), expect: [
                    Expectation("a shared PFN map keeps vm_pgoff at the file offset (0) and maps writable special PTEs", kernels: Kernels.always,
                                cite: Citation("mm/memory.c", "remap_pfn_range_internal", "vm_pgoff = pfn only if is_cow_mapping() (L2515)", document: "seed 002"),
                                [g.has(.vmaPgoff, 0), g.has(.special, true), g.has(.write, true), g.has(.normalPage, false)]),
                ]),
            ])
    }()

    static let thp: Scenario = {
        let h = PageRef("parent", "H"), ch = PageRef("child", "H")
        return Scenario(
            name: "thp", title: "A PMD-mapped anonymous THP: exclusive, shared by fork, split by a 4 KiB COW",
            summary: """
            A write in a 2 MiB-aligned MADV_HUGEPAGE range maps a THP with one PMD: exclusive (the flag \
            lives on the head page), linear. Fork shares the whole PMD read-only and clears the flag. A \
            4 KiB write then splits that process's PMD and copies only 4 KiB (the other process keeps its \
            PMD until it writes too).
            """,
            requirements: [.root, .thp],
            watch: [h, ch],
            steps: [
                Step("parent", .mapTHP("H")),
                Step("parent", .write(Loc("H")), label: "written", expect: [
                    Expectation("the first write maps a PMD THP, exclusive and linear", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/huge_memory.c", "__do_huge_pmd_anonymous_page",
                                               "entry = maybe_pmd_mkwrite(pmd_mkdirty(entry), vma); page_add_new_anon_rmap(page, vma, haddr); (L724)"),
                                [h.has(.level, "pmd"), h.has(.large, true), h.has(.write, true), h.has(.dirty, true), h.has(.anonExclusive, true),
                                 h.has(.mapcount, 1), h.has(.indexIsLinear, true), h.same(.index, as: h, .virtualPage)]),
                ]),
                Step("parent", .fork(child: "child"), expect: [
                    Expectation("fork shares the PMD read-only and clears PG_anon_exclusive on the head", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/huge_memory.c", "copy_huge_pmd",
                                               "page_try_dup_anon_rmap(src_page, true, src_vma); pmdp_set_wrprotect(); pmd = pmd_mkold(pmd_wrprotect(pmd)) (L1094)"),
                                [h.has(.level, "pmd"), ch.has(.level, "pmd"), ch.same(.pfn, as: h), h.has(.write, false), ch.has(.write, false),
                                 ch.has(.young, false), h.has(.anonExclusive, false), h.has(.mapcount, 2)]),
                ]),
                Step("child", .write(Loc("H")), expect: [
                    Expectation("the child's 4 KiB write splits its PMD and copies one page; the parent keeps its PMD", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/huge_memory.c", "do_huge_pmd_wp_page",
                                               "folio_ref_count(folio) > 1 -> unlock_fallback: __split_huge_pmd(); then do_wp_page() copies 4 KiB"),
                                [ch.has(.level, "pte"), ch.differs(.pfn, from: h), ch.has(.anonExclusive, true), ch.has(.large, false),
                                 h.has(.level, "pmd")]),
                ]),
                Step("parent", .write(Loc("H")), expect: [
                    Expectation("the parent's write splits its PMD too and copies 4 KiB (subpages are still mapped by the child)", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/huge_memory.c", "do_huge_pmd_wp_page", "split, then do_wp_page(): not exclusive, refcount > 1 -> copy"),
                                [h.has(.level, "pte"), h.differs(.pfn, at: "written"), h.has(.anonExclusive, true), h.has(.write, true)]),
                ]),
            ])
    }()

    static let thpPageout: Scenario = {
        let h = PageRef("parent", "H"), last = PageRef("parent", "H", 511)
        return Scenario(
            name: "thp-pageout", title: "MADV_PAGEOUT of an exclusive PMD-mapped THP: 512 exclusive swap PTEs",
            summary: """
            What MADV_PAGEOUT does to a whole exclusive THP on 6.1: reclaim splits the PMD \
            (TTU_SPLIT_HUGE_PMD, which hands PG_anon_exclusive to every subpage) and unmaps each 4 KiB \
            into a swap PTE with the exclusive bit; 6.1 has no anonymous swap PMD. Swapped out whole or \
            split first, every entry ends up an exclusive swap PTE.
            """,
            documents: ["001 (swap PTE exclusive bit)"], requirements: [.root, .thp, .swap],
            watch: [h, last],
            steps: [
                Step("parent", .mapTHP("H")),
                Step("parent", .write(Loc("H")), expect: [
                    Expectation("the write maps a PMD THP", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/huge_memory.c", "__do_huge_pmd_anonymous_page", "page_add_new_anon_rmap(page, vma, haddr)"),
                                [h.has(.level, "pmd"), h.has(.anonExclusive, true)]),
                ]),
                Step("parent", .madvise(Loc("H"), pages: 512, .pageout), expect: [
                    Expectation("every 4 KiB of the THP is now an exclusive swap PTE", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/madvise.c", "madvise_cold_or_pageout_pte_range",
                                               "PMD THP with page_mapcount() == 1 -> reclaim; try_to_unmap(TTU_SPLIT_HUGE_PMD) -> try_to_unmap_one() per subpage (L338-390)",
                                               document: "seed 001"),
                                [h.has(.level, "pte"), h.has(.swapped, true), h.has(.swapExclusive, true), last.has(.swapped, true),
                                 last.has(.swapExclusive, true)]),
                ]),
            ])
    }()
}
