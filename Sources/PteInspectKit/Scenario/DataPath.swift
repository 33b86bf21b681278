/// The kernel path that carries a page's contents through a step: what the data check of that
/// step cites, so that a wrong value points at the operation that lost or leaked it (a swap-in
/// that returns zeros at the swap read, a fork that loses data at the fork's copy) instead of at
/// one function for every step.
///
/// tools/cite-check checks every citation of `citation` against Debian's 6.1 and 6.12 trees, as
/// it checks the scenario files' (docs/scenario-format.md, "Citations"): it reads each
/// `case .NAME: return Citation(...)` line of this file, one citation a line, claiming the trees
/// of `kernels` (every kernel, or `fromRelease` where one is given).
enum DataPath: String, CaseIterable {
    case fault, cowCopy, fork, swapOut, swapIn, swapoff, mremap, ksm, uffdCopy, uffdZeropage, uffdMove, procMem, dontneed, other

    /// The path of `step`, given what its page looked like before it (`before`: nil when the page
    /// was not observed yet).
    static func of(_ step: Step, before: (PageRef) -> PageObservation?) -> DataPath {
        step.action.verb.dataPath(actor: step.actor, before: before)
    }

    /// The first release whose tree has this path (nil: every kernel the project supports).
    var fromRelease: String? { self == .uffdMove ? "6.8" : nil }

    var kernels: KernelRange {
        guard let from = fromRelease else { return ContentModel.checkKernels }
        return KernelRange(name: "data", from: KernelVersion(release: from), basis: "UFFDIO_MOVE, adef440691ba, v6.8",
                           note: ContentModel.checkKernels.note)
    }

