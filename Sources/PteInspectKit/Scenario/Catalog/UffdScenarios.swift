import Glibc

enum UffdScenarios {
    static let basics: Scenario = {
        let u = PageRef("parent", "U"), w = PageRef("parent", "U", 1), z = PageRef("parent", "U", 2)
        return Scenario(
            name: "userfaultfd", title: "userfaultfd: COPY and ZEROPAGE install pages; WRITEPROTECT survives swap-out",
            summary: """
            UFFDIO_COPY installs a new exclusive anon page (dirty, writable unless MODE_WP); a second \
            COPY onto it is EEXIST. UFFDIO_ZEROPAGE maps the zero page but, unlike a read fault, \
            prepares the VMA's anon_vma. UFFDIO_WRITEPROTECT sets the PTE's uffd-wp bit; MADV_PAGEOUT \
            carries it into the swap PTE and the swap-in brings it back (seed 001's bits next to the \
            exclusive one). Resolving the protection leaves the PTE read-only on 6.1; the next write \
            reuses the page. MINOR mode is refused on anonymous memory.
            """,
            documents: ["004 (userfaultfd)", "001 (swap PTE bits)"], requirements: [.root, .userfaultfd, .swap],
            watch: [u, w, z],
            steps: [
                Step("parent", .map("U", pages: 3)),
                Step("parent", .map("M", pages: 1)),
                Step("parent", .uffdOpen(move: false)),
                Step("parent", .uffdRegister(Loc("U"), pages: 3, modes: [.missing, .wp]), expect: [
                    Expectation("registration sets VM_UFFD_MISSING and VM_UFFD_WP on the VMA", kernels: Kernels.always,
                                cite: Citation("fs/userfaultfd.c", "userfaultfd_register", "new_flags = (vma->vm_flags & ~__VM_UFFD_FLAGS) | vm_flags"),
                                [u.has(.vmaFlag(.uffdMissing), true), u.has(.vmaFlag(.uffdWp), true)]),
                ]),
                Step("parent", .uffdCopy(Loc("U"), pages: 1, writeProtect: false), label: "copied", expect: [
                    Common.newExclusive(u, "UFFDIO_COPY installs a new exclusive anon page",
                                        cite: Citation("mm/userfaultfd.c", "mfill_atomic_install_pte", "page_add_new_anon_rmap(page, dst_vma, dst_addr) (L58)")),
                    Common.newAnonRmapState(u),
                    Expectation("the PTE is dirty and writable, without uffd-wp", kernels: Kernels.always,
                                cite: Citation("mm/userfaultfd.c", "mfill_atomic_install_pte", "_dst_pte = pte_mkdirty(_dst_pte); if (writable) _dst_pte = pte_mkwrite(_dst_pte);"),
                                [u.has(.write, true), u.has(.dirty, true), u.has(.uffdWP, false)]),
                ]),
                Step("parent", .uffdCopy(Loc("U"), pages: 1, writeProtect: false), expect: [
                    Expectation("UFFDIO_COPY onto a populated PTE is EEXIST", kernels: Kernels.always,
                                cite: Citation("mm/userfaultfd.c", "mfill_atomic_install_pte", "if (!pte_none_mostly(*dst_pte)) goto out_unlock; (ret = -EEXIST, L113)"),
                                [.outcome(.fails(.EEXIST)), u.same(.pfn, at: "copied")]),
                ]),
                Step("parent", .uffdCopy(Loc("U", 1), pages: 1, writeProtect: true), expect: [
                    Expectation("UFFDIO_COPY with MODE_WP installs a write-protected page with uffd-wp", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/userfaultfd.c", "mfill_atomic_install_pte", "if (wp_copy) { _dst_pte = pte_mkuffd_wp(_dst_pte); writable = false; } (L81)"),
                                [w.has(.present, true), w.has(.write, false), w.has(.dirty, true), w.has(.uffdWP, true), w.has(.anonExclusive, true)]),
                ]),
                Step("parent", .uffdZeropage(Loc("U", 2), pages: 1), expect: [
                    Expectation("UFFDIO_ZEROPAGE maps the zero page (special, vm_normal_page() NULL)", kernels: Kernels.special,
                                cite: Citation("mm/userfaultfd.c", "mfill_zeropage_pte", "pte_mkspecial(pfn_pte(my_zero_pfn(dst_addr), dst_vma->vm_page_prot)) (L219)"),
                                [z.has(.zeroPage, true), z.has(.special, true), z.has(.normalPage, false), z.has(.write, false)]),
                    Expectation("the VMA has an anon_vma (prepared before the copy loop), which a read fault would not allocate", kernels: Kernels.always,
                                cite: Citation("mm/userfaultfd.c", "__mcopy_atomic", "if (!(dst_vma->vm_flags & VM_SHARED) && unlikely(anon_vma_prepare(dst_vma))) (L630)"),
                                [z.isSet(.vmaAnonVma)]),
                ]),
                Step("parent", .uffdWriteProtect(Loc("U"), pages: 1, on: true), expect: [
                    Expectation("UFFDIO_WRITEPROTECT sets uffd-wp and clears write; the page stays the same and exclusive", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/mprotect.c", "change_pte_range", "if (uffd_wp) { ptent = pte_wrprotect(ptent); ptent = pte_mkuffd_wp(ptent); } (L177)"),
                                [u.has(.uffdWP, true), u.has(.write, false), u.same(.pfn, at: "copied"), u.has(.anonExclusive, true)]),
                ]),
                Step("parent", .madvise(Loc("U"), pages: 1, .pageout), expect: [
                    Expectation("MADV_PAGEOUT keeps uffd-wp in the swap PTE, next to the exclusive bit", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/rmap.c", "try_to_unmap_one", "if (pte_uffd_wp(pteval)) swp_pte = pte_swp_mkuffd_wp(swp_pte);", document: "seed 001"),
                                [u.has(.swapped, true), u.has(.uffdWP, true), u.has(.swapExclusive, true)]),
                ]),
                Step("parent", .read(Loc("U")), label: "read-in", expect: [
                    Expectation("the read swap-in restores uffd-wp, read-only, exclusive", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/memory.c", "do_swap_page", "if (pte_swp_uffd_wp(vmf->orig_pte)) { pte = pte_mkuffd_wp(pte); pte = pte_wrprotect(pte); } (L4064)"),
                                [u.has(.present, true), u.has(.uffdWP, true), u.has(.write, false), u.has(.anonExclusive, true)]),
                ]),
                Step("parent", .uffdWriteProtect(Loc("U"), pages: 1, on: false), expect: [
                    Expectation("resolving clears uffd-wp; before 6.3 the PTE stays read-only", kernels: Kernels.uffdResolveReadOnly,
                                cite: Citation("mm/userfaultfd.c", "uffd_wp_range", "MM_CP_UFFD_WP_RESOLVE only, newprot = vm_get_page_prot() = PAGE_COPY (6.1.192 L738)"),
                                [u.has(.uffdWP, false), u.has(.write, false)]),
                    Expectation("resolving clears uffd-wp and makes the exclusive anon PTE writable at once", kernels: Kernels.uffdResolveWritable,
                                cite: Citation("mm/mprotect.c", "change_pte_range",
                                               "uffd_wp_range() adds MM_CP_TRY_CHANGE_WRITABLE on resolve (6.12.117 mm/userfaultfd.c L918-925); can_change_pte_writable(): private, PageAnonExclusive -> pte_mkwrite() (6.12.117 L43-66, L190-193)"),
                                [u.has(.uffdWP, false), u.has(.write, true), u.has(.anonExclusive, true), u.same(.pfn, at: "read-in")]),
                ]),
                Step("parent", .write(Loc("U")), expect: [
                    Expectation("the write reuses the exclusive page", kernels: Kernels.wpReuse,
                                cite: Citation("mm/memory.c", "do_wp_page", "if (PageAnonExclusive(vmf->page)) goto reuse;"),
                                [u.same(.pfn, at: "read-in"), u.has(.write, true), u.has(.dirty, true)]),
                ]),
                Step("parent", .uffdRegister(Loc("M"), pages: 1, modes: [.minor]), expect: [
                    Expectation("MINOR mode is refused on anonymous memory (shmem and hugetlb only)", kernels: Kernels.always,
                                cite: Citation("include/linux/userfaultfd_k.h", "vma_can_userfault", "VM_UFFD_MINOR needs is_vm_hugetlb_page(vma) || vma_is_shmem(vma) (L146)"),
                                [.outcome(.fails(.EINVAL))]),
                ]),
            ])
    }()

