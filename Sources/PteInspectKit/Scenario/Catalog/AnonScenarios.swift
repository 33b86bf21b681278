/// Expectations several scenarios share.
enum Common {
    /// A page a fault just created for this VMA: do_anonymous_page() / wp_page_copy() ->
    /// page_add_new_anon_rmap() -> __page_set_anon_rmap(exclusive=1), folio->index =
    /// linear_page_index(), folio->mapping = vma->anon_vma (mm/rmap.c L1127-1160).
    static func newExclusive(_ page: PageRef, _ summary: String, cite: Citation) -> Expectation {
        Expectation(summary, kernels: Kernels.anonExclusive, cite: cite, [
            page.has(.present, true), page.has(.anon, true), page.has(.ksm, false), page.has(.anonExclusive, true), page.has(.mapcount, 1),
        ])
    }

    /// The rest of a new anon page's state, which only the module can see (kept apart so the
    /// pagemap backend still checks the part above).
    static func newAnonRmapState(_ page: PageRef) -> Expectation {
        Expectation("vm_normal_page() returns it; index == linear_page_index(); mapping == the VMA's anon_vma", kernels: Kernels.always,
                    cite: newAnonRmap,
                    [page.has(.special, false), page.has(.normalPage, true), page.has(.indexIsLinear, true),
                     page.same(.pageAnonVma, as: page, .vmaAnonVma)])
    }

    static let newAnonRmap = Citation("mm/rmap.c", "page_add_new_anon_rmap",
                                      "__page_set_anon_rmap(folio, vma, address, 1): exclusive, index = linear_page_index(vma, address) (L1127-1160, L1260-1283)")
}

enum AnonScenarios {
    static let faults: Scenario = {
        let p = PageRef("parent", "A"), z = PageRef("parent", "A", 1)
        return Scenario(
            name: "anon-faults", title: "Anonymous faults: a write maps a new exclusive page, a read maps the shared zero page",
            summary: """
            The two first-touch paths of do_anonymous_page(). A write allocates a page that is \
            PageAnon and PG_anon_exclusive, indexed linearly, in the VMA's freshly prepared anon_vma. A \
            read maps the zero page with a special PTE: vm_normal_page() returns NULL, no struct page is \
            accounted and no anon_vma is allocated. Writing there later copies from the zero page.
            """,
            documents: ["003 (anon_vma per VMA, PageAnon)"], requirements: [.root],
            watch: [p, z],
            steps: [
                Step("parent", .map("A", pages: 2), expect: [
                    Expectation("a new private anonymous VMA has no anon_vma and vm_pgoff = start >> PAGE_SHIFT", kernels: Kernels.always,
                                cite: Citation("mm/mmap.c", "do_mmap", "pgoff = addr >> PAGE_SHIFT for MAP_PRIVATE|MAP_ANONYMOUS (L1419-1424)"),
                                [p.has(.mapped, false), p.absent(.vmaAnonVma), p.same(.linearIndex, as: p, .virtualPage)]),
                ]),
                Step("parent", .write(Loc("A")), label: "written", expect: [
                    Common.newExclusive(p, "a write fault maps a new exclusive anon page", cite: Common.newAnonRmap),
                    Common.newAnonRmapState(p),
                    Expectation("the PTE is writable, dirty, young and soft-dirty", kernels: Kernels.always,
                                cite: Citation("mm/memory.c", "do_anonymous_page",
                                               "if (vma->vm_flags & VM_WRITE) entry = pte_mkwrite(pte_mkdirty(entry)); pte_mkdirty sets _PAGE_SOFT_DIRTY on x86 (L4137)"),
                                [p.has(.write, true), p.has(.dirty, true), p.has(.young, true), p.has(.softDirty, true), p.has(.uffdWP, false)]),
                    Expectation("index == addr >> PAGE_SHIFT before any mremap, and rmap finds the page here", kernels: Kernels.always,
                                cite: Citation("mm/rmap.c", "rmap_walk_anon", "vma_address() from folio->index and vm_pgoff (L2422)", document: "seed 003"),
                                [p.same(.index, as: p, .virtualPage), p.rmapFinds([p])]),
                ]),
                Step("parent", .drain, expect: [
                    Expectation("after the per-CPU LRU batch is drained the only reference is the mapping", kernels: Kernels.always,
                                cite: Citation("mm/swap.c", "folio_add_lru", "folio_get() while the folio waits in the per-CPU batch (L510); lru_add_drain() drops it"),
                                [p.has(.refcount, 1), p.has(.mapcount, 1)]),
                ]),
                Step("parent", .read(Loc("A", 1)), label: "read-zero", expect: [
                    Expectation("a read fault maps the zero page: special PTE, vm_normal_page() NULL, not writable", kernels: Kernels.special,
                                cite: Citation("mm/memory.c", "do_anonymous_page",
                                               "entry = pte_mkspecial(pfn_pte(my_zero_pfn(vmf->address), vma->vm_page_prot)) (L4164-4185); vm_normal_page() L612"),
                                [z.has(.present, true), z.has(.zeroPage, true), z.has(.special, true), z.has(.normalPage, false), z.has(.write, false),
                                 z.has(.dirty, false)]),
                ]),
                Step("parent", .write(Loc("A", 1)), expect: [
                    Common.newExclusive(z, "writing the zero page copies into a new exclusive anon page",
                                        cite: Citation("mm/memory.c", "wp_page_copy", "is_zero_pfn(pte_pfn(vmf->orig_pte)) -> alloc_zeroed_user_highpage_movable (L3146)")),
                    Common.newAnonRmapState(z),
                    Expectation("the new page replaces the zero page in the PTE", kernels: Kernels.special,
                                cite: Citation("mm/memory.c", "do_wp_page", "vm_normal_page() == NULL -> wp_page_copy() (L3428-3448)"),
                                [z.differs(.pfn, at: "read-zero"), z.has(.zeroPage, false), z.has(.special, false), z.has(.write, true), z.has(.dirty, true)]),
                ]),
            ])
    }()