    // One citation a line (tools/cite-check reads them): file, function (per kernel line where
    // the lines spell it differently), detail with quotes in backticks and lines with their tree.
    var citation: Citation {
        switch self {
        case .fault: return Citation("mm/memory.c", "do_anonymous_page", "a first write fault maps a zeroed page: `page = alloc_zeroed_user_highpage_movable(vma, vmf->address);` (6.1.192 L4190); `folio = alloc_anon_folio(vmf);` (6.12.118 L4794), zeroed by folio_prealloc() or folio_zero_user()")
        case .cowCopy: return Citation("mm/memory.c", "wp_page_copy", "the writer gets a copy of the shared page made before its write: `ret = __wp_page_copy_user(new_page, old_page, vmf);` (6.1.192 L3157); `err = __wp_page_copy_user(&new_folio->page, vmf->page, vmf);` (6.12.118 L3368); every other mapping keeps the old page", document: "001 (PG_anon_exclusive: a page shared after fork is never reused by one side)")
        case .fork: return Citation("mm/memory.c", "copy_present_pte (6.1), __copy_present_ptes (6.12), __copy_present_ptes (7.3)", "the child maps the parent's page itself, the same contents until a write copies it: `set_pte_at(dst_vma->vm_mm, addr, dst_pte, pte);` (6.1.192 L1000); `set_ptes(dst_vma->vm_mm, addr, dst_pte, pte, nr);` (6.12.118 L970, 7.3.4 L1200)")
        case .swapOut: return Citation("mm/vmscan.c", "pageout", "reclaim writes the page to swap before it unmaps and frees it: `res = mapping->a_ops->writepage(&folio->page, &wbc);` (6.1.192 L1287, 6.12.118 L696)")
        case .swapIn: return Citation("mm/memory.c", "do_swap_page", "the fault reads the page back from swap: `swap_readpage(page, true, NULL);` (6.1.192 L3882), `page = swapin_readahead(entry, GFP_HIGHUSER_MOVABLE, vmf);` (6.1.192 L3886); `swap_read_folio(folio, NULL);` (6.12.118 L4330), `folio = swapin_readahead(entry, GFP_HIGHUSER_MOVABLE, vmf);` (6.12.118 L4334)")
        case .swapoff: return Citation("mm/swapfile.c", "unuse_pte_range", "swapoff reads every swapped page back, then unuse_pte() maps it: `page = swapin_readahead(entry, GFP_HIGHUSER_MOVABLE, &vmf);` (6.1.192 L1886); `folio = swapin_readahead(entry, GFP_HIGHUSER_MOVABLE, &vmf);` (6.12.118 L2225)")
        case .mremap: return Citation("mm/mremap.c", "move_ptes", "the entry moves as it is, and the page with it: `pte = ptep_get_and_clear(mm, old_addr, old_pte);` (6.1.192 L186, 6.12.118 L195) then `set_pte_at(mm, new_addr, new_pte, pte);` (6.1.192 L212, 6.12.118 L221)")
        case .ksm: return Citation("mm/ksm.c", "try_to_merge_one_page", "a page is merged only into a KSM page with the same contents: `} else if (pages_identical(page, kpage)) err = replace_page(vma, page, kpage, orig_pte);` (6.1.192 L1262-1263, 6.12.118 L1497-1498)")
        case .uffdCopy: return Citation("mm/userfaultfd.c", "mcopy_atomic_pte (6.1), mfill_atomic_pte_copy (6.12), mfill_atomic_pte_copy (7.3)", "UFFDIO_COPY fills the new page from the caller's buffer: `ret = copy_from_user(page_kaddr, (const void __user *) src_addr, PAGE_SIZE);` (6.1.192 L177-179); `ret = copy_from_user(kaddr, (const void __user *) src_addr, PAGE_SIZE);` (6.12.118 L275-276); 7.3.4, through __mfill_atomic_pte(): `ret = mfill_copy_folio_locked(folio, src_addr);` (7.3.4 L581), in mfill_copy_folio_locked(): `ret = copy_from_user(kaddr, (const void __user *) src_addr, PAGE_SIZE);` (7.3.4 L452-453)")
        case .uffdZeropage: return Citation("mm/userfaultfd.c", "mfill_zeropage_pte (6.1), mfill_atomic_pte_zeropage (6.12), mfill_atomic_pte_zeropage (7.3)", "UFFDIO_ZEROPAGE maps the zero page: `_dst_pte = pte_mkspecial(pfn_pte(my_zero_pfn(dst_addr), dst_vma->vm_page_prot));` (6.1.192 L230-231, 6.12.118 L359-360); 7.3.4: `_dst_pte = pte_mkspecial(pfn_pte(zero_pfn(dst_addr), dst_vma->vm_page_prot));` (7.3.4 L667-668)")
        case .uffdMove: return Citation("mm/userfaultfd.c", "move_present_pte (6.12), move_present_ptes (7.3)", "UFFDIO_MOVE maps the source's own page at the destination: `orig_dst_pte = mk_pte(&src_folio->page, dst_vma->vm_page_prot);` (6.12.118 L1060); 7.3.4: `orig_dst_pte = folio_mk_pte(src_folio, dst_vma->vm_page_prot);` (7.3.4 L1357); a swap entry moves in move_swap_pte()")
        case .procMem: return Citation("mm/memory.c", "__access_remote_vm", "a /proc/PID/mem write lands in the page GUP returned (a private copy after a FOLL_FORCE write fault): `copy_to_user_page(vma, page, addr, maddr + offset, buf, bytes);` (6.1.192 L5751-5752, 6.12.118 L6697-6698)")
        case .dontneed: return Citation("mm/memory.c", "zap_pte_range (6.1), zap_present_folio_ptes (6.12), zap_present_folio_ptes (7.3)", "MADV_DONTNEED clears the entries; the next touch faults in a zeroed page: `ptent = ptep_get_and_clear_full(mm, addr, pte, tlb->fullmm);` (6.1.192 L1433-1434); `ptent = get_and_clear_full_ptes(mm, addr, pte, nr, tlb->fullmm);` (6.12.118 L1494); 7.3.4, an anonymous folio: `clear_full_ptes(mm, addr, pte, nr, tlb->fullmm);` (7.3.4 L1792)")
        case .other: return Citation("mm/memory.c", "wp_page_copy", "the writer's PTE is pointed at a copy made before its write (__wp_page_copy_user()), every other mapping keeps the old page", document: "001 (PG_anon_exclusive: a page shared after fork is never reused by one side)")
        }
    }
}