    static let minorContinue: Scenario = {
        let a = PageRef("parent", "A"), b = PageRef("parent", "B")
        let continueKernels = KernelRange(from: KernelVersion(5, 14), basis: "MINOR faults / UFFDIO_CONTINUE for shmem, 5.14")
        return Scenario(
            name: "uffd-minor-continue", title: "userfaultfd MINOR + UFFDIO_CONTINUE: map a page that is already in the page cache",
            summary: """
            Two shared mappings of one shmem file. A write through B puts a page in the page cache; A is \
            registered for MINOR faults, and UFFDIO_CONTINUE maps that same page into A: not anonymous, \
            the same PFN, mapped twice, writable because the mapping is shared. A second CONTINUE finds \
            the PTE populated: EEXIST.
            """,
            documents: ["004 (userfaultfd)"], requirements: [.root, .userfaultfd],
            watch: [a, b],
            steps: [
                Step("parent", .mapFile("B", file: "shm", pages: 1, shared: true)),
                Step("parent", .mapFile("A", file: "shm", pages: 1, shared: true)),
                Step("parent", .write(Loc("B")), expect: [
                    Expectation("the write allocates a shmem page-cache page", kernels: Kernels.always,
                                cite: Citation("mm/shmem.c", "shmem_fault", "shmem_get_folio_gfp(SGP_CACHE) allocates and adds it to the page cache"),
                                [b.has(.present, true), b.has(.anon, false), a.has(.mapped, false)]),
                ]),
                Step("parent", .uffdOpen(move: false)),
                Step("parent", .uffdRegister(Loc("A"), pages: 1, modes: [.minor]), expect: [
                    Expectation("MINOR registration is accepted on shmem and sets VM_UFFD_MINOR", kernels: continueKernels,
                                cite: Citation("include/linux/userfaultfd_k.h", "vma_can_userfault", "VM_UFFD_MINOR: is_vm_hugetlb_page(vma) || vma_is_shmem(vma)"),
                                [a.has(.vmaFlag(.uffdMinor), true)]),
                ]),
                Step("parent", .uffdContinue(Loc("A"), pages: 1), expect: [
                    Expectation("CONTINUE maps the page-cache page itself: same PFN, not anon, mapped twice", kernels: continueKernels,
                                cite: Citation("mm/userfaultfd.c", "mcontinue_atomic_pte", "shmem_get_folio(inode, pgoff, &folio, SGP_NOALLOC) -> mfill_atomic_install_pte(..., page, false, wp_copy)"),
                                [a.same(.pfn, as: b), a.has(.anon, false), a.has(.mapcount, 2)]),
                    Expectation("in a shared mapping it is mapped writable and dirty", kernels: continueKernels,
                                cite: Citation("mm/userfaultfd.c", "mfill_atomic_install_pte", "pte_mkdirty(); if (page_in_cache && !vm_shared) writable = false; (L58-90)"),
                                [a.has(.write, true), a.has(.dirty, true)]),
                ]),
                Step("parent", .uffdContinue(Loc("A"), pages: 1), expect: [
                    Expectation("a second CONTINUE onto the populated PTE is EEXIST", kernels: continueKernels,
                                cite: Citation("mm/userfaultfd.c", "mfill_atomic_install_pte", "if (!pte_none_mostly(*dst_pte)) goto out_unlock; (-EEXIST)"),
                                [.outcome(.fails(.EEXIST))]),
                ]),
            ])
    }()

