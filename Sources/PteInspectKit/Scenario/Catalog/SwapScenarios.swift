enum SwapScenarios {
    static let unmapCitation = Citation("mm/rmap.c", "try_to_unmap_one",
                                        "if (anon_exclusive) swp_pte = pte_swp_mkexclusive(swp_pte); if (pte_soft_dirty(pteval)) swp_pte = pte_swp_mksoft_dirty(swp_pte); (L1731-1764)",
                                        document: "seed 001")
    static let swapinCitation = Citation("mm/memory.c", "do_swap_page",
                                         "SWP_SYNCHRONOUS_IO && __swap_count(entry) == 1 skips the swapcache (L3842); folio != swapcache -> exclusive (L3996)",
                                         document: "seed 001")

    static let pageout: Scenario = {
        let p = PageRef("parent", "P"), q = PageRef("parent", "P", 1)
        return Scenario(
            name: "pageout-exclusive", title: "MADV_PAGEOUT of exclusive pages: the swap PTE remembers exclusivity; swap-in restores it",
            summary: """
            Seed 001: reclaim unmaps an exclusive anon page into a swap PTE that carries the exclusive bit \
            (pte_swp_exclusive). do_swap_page() gives the page back PG_anon_exclusive, so the later write \
            reuses it instead of copying. On 6.1 a read fault maps it read-only (write needs a second \
            fault, which reuses); a write fault maps it writable at once. Page P is swapped in by a read \
            then written, P+1 by a direct write.
            """,
            documents: ["001 (swap PTE exclusive bit)"], requirements: [.root, .swap],
            watch: [p, q],
            steps: [
                Step("parent", .map("P", pages: 2)),
                Step("parent", .write(Loc("P"))),
                Step("parent", .write(Loc("P", 1)), expect: [
                    Common.newExclusive(q, "both pages are new and exclusive", cite: Common.newAnonRmap),
                    Common.newAnonRmapState(q),
                ]),
                Step("parent", .madvise(Loc("P"), pages: 2, .pageout), label: "swapped", expect: [
                    Expectation("both PTEs are swap entries with the exclusive and soft-dirty bits", kernels: Kernels.anonExclusive, cite: unmapCitation,
                                [p.has(.swapped, true), p.has(.swapExclusive, true), p.has(.softDirty, true), p.has(.uffdWP, false),
                                 q.has(.swapped, true), q.has(.swapExclusive, true)]),
                ]),
                Step("parent", .read(Loc("P")), label: "read-in", expect: [
                    Expectation("a read fault maps the page exclusive and outside the swapcache (zram: synchronous, count 1)", kernels: Kernels.anonExclusive,
                                cite: swapinCitation,
                                [p.has(.present, true), p.has(.anon, true), p.has(.anonExclusive, true), p.has(.swapCache, false),
                                 p.has(.mapcount, 1), p.has(.indexIsLinear, true), p.same(.pageAnonVma, as: p, .vmaAnonVma)]),
                    Expectation("the read fault maps it read-only and clean", kernels: Kernels.readSwapinReadOnly,
                                cite: Citation("mm/memory.c", "do_swap_page", "pte = maybe_mkwrite(pte_mkdirty(pte), vma) only if (vmf->flags & FAULT_FLAG_WRITE) (6.1.192 L4053-4058)"),
                                [p.has(.write, false), p.has(.dirty, false), p.has(.softDirty, true)]),
                    Expectation("the read fault maps the exclusive page writable but clean: no second fault for the write", kernels: Kernels.readSwapinWritable,
                                cite: Citation("mm/memory.c", "do_swap_page",
                                               "exclusive && (vma->vm_flags & VM_WRITE) && !userfaultfd_pte_wp() && !pte_needs_soft_dirty_wp(): pte_mkwrite(); pte_mkdirty() only for FAULT_FLAG_WRITE (6.12.117 L4544-4553)",
                                               document: "seed 001"),
                                [p.has(.write, true), p.has(.dirty, false), p.has(.softDirty, true)]),
                ]),
                Step("parent", .write(Loc("P")), expect: [
                    Expectation("the write reuses the page (exclusive): same PFN, now writable and dirty", kernels: Kernels.wpReuse,
                                cite: Citation("mm/memory.c", "do_wp_page", "if (PageAnonExclusive(vmf->page)) goto reuse;", document: "seed 001"),
                                [p.same(.pfn, at: "read-in"), p.has(.write, true), p.has(.dirty, true), p.has(.anonExclusive, true)]),
                ]),
                Step("parent", .write(Loc("P", 1)), expect: [
                    Expectation("a write fault on the swap entry maps the page writable and exclusive in one fault", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/memory.c", "do_swap_page", "FAULT_FLAG_WRITE: pte = maybe_mkwrite(pte_mkdirty(pte), vma) (L4055)", document: "seed 001"),
                                [q.has(.present, true), q.has(.write, true), q.has(.dirty, true), q.has(.anonExclusive, true), q.has(.swapCache, false),
                                 q.has(.indexIsLinear, true)]),
                ]),
                Step("parent", .madvise(Loc("P"), pages: 1, .pageout), expect: [
                    Expectation("paging out again gives a new exclusive swap entry", kernels: Kernels.anonExclusive, cite: unmapCitation,
                                [p.has(.swapped, true), p.has(.swapExclusive, true)]),
                ]),
            ])
    }()

    static let fork: Scenario = {
        let parent = PageRef("parent", "P"), child = PageRef("child", "P")
        return Scenario(
            name: "swap-fork", title: "Swapped out, then fork: the parent's swap PTE loses the exclusive bit; swap-in in each process",
            summary: """
            Seed 001: fork duplicates the swap entry and clears the exclusive bit in the parent's own swap \
            PTE (copy_nonpresent_pte, "Mark the swap entry as shared"). The first read fault then goes \
            through the swapcache and maps a non-exclusive page; the child's read maps the same page; the \
            child's write copies; the parent's write, now the only user, frees the swapcache and reuses it.
            """,
            documents: ["001 (swap PTE exclusive bit, fork)"], requirements: [.root, .swap],
            watch: [parent, child],
            steps: [
                Step("parent", .map("P", pages: 1)),
                Step("parent", .write(Loc("P"))),
                Step("parent", .madvise(Loc("P"), pages: 1, .pageout), expect: [
                    Expectation("the exclusive page is swapped out with the exclusive bit", kernels: Kernels.anonExclusive, cite: unmapCitation,
                                [parent.has(.swapped, true), parent.has(.swapExclusive, true)]),
                ]),
                Step("parent", .fork(child: "child"), expect: [
                    Expectation("fork clears the exclusive bit in the parent's swap PTE; the child's copy has none either", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/memory.c", "copy_nonpresent_pte",
                                               "/* Mark the swap entry as shared. */ if (pte_swp_exclusive(*src_pte)) { pte = pte_swp_clear_exclusive(*src_pte); set_pte_at(src_mm, addr, src_pte, pte); } (L805-820)",
                                               document: "seed 001"),
                                [parent.has(.swapped, true), parent.has(.swapExclusive, false), child.has(.swapped, true),
                                 child.has(.swapExclusive, false), child.has(.softDirty, true)]),
                ]),
                Step("parent", .read(Loc("P")), label: "parent-read", expect: [
                    Expectation("the parent's read goes through the swapcache (swap count 2) and maps a non-exclusive page", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/memory.c", "do_swap_page", "__swap_count(entry) != 1 -> swapin_readahead(); exclusive = false, refcount != 1 -> RMAP_NONE",
                                               document: "seed 001"),
                                [parent.has(.present, true), parent.has(.swapCache, true), parent.has(.anonExclusive, false), parent.has(.write, false),
                                 parent.has(.indexIsLinear, true)]),
                ]),
                Step("child", .read(Loc("P")), expect: [
                    Expectation("the child's read finds the same page in the swapcache", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/memory.c", "do_swap_page", "swap_cache_get_folio() hit"),
                                [child.same(.pfn, as: parent), child.has(.mapcount, 2), child.has(.anonExclusive, false), child.has(.swapCache, true)]),
                ]),
                Step("child", .write(Loc("P")), expect: [
                    Expectation("the child's write copies (swapcache + two mappings)", kernels: Kernels.wpReuse,
                                cite: Citation("mm/memory.c", "do_wp_page", "folio_ref_count(folio) > 1 + folio_test_swapcache(folio) -> copy"),
                                [child.differs(.pfn, from: parent), child.has(.anonExclusive, true), child.has(.write, true), parent.has(.mapcount, 1)]),
                ]),
                Step("parent", .write(Loc("P")), expect: [
                    Expectation("the parent's write frees the swapcache and reuses the page", kernels: Kernels.wpReuse,
                                cite: Citation("mm/memory.c", "do_wp_page", "ref <= 1 + swapcache -> folio_free_swap(); ref == 1 -> page_move_anon_rmap(); reuse",
                                               document: "seed 001"),
                                [parent.same(.pfn, at: "parent-read"), parent.has(.anonExclusive, true), parent.has(.swapCache, false),
                                 parent.has(.write, true), parent.same(.pageAnonVma, as: parent, .vmaAnonVma)]),
                ]),
            ])
    }()

    static let swapoff: Scenario = {
        let p = PageRef("parent", "P"), q = PageRef("parent", "Q"), cq = PageRef("child", "Q"), cp = PageRef("child", "P")
        return Scenario(
            name: "swapoff", title: "swapoff while swapped out: unuse_pte restores PG_anon_exclusive from the swap PTE bit",
            summary: """
            Seed 001: swapoff brings every swapped page back through unuse_pte(), which maps it old and \
            read-only and sets PG_anon_exclusive exactly when the swap PTE had the exclusive bit. P is \
            exclusive (MADV_DONTFORK keeps it out of the child); Q was swapped out before fork, so parent \
            and child share its entry without the bit and get back one shared, non-exclusive page.
            """,
            documents: ["001 (swapoff, unuse_pte)"], requirements: [.root, .swap],
            watch: [p, q, cp, cq],
            steps: [
                Step("parent", .map("P", pages: 1)),
                Step("parent", .map("Q", pages: 1)),
                Step("parent", .write(Loc("P"))),
                Step("parent", .write(Loc("Q"))),
                Step("parent", .madvise(Loc("P"), pages: 1, .dontfork)),
                Step("parent", .madvise(Loc("P"), pages: 1, .pageout)),
                Step("parent", .madvise(Loc("Q"), pages: 1, .pageout)),
                Step("parent", .fork(child: "child"), expect: [
                    Expectation("P keeps its exclusive swap entry (not copied); Q's is shared now", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/memory.c", "copy_nonpresent_pte", "clears the exclusive bit of every swap entry it duplicates"),
                                [p.has(.swapExclusive, true), cp.has(.vmaExists, false), q.has(.swapExclusive, false), cq.has(.swapped, true)]),
                ]),
                Step("system", .swapoff, label: "back", expect: [
                    Expectation("the exclusive entry comes back as an exclusive page, mapped old, clean and read-only", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/swapfile.c", "unuse_pte",
                                               "if (pte_swp_exclusive(*pte)) rmap_flags |= RMAP_EXCLUSIVE; new_pte = pte_mkold(mk_pte(page, vma->vm_page_prot)) (L1779)",
                                               document: "seed 001"),
                                [p.has(.present, true), p.has(.anonExclusive, true), p.has(.write, false), p.has(.young, false),
                                 p.has(.dirty, false), p.has(.softDirty, true), p.has(.swapCache, false), p.has(.mapcount, 1), p.has(.indexIsLinear, true)]),
                    Expectation("the shared entry comes back as one page mapped by both, not exclusive", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/swapfile.c", "unuse_pte", "no exclusive bit -> page_add_anon_rmap(page, vma, addr, RMAP_NONE)"),
                                [q.has(.present, true), cq.same(.pfn, as: q), q.has(.anonExclusive, false), q.has(.mapcount, 2), q.has(.write, false)]),
                ]),
                Step("parent", .write(Loc("P")), expect: [
                    Expectation("the parent's write reuses the exclusive page", kernels: Kernels.wpReuse,
                                cite: Citation("mm/memory.c", "do_wp_page", "if (PageAnonExclusive(vmf->page)) goto reuse;"),
                                [p.same(.pfn, at: "back"), p.has(.write, true), p.has(.dirty, true), p.has(.anonExclusive, true)]),
                ]),
                Step("parent", .write(Loc("Q")), expect: [
                    Expectation("the write to the shared page copies", kernels: Kernels.wpReuse,
                                cite: Citation("mm/memory.c", "do_wp_page", "not exclusive, two references -> copy"),
                                [q.differs(.pfn, from: cq), q.has(.anonExclusive, true), cq.has(.mapcount, 1)]),
                ]),
                Step("system", .swapon),
            ])
    }()
}
