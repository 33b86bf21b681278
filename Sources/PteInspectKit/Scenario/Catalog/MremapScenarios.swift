enum MremapScenarios {
    static let moveCitation = Citation("mm/mremap.c", "move_vma",
                                       "new_pgoff = vma->vm_pgoff + ((old_addr - vma->vm_start) >> PAGE_SHIFT) (L670); copy_vma() keeps vma->anon_vma",
                                       document: "seed 003")
    static let movePtes = Citation("mm/mremap.c", "move_ptes",
                                   "pte = ptep_get_and_clear(mm, old_addr, old_pte); pte = move_soft_dirty_pte(pte); no rmap update (L136)",
                                   document: "seed 000")

    static let exclusive: Scenario = {
        let p = PageRef("parent", "P"), u = PageRef("parent", "U")
        return Scenario(
            name: "mremap-exclusive", title: "mremap of an exclusive anon page: same PFN, same index, vm_pgoff carried along",
            summary: """
            mremap moves the PTE, not the page: the PFN, folio->index and the anon_vma stay; the new VMA \
            keeps the old linear vm_pgoff, so linear_page_index(new VMA, new address) still equals the \
            index and an rmap walk finds the page at its new address (Andrea's anon_vma + vm_pgoff design, \
            seed 003, which made Hugh's anonmm early COW of seed 000 unnecessary). A VMA that was never \
            faulted has no anon_vma to stay linear with and takes vm_pgoff = new address >> PAGE_SHIFT.
            """,
            documents: ["000 (mremap and anonmm)", "003 (anon_vma + vm_pgoff)"], requirements: [.root],
            watch: [p, u],
            steps: [
                Step("parent", .map("P", pages: 2)),
                Step("parent", .write(Loc("P")), label: "before", expect: [
                    Common.newExclusive(p, "the written page is exclusive and linear", cite: Common.newAnonRmap),
                    Common.newAnonRmapState(p),
                ]),
                Step("parent", .drain),
                Step("parent", .mremap("P", pages: 2), expect: [
                    Expectation("the page moved with its PTE: same PFN, still exclusive, mapped once, writable and dirty", kernels: Kernels.anonExclusive,
                                cite: movePtes,
                                [p.same(.pfn, at: "before"), p.has(.anonExclusive, true), p.has(.mapcount, 1), p.has(.write, true), p.has(.dirty, true)]),
                    Expectation("move_soft_dirty_pte() marks the moved PTE soft-dirty", kernels: Kernels.always,
                                cite: Citation("mm/mremap.c", "move_ptes", "pte = move_soft_dirty_pte(pte) (4 KiB move, not a whole PMD)"),
                                [p.has(.softDirty, true)]),
                    Expectation("folio->index is unchanged and no longer addr >> PAGE_SHIFT; the new VMA's vm_pgoff keeps it linear",
                                kernels: Kernels.always, cite: moveCitation,
                                [p.same(.index, at: "before"), p.differs(.index, from: p, .virtualPage), p.has(.indexIsLinear, true),
                                 p.same(.vmaPgoff, at: "before")]),
                    Expectation("the VMA keeps its anon_vma and rmap finds the page at the new address", kernels: Kernels.always,
                                cite: Citation("mm/mmap.c", "copy_vma", "new_vma = vm_area_dup(vma); new_vma->vm_pgoff = pgoff; anon_vma_clone(new_vma, vma) (L3373)",
                                               document: "seed 003"),
                                [p.same(.vmaAnonVma, at: "before"), p.same(.pageAnonVma, as: p, .vmaAnonVma), p.rmapFinds([p])]),
                ]),
                Step("parent", .map("U", pages: 1)),
                Step("parent", .mremap("U", pages: 1), expect: [
                    Expectation("a never-faulted VMA has no anon_vma to stay linear with: vm_pgoff = new address >> PAGE_SHIFT",
                                kernels: Kernels.always,
                                cite: Citation("mm/mmap.c", "copy_vma", "if (unlikely(vma_is_anonymous(vma) && !vma->anon_vma)) pgoff = addr >> PAGE_SHIFT"),
                                [u.has(.mapped, false), u.absent(.vmaAnonVma), u.same(.linearIndex, as: u, .virtualPage)]),
                ]),
            ])
    }()

    static let shared: Scenario = {
        let parent = PageRef("parent", "P"), child = PageRef("child", "P")
        return Scenario(
            name: "mremap-shared", title: "mremap of a page shared with a forked child: no early COW, rmap still finds both",
            summary: """
            Seed 000's problem: with anonmm, a page shared by parent and child could not be found by rmap \
            once one of them moved it, so Hugh Dickins' patch copied it early. With anon_vma, move_ptes() \
            moves the shared PTE as is: the parent maps the same PFN at the new address, the child keeps \
            it at the old one, and the rmap walk over the anon_vma finds both, because the moved VMA keeps \
            the linear vm_pgoff. The parent's later write copies into a page indexed at the same linear \
            index.
            """,
            documents: ["000 (anonmm early COW)", "003 (anon_vma + vm_pgoff)"], requirements: [.root],
            watch: [parent, child],
            steps: [
                Step("parent", .map("P", pages: 1)),
                Step("parent", .write(Loc("P")), label: "written"),
                Step("parent", .drain),
                Step("parent", .fork(child: "child")),
                Step("parent", .mremap("P", pages: 1), expect: [
                    Expectation("no early COW: the parent maps the same PFN at the new address, read-only, still shared", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/mremap.c", "move_ptes", "no PageAnon / mapcount test (contrast seed 000's make_page_exclusive)",
                                               document: "seed 000"),
                                [parent.same(.pfn, as: child), parent.same(.pfn, at: "written"), parent.has(.anonExclusive, false),
                                 parent.has(.mapcount, 2)]),
                    Expectation("the moved PTE is still read-only (no COW happened)", kernels: Kernels.always,
                                cite: Citation("mm/mremap.c", "move_ptes", "the PTE value is moved as is (+ soft-dirty)"),
                                [parent.has(.write, false), parent.has(.softDirty, true)]),
                    Expectation("the moved VMA keeps vm_pgoff: index == linear on both sides", kernels: Kernels.always, cite: moveCitation,
                                [parent.same(.vmaPgoff, as: child), parent.has(.indexIsLinear, true), child.has(.indexIsLinear, true),
                                 parent.same(.index, at: "written")]),
                    Expectation("rmap finds both mappings: the child's at the old address, the parent's at the new one", kernels: Kernels.always,
                                cite: Citation("mm/rmap.c", "rmap_walk_anon", "both VMAs are in the anon_vma's interval tree at pgoff index", document: "seed 000"),
                                [parent.rmapFinds([parent, child]), child.rmapFinds([parent, child])]),
                ]),
                Step("parent", .write(Loc("P")), expect: [
                    Expectation("the parent's write copies (two references); the copy keeps the linear index", kernels: Kernels.wpReuse,
                                cite: Citation("mm/memory.c", "wp_page_copy", "page_add_new_anon_rmap(new_page, vma, vmf->address) -> index = linear_page_index()"),
                                [parent.differs(.pfn, from: child), parent.has(.anonExclusive, true), child.has(.mapcount, 1)]),
                    Expectation("the copy is indexed at the old linear index, which the moved VMA's vm_pgoff keeps linear", kernels: Kernels.always,
                                cite: Citation("mm/rmap.c", "__page_set_anon_rmap", "page->index = linear_page_index(vma, address)", document: "seed 003"),
                                [parent.has(.indexIsLinear, true), parent.same(.index, at: "written"), parent.rmapFinds([parent])]),
                ]),
            ])
    }()
}