    static let wpMarker: Scenario = {
        let m = PageRef("parent", "M")
        let markerKernels = KernelRange(from: KernelVersion(5, 19), basis: "PTE markers and PTE_MARKER_UFFD_WP (uffd-wp on shmem), 5.19")
        return Scenario(
            name: "uffd-wp-marker", title: "uffd-wp on shmem survives a zap as a PTE marker, and the fault on it maps the page write-protected",
            summary: """
            On a file-backed (shmem) VMA a write-protected PTE cannot become a swap entry that remembers \
            uffd-wp the way anonymous memory does, so when MADV_DONTNEED zaps it the kernel leaves a PTE \
            marker (PTE_MARKER_UFFD_WP) in the empty slot. The next fault finds the marker and maps the \
            page-cache page again with uffd-wp set and write cleared: the protection outlived the mapping.
            """,
            documents: ["004 (userfaultfd)"], requirements: [.root, .userfaultfd],
            watch: [m],
            steps: [
                Step("parent", .mapFile("M", file: "wp", pages: 1, shared: true)),
                Step("parent", .write(Loc("M")), label: "written"),
                Step("parent", .uffdOpen(move: false)),
                Step("parent", .uffdRegister(Loc("M"), pages: 1, modes: [.wp]), expect: [
                    Expectation("WP registration is accepted on shmem and sets VM_UFFD_WP", kernels: markerKernels,
                                cite: Citation("include/linux/userfaultfd_k.h", "vma_can_userfault", "VM_UFFD_WP on shmem needs CONFIG_PTE_MARKER_UFFD_WP"),
                                [m.has(.vmaFlag(.uffdWp), true)]),
                ]),
                Step("parent", .uffdWriteProtect(Loc("M"), pages: 1, on: true), expect: [
                    Expectation("the present shmem PTE gets uffd-wp and loses write", kernels: markerKernels,
                                cite: Citation("mm/mprotect.c", "change_pte_range", "if (uffd_wp) { ptent = pte_wrprotect(ptent); ptent = pte_mkuffd_wp(ptent); }"),
                                [m.has(.present, true), m.has(.uffdWP, true), m.has(.write, false), m.same(.pfn, at: "written")]),
                ]),
                Step("parent", .madvise(Loc("M"), pages: 1, .dontneed), expect: [
                    Expectation("the zap leaves a uffd-wp PTE marker, not an empty PTE", kernels: markerKernels,
                                cite: Citation("include/linux/mm_inline.h", "pte_install_uffd_wp_if_needed",
                                               "!vma_is_anonymous(vma) && userfaultfd_wp(vma) && pte_uffd_wp(pteval): set_pte_at(make_pte_marker(PTE_MARKER_UFFD_WP)) (6.1.192 L557-583, 6.12.117 L560; from zap_install_uffd_wp_if_needed(), mm/memory.c 6.1.192 L1387, 6.12.117 L1463)"),
                                [m.has(.mapped, true), m.has(.present, false), m.has(.swapped, false), m.has(.pteMarker, set: ["uffd_wp"])]),
                ]),
                Step("parent", .read(Loc("M")), expect: [
                    Expectation("the read fault on the marker maps the page-cache page again, uffd-wp and read-only", kernels: markerKernels,
                                cite: Citation("mm/memory.c", "handle_pte_marker",
                                               "pte_marker_handle_uffd_wp() -> do_pte_missing(); the new PTE gets pte_mkuffd_wp() because the orig PTE was the marker (6.1.192 do_set_pte() L4399-4415, 6.12.117 set_pte_range() L5015-5034)"),
                                [m.has(.present, true), m.has(.uffdWP, true), m.has(.write, false), m.same(.pfn, at: "written"), m.absent(.pteMarker)]),
                ]),
            ])
    }()