    static let forkCOW: Scenario = {
        let parent = PageRef("parent", "P"), child = PageRef("child", "P")
        return Scenario(
            name: "fork-cow", title: "Fork COW: fork clears exclusivity; the child copies on write; the parent reuses its page",
            summary: """
            fork() write-protects the parent's PTE and clears PG_anon_exclusive (page_try_dup_anon_rmap); \
            the child's VMA gets its own anon_vma chained to the parent's. The child's write copies (the \
            page is not exclusive and has two references); afterwards the parent's write finds itself the \
            only user by refcount and reuses the original page (page_move_anon_rmap), exclusive again.
            """,
            documents: ["001 (PG_anon_exclusive)", "003 (anon_vma chain after fork)"], requirements: [.root],
            watch: [parent, child],
            steps: [
                Step("parent", .map("P", pages: 1)),
                Step("parent", .write(Loc("P")), label: "written", expect: [
                    Common.newExclusive(parent, "the parent's write maps a new exclusive page", cite: Common.newAnonRmap),
                    Common.newAnonRmapState(parent),
                ]),
                Step("parent", .drain),
                Step("parent", .fork(child: "child"), label: "forked", expect: [
                    Expectation("fork shares the page and clears PG_anon_exclusive", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/memory.c", "copy_present_pte",
                                               "page_try_dup_anon_rmap() clears PG_anon_exclusive (L948)", document: "seed 001"),
                                [parent.has(.anonExclusive, false), parent.has(.mapcount, 2), child.same(.pfn, as: parent)]),
                    Expectation("both PTEs are read-only; the child's is old, the parent's stays dirty", kernels: Kernels.always,
                                cite: Citation("mm/memory.c", "copy_present_pte",
                                               "if (is_cow_mapping(vm_flags) && pte_write(pte)) { ptep_set_wrprotect(src_mm, addr, src_pte); ... } pte = pte_mkold(pte);"),
                                [parent.has(.write, false), parent.has(.dirty, true), child.has(.write, false), child.has(.young, false)]),
                    Expectation("the child's VMA has its own anon_vma, chained to the parent's, which still owns the page", kernels: Kernels.always,
                                cite: Citation("mm/rmap.c", "anon_vma_fork", "anon_vma_clone() then a new anon_vma whose root/parent is the parent's (L337)",
                                               document: "seed 003"),
                                [child.differs(.vmaAnonVma, from: parent), child.chainContains(parent), child.same(.pageAnonVma, as: parent, .vmaAnonVma),
                                 child.same(.vmaPgoff, as: parent)]),
                    Expectation("rmap finds the page in both processes", kernels: Kernels.always,
                                cite: Citation("mm/rmap.c", "rmap_walk_anon", "the child VMA is in the parent's anon_vma interval tree (anon_vma_clone)"),
                                [parent.rmapFinds([parent, child])]),
                ]),
                Step("child", .write(Loc("P")), expect: [
                    Expectation("the child's write copies: the page has two references", kernels: Kernels.wpReuse,
                                cite: Citation("mm/memory.c", "do_wp_page", "if (folio_ref_count(folio) > 1 + folio_test_swapcache(folio)) goto copy; (L3471-3481)"),
                                [child.differs(.pfn, from: parent)]),
                    Common.newExclusive(child, "the copy is exclusive and lives in the child's own anon_vma",
                                        cite: Citation("mm/memory.c", "wp_page_copy", "page_add_new_anon_rmap(new_page, vma, vmf->address)")),
                    Common.newAnonRmapState(child),
                    Expectation("the parent's page is mapped once but still not exclusive, still read-only", kernels: Kernels.anonExclusive,
                                cite: Citation("mm/memory.c", "do_wp_page", "exclusivity only comes back on the parent's own write fault (reuse)"),
                                [parent.has(.mapcount, 1), parent.has(.anonExclusive, false)]),
                    Expectation("the copy is mapped writable and dirty; the parent's PTE is still read-only", kernels: Kernels.always,
                                cite: Citation("mm/memory.c", "wp_page_copy", "entry = maybe_mkwrite(pte_mkdirty(entry), vma)"),
                                [child.has(.write, true), child.has(.dirty, true), parent.has(.write, false)]),
                ]),
                Step("parent", .write(Loc("P")), expect: [
                    Expectation("the parent's write reuses its page: same PFN, exclusive again, moved to its anon_vma", kernels: Kernels.wpReuse,
                                cite: Citation("mm/memory.c", "do_wp_page", "refcount 1 -> page_move_anon_rmap(vmf->page, vma); wp_page_reuse(vmf) (L3494-3503)",
                                               document: "seed 001"),
                                [parent.same(.pfn, at: "written"), parent.has(.anonExclusive, true), parent.has(.mapcount, 1)]),
                    Expectation("the reused page is writable, and its mapping moved to the parent's anon_vma", kernels: Kernels.wpReuse,
                                cite: Citation("mm/memory.c", "do_wp_page", "page_move_anon_rmap(vmf->page, vma); wp_page_reuse(): maybe_mkwrite(pte_mkdirty(entry))"),
                                [parent.has(.write, true), parent.same(.pageAnonVma, as: parent, .vmaAnonVma), parent.rmapFinds([parent])]),
                ]),
            ])
    }()

    static let forkDontfork: Scenario = {
        let parent = PageRef("parent", "P"), child = PageRef("child", "P")
        return Scenario(
            name: "fork-dontfork", title: "MADV_DONTFORK: the child has no VMA there; the parent's page stays exclusive",
            summary: """
            dup_mmap() skips VMAs with VM_DONTCOPY, so fork neither shares nor write-protects the page: \
            the parent keeps a writable exclusive page and the child has nothing mapped at that address.
            """,
            requirements: [.root],
            watch: [parent, child],
            steps: [
                Step("parent", .map("P", pages: 1)),
                Step("parent", .write(Loc("P"))),
                Step("parent", .madvise(Loc("P"), pages: 1, .dontfork), expect: [
                    Expectation("MADV_DONTFORK sets VM_DONTCOPY", kernels: Kernels.always,
                                cite: Citation("mm/madvise.c", "madvise_vma_behavior", "case MADV_DONTFORK: new_flags |= VM_DONTCOPY (L1046)"),
                                [parent.has(.vmaFlag(.dontcopy), true)]),
                ]),
                Step("parent", .fork(child: "child"), expect: [
                    Expectation("the child has no VMA and no entry there", kernels: Kernels.always,
                                cite: Citation("kernel/fork.c", "dup_mmap", "if (mpnt->vm_flags & VM_DONTCOPY) { ... continue; }"),
                                [child.has(.vmaExists, false), child.has(.mapped, false)]),
                    Expectation("the parent's page is untouched: writable, exclusive, mapped once", kernels: Kernels.anonExclusive,
                                cite: Citation("kernel/fork.c", "dup_mmap", "copy_page_range() is never called for the VMA"),
                                [parent.has(.write, true), parent.has(.anonExclusive, true), parent.has(.mapcount, 1)]),
                ]),
            ])
    }()

    static let forkWipeonfork: Scenario = {
        let parent = PageRef("parent", "P"), child = PageRef("child", "P")
        return Scenario(
            name: "fork-wipeonfork", title: "MADV_WIPEONFORK: the child gets an empty VMA with no anon_vma",
            summary: """
            dup_mmap() copies a VM_WIPEONFORK VMA without its anon_vma and without its page tables: the \
            child's VMA exists (same vm_pgoff), its first read maps the zero page and its first write a \
            fresh page in a brand-new anon_vma. The parent's page is untouched.
            """,
            requirements: [.root],
            watch: [parent, child],
            steps: [
                Step("parent", .map("P", pages: 1)),
                Step("parent", .write(Loc("P"))),
                Step("parent", .madvise(Loc("P"), pages: 1, .wipeonfork), expect: [
                    Expectation("MADV_WIPEONFORK sets VM_WIPEONFORK", kernels: Kernels.always,
                                cite: Citation("mm/madvise.c", "madvise_vma_behavior", "case MADV_WIPEONFORK: new_flags |= VM_WIPEONFORK (L1054)"),
                                [parent.has(.vmaFlag(.wipeonfork), true)]),
                ]),
                Step("parent", .fork(child: "child"), expect: [
                    Expectation("the child's VMA exists with the same vm_pgoff, no anon_vma, no chain and no entries", kernels: Kernels.always,
                                cite: Citation("kernel/fork.c", "dup_mmap",
                                               "if (tmp->vm_flags & VM_WIPEONFORK) tmp->anon_vma = NULL; ... if (!(tmp->vm_flags & VM_WIPEONFORK)) copy_page_range()"),
                                [child.has(.vmaExists, true), child.same(.vmaPgoff, as: parent), child.absent(.vmaAnonVma),
                                 child.has(.vmaChain, set: []), child.has(.mapped, false)]),
                    Expectation("the parent's page is untouched", kernels: Kernels.anonExclusive,
                                cite: Citation("kernel/fork.c", "dup_mmap", "no page-table copy, so no wrprotect and no page_try_dup_anon_rmap()"),
                                [parent.has(.write, true), parent.has(.anonExclusive, true), parent.has(.mapcount, 1)]),
                ]),
                Step("child", .read(Loc("P")), expect: [
                    Expectation("the child's read maps the zero page", kernels: Kernels.special,
                                cite: Citation("mm/memory.c", "do_anonymous_page", "read fault -> my_zero_pfn, special PTE (L4164-4185)"),
                                [child.has(.zeroPage, true), child.has(.special, true)]),
                ]),
                Step("child", .write(Loc("P")), expect: [
                    Common.newExclusive(child, "the child's write maps a fresh exclusive page", cite: Common.newAnonRmap),
                    Common.newAnonRmapState(child),
                    Expectation("in an anon_vma unrelated to the parent's", kernels: Kernels.always,
                                cite: Citation("mm/rmap.c", "__anon_vma_prepare", "no anon_vma to reuse: a new one, its own root"),
                                [child.differs(.vmaAnonVma, from: parent), child.differs(.pfn, from: parent), child.rmapFinds([child])]),
                ]),
            ])
    }()
}