    static let move: Scenario = {
        let s = PageRef("parent", "S"), d = PageRef("parent", "D"), t = PageRef("parent", "T"), e = PageRef("parent", "E")
        return Scenario(
            name: "uffdio-move", title: "UFFDIO_MOVE: the page keeps its PFN, mapping and index are rewritten; a shared page is refused",
            summary: """
            Seed 004 (remap_anon_pages, today's UFFDIO_MOVE): moving an exclusive anon page rewrites \
            folio->mapping to the destination VMA's anon_vma and folio->index to the destination's \
            linear index, keeping the PFN and PG_anon_exclusive. A page shared with a forked child would \
            need two rmap entries rewritten and is refused with EBUSY. (A swap entry whose folio is in the \
            swapcache: uffdio-move-swapcache.)
            """,
            documents: ["004 (remap_anon_pages, UFFDIO_MOVE)"], requirements: [.root, .userfaultfd, .uffdioMove],
            watch: [s, d, t, e],
            steps: [
                Step("parent", .map("S", pages: 1)),
                Step("parent", .map("D", pages: 1)),
                Step("parent", .write(Loc("S")), label: "before"),
                Step("parent", .drain),
                Step("parent", .uffdOpen(move: true)),
                Step("parent", .uffdRegister(Loc("D"), pages: 1, modes: [.missing])),
                Step("parent", .uffdMove(from: Loc("S"), to: Loc("D"), pages: 1), expect: [
                    Expectation("the page moved: same PFN at the destination, still exclusive, nothing left at the source", kernels: Kernels.uffdioMove,
                                cite: Citation("mm/userfaultfd.c", "move_present_pte", "folio_move_anon_rmap(src_folio, dst_vma); dst PTE from the same folio (6.12.117 L1025, L1058)", document: "seed 004"),
                                [d.same(.pfn, as: s, at: "before"), d.has(.anonExclusive, true), s.has(.mapped, false)]),
                    Expectation("folio->index and folio->mapping now follow the destination VMA", kernels: Kernels.uffdioMove,
                                cite: Citation("mm/userfaultfd.c", "move_present_pte", "src_folio->index = linear_page_index(dst_vma, dst_addr) (6.12.117 L1059)", document: "seed 004"),
                                [d.has(.indexIsLinear, true), d.same(.index, as: d, .virtualPage), d.same(.pageAnonVma, as: d, .vmaAnonVma), d.rmapFinds([d])]),
                ]),
                Step("parent", .map("T", pages: 1)),
                Step("parent", .map("E", pages: 1)),
                Step("parent", .write(Loc("T")), label: "shared"),
                Step("parent", .fork(child: "child")),
                Step("parent", .uffdRegister(Loc("E"), pages: 1, modes: [.missing])),
                Step("parent", .uffdMove(from: Loc("T"), to: Loc("E"), pages: 1), expect: [
                    Expectation("a page shared with a child is refused with EBUSY and stays where it was", kernels: Kernels.uffdioMove,
                                cite: Citation("mm/userfaultfd.c", "move_pages_pte", "if (!PageAnonExclusive(&src_folio->page)) { err = -EBUSY; ... } (6.12.117 L1279-1281)", document: "seed 004"),
                                [.outcome(.fails(.EBUSY)), t.same(.pfn, at: "shared"), e.has(.mapped, false)]),
                ]),
            ])
    }()

    static let moveSwapcache: Scenario = {
        let w = PageRef("parent", "W"), x = PageRef("parent", "X")
        return Scenario(
            name: "uffdio-move-swapcache", title: "UFFDIO_MOVE of a swap PTE whose folio is in the swapcache: the folio's mapping and index move too",
            summary: """
            A swapped-out exclusive page whose folio MADV_WILLNEED has read back into the swapcache, its \
            PTE still a swap entry. UFFDIO_MOVE moves the swap PTE; since c50f8e6053b0 ("mm: fix kernel \
            BUG when userfaultfd_move encounters swapcache", v6.14, in Debian's 6.12.117) it also rewrites \
            the swapcache folio's anon_vma and index for the destination, so the read fault there maps it \
            with the destination's rmap. Without the fix the folio keeps the source's, and that swap-in \
            hits a kernel BUG.
            """,
            documents: ["004 (remap_anon_pages, UFFDIO_MOVE)"], requirements: [.root, .userfaultfd, .uffdioMove, .swap],
            watch: [w, x],
            steps: [
                Step("parent", .uffdOpen(move: true)),
                Step("parent", .map("W", pages: 1)),
                Step("parent", .map("X", pages: 1)),
                Step("parent", .write(Loc("W"))),
                Step("parent", .madvise(Loc("W"), pages: 1, .pageout), expect: [
                    Expectation("the exclusive page is swapped out with the exclusive bit", kernels: Kernels.anonExclusive, cite: SwapScenarios.unmapCitation,
                                [w.has(.swapped, true), w.has(.swapExclusive, true)]),
                ]),
                Step("parent", .madvise(Loc("W"), pages: 1, .willneed), expect: [
                    Expectation("MADV_WILLNEED reads the folio into the swapcache and leaves the exclusive swap PTE in place", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/madvise.c", "swapin_walk_pmd_entry", "read_swap_cache_async() for each swap PTE; the PTE is not touched (6.12.117 L179-213)"),
                                [w.has(.swapped, true), w.has(.swapExclusive, true)]),
                ]),
                Step("parent", .uffdRegister(Loc("X"), pages: 1, modes: [.missing])),
                Step("parent", .uffdMove(from: Loc("W"), to: Loc("X"), pages: 1), expect: [
                    Expectation("an exclusive swap PTE moves as it is (plus soft-dirty); nothing is left at the source", kernels: Kernels.uffdioMove,
                                cite: Citation("mm/userfaultfd.c", "move_swap_pte", "ptep_get_and_clear(src); pte_swp_mksoft_dirty(); set_pte_at(dst) (6.12.117 L1130-1134)", document: "seed 004"),
                                [w.has(.mapped, false), x.has(.swapped, true), x.has(.swapExclusive, true), x.has(.softDirty, true)]),
                ]),
                Step("parent", .read(Loc("X")), expect: [
                    Expectation("the swap-in at the destination maps the swapcache folio with the destination's anon_vma and index", kernels: Kernels.uffdioMoveSwapcache,
                                cite: Citation("mm/userfaultfd.c", "move_swap_pte",
                                               "if (src_folio) { folio_move_anon_rmap(src_folio, dst_vma); src_folio->index = linear_page_index(dst_vma, dst_addr); } (6.12.117 L1106-1108, c50f8e6053b0)",
                                               document: "seed 004"),
                                [x.has(.present, true), x.has(.swapCache, true), x.has(.anonExclusive, true), x.has(.indexIsLinear, true),
                                 x.same(.pageAnonVma, as: x, .vmaAnonVma), x.rmapFinds([x])]),
                ]),
            ])
    }()

    static let moveAbsent: Scenario = {
        let s = PageRef("parent", "S"), d = PageRef("parent", "D")
        return Scenario(
            name: "uffdio-move-absent", title: "No UFFDIO_MOVE before 6.8: the feature and the ioctl are refused with EINVAL",
            summary: """
            On kernels before 6.8 UFFDIO_API refuses the unknown UFFD_FEATURE_MOVE bit and the \
            UFFDIO_MOVE ioctl number falls through userfaultfd_ioctl()'s switch: both EINVAL, and the \
            page stays where it was. (Where the kernel has it, run `uffdio-move`.)
            """,
            documents: ["004 (remap_anon_pages, UFFDIO_MOVE)"], requirements: [.root, .userfaultfd, .notUffdioMove],
            watch: [s, d],
            steps: [
                Step("parent", .map("S", pages: 1)),
                Step("parent", .map("D", pages: 1)),
                Step("parent", .write(Loc("S")), label: "before"),
                Step("parent", .uffdOpen(move: true), expect: [
                    Expectation("UFFDIO_API with UFFD_FEATURE_MOVE is EINVAL", kernels: Kernels.noUffdioMove,
                                cite: Citation("fs/userfaultfd.c", "userfaultfd_api", "if (features & ~uffdio_api.features) goto err_out; (-EINVAL, L2015)"),
                                [.outcome(.fails(.EINVAL))]),
                ]),
                Step("parent", .uffdOpen(move: false)),
                Step("parent", .uffdRegister(Loc("D"), pages: 1, modes: [.missing])),
                Step("parent", .uffdMove(from: Loc("S"), to: Loc("D"), pages: 1), expect: [
                    Expectation("the UFFDIO_MOVE ioctl is EINVAL and nothing moves", kernels: Kernels.noUffdioMove,
                                cite: Citation("fs/userfaultfd.c", "userfaultfd_ioctl", "int ret = -EINVAL; switch (cmd) has no UFFDIO_MOVE case (L2039)"),
                                [.outcome(.fails(.EINVAL)), s.same(.pfn, at: "before"), d.has(.mapped, false)]),
                ]),
            ])
    }()
}
