"""Citations checked against the kernel trees they name (tools/cite-check is the command).

Every expectation of a scenario file cites the kernel code it follows:

    cite:
      file: mm/memory.c                 # or per kernel line: "mm/mmap.c (6.1), mm/vma.c (6.12)"
      function: do_swap_page            # or "page_add_new_anon_rmap (6.1), folio_add_new_anon_rmap (6.12)"
      detail: "`pte = maybe_mkwrite(pte_mkdirty(pte), vma);` (6.1.192 L4055)"

The expectation's kernel range says which trees the citation claims (a tree is a Debian source
package: 6.1.192 holds for `from: "5.19"`, not for `below: "6.1"`). For each claimed tree:
- the file exists and the function is defined in it;
- each quote in the detail (text between backticks) is in the function, whitespace-insensitive,
  `...` standing for any code between its parts; a quote of another function's code is looked
  for in the functions the detail names (`name()`). A paraphrase written like code is marked
  ~`like this` and is not looked for; prose outside backticks is not checked;
- each line reference (`6.12.118 L4553-4562`; a bare `L4560` after it, in the same parentheses,
  belongs to the same tree) lies inside the cited function or one the detail names, and when it
  follows quotes it must be where they are (within TOLERANCE lines).
A quote applies to the tree named before it in its parentheses or clause, else to the trees of
the line references right after it, else to every tree the citation claims. A line reference
must name its tree; a tree no installed source package has (an older stable release) is a stale
label: the checker finds where the quoted code is now, and --fix rewrites the reference.

Commit hashes (12 hex digits) anywhere in a scenario file must be in scenarios/lib/commits.yaml.
"""

import bisect
import dataclasses
import difflib
import json
import os
import re
import sys

import yaml

TOLERANCE = 3
LINES = ("6.1", "6.12")      # the kernel lines whose Debian source trees citations are checked against
VERSION_RE = re.compile(r"(?<![\w.])(\d+)\.(\d+)\.(\d+)(?![\w.]*\d)")
LINE_RE = re.compile(r"(?<![\w])L(\d+)((?:[-/]\d+)*)(?!\w)")
PATH_RE = re.compile(r"(?<![\w/.])((?:mm|include|kernel|fs|arch|lib)/[\w/.+-]+\.[ch])(?![\w])")
CALL_RE = re.compile(r"(?<![\w>.])([A-Za-z_]\w*)\(")
HASH_RE = re.compile(r"(?<![0-9a-zA-Z])[0-9a-f]{12}(?![0-9a-zA-Z])")
PLACE_RE = re.compile(r"^\s*([\w/.+-]+)\s*\((\d+\.\d+)\)\s*$")


def version_tuple(text):
    return tuple(int(p) for p in re.findall(r"\d+", str(text))[:3])


def line_of(version):
    """'6.12.118' -> '6.12'"""
    return ".".join(str(p) for p in version_tuple(version)[:2])


# --- the kernel trees -------------------------------------------------------------------------

class Tree:
    """One extracted Debian kernel source (linux-source-LINE), its functions found on demand."""

    def __init__(self, root):
        self.root = root
        makefile = open(os.path.join(root, "Makefile"), encoding="utf-8", errors="replace").read(4000)
        parts = [re.search(r"^%s = (\d+)" % key, makefile, re.M).group(1) for key in ("VERSION", "PATCHLEVEL", "SUBLEVEL")]
        self.version = ".".join(parts)
        self.line = line_of(self.version)
        self._files = {}

    def source(self, path):
        """SourceFile or None."""
        if path not in self._files:
            full = os.path.join(self.root, path)
            self._files[path] = SourceFile(full) if os.path.isfile(full) else None
        return self._files[path]

    def find_definitions(self, name, under=("mm", "include/linux", "kernel", "fs")):
        """Files of this tree (in the usual places) that define `name`, for a did-you-mean."""
        found = []
        pattern = re.compile(r"^[^\s#/*].*\b%s\(" % re.escape(name), re.M)
        for top in under:
            for dirpath, _, files in os.walk(os.path.join(self.root, top)):
                for f in files:
                    if not f.endswith((".c", ".h")):
                        continue
                    full = os.path.join(dirpath, f)
                    try:
                        text = open(full, encoding="utf-8", errors="replace").read()
                    except OSError:
                        continue
                    if pattern.search(text):
                        rel = os.path.relpath(full, self.root)
                        src = self.source(rel)
                        if src and name in src.functions:
                            found.append(rel)
        return sorted(found)


class SourceFile:
    """A C file: its lines, and its function definitions found the way kernel style writes them
    (the declaration starts in column 0, the body closes with a '}' alone in column 0)."""

    def __init__(self, path):
        self.lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
        self.functions = {}   # name -> (first line, last line), 1-based, declaration to closing brace
        self._scan()
        # whitespace-free text with the line of each character, for quotes
        chars, owners = [], []
        for number, text in enumerate(self.lines, 1):
            for ch in text:
                if not ch.isspace():
                    chars.append(ch)
                    owners.append(number)
        self.flat = "".join(chars)
        self.owner = owners
        self._line_starts = []
        for i, n in enumerate(owners):
            if i == 0 or owners[i - 1] != n:
                self._line_starts.append((n, i))

    def _scan(self):
        lines, i, n = self.lines, 0, len(self.lines)
        while i < n:
            text = lines[i]
            if not text or text[0] in " \t#/*}{" or text.startswith("EXPORT_SYMBOL"):
                i += 1
                continue
            # collect the declaration up to '{' or ';' outside parentheses
            decl, j, depth, end = "", i, 0, None
            while j < n and j < i + 12:
                for ch in lines[j]:
                    if ch == "(":
                        depth += 1
                    elif ch == ")":
                        depth -= 1
                    elif depth == 0 and ch in "{;=":
                        end = ch
                        break
                    decl += ch
                if end:
                    break
                decl += " "
                j += 1
            if end != "{" or "(" not in decl:
                i = j + 1 if end else i + 1
                continue
            head = decl[:decl.index("(")]
            names = re.findall(r"[A-Za-z_]\w*", head)
            if not names:
                i = j + 1
                continue
            name = names[-1]
            close = j
            while close < n and lines[close] != "}":
                close += 1
            self.functions.setdefault(name, (i + 1, min(close + 1, n)))
            i = close + 1

    def index_of_line(self, line):
        """Index in `flat` of the first character on `line` or after it."""
        k = bisect.bisect_left(self._line_starts, (line, -1))
        return self._line_starts[k][1] if k < len(self._line_starts) else len(self.flat)

    def find(self, quote, span=None):
        """Line numbers where `quote` (whitespace-insensitive, '...' a gap) starts, within span."""
        parts = [re.sub(r"\s+", "", p) for p in re.split(r"\.\.\.|\u2026", quote)]
        parts = [p for p in parts if p]
        if not parts:
            return []
        lo, hi = (0, len(self.flat)) if span is None else (self.index_of_line(span[0]), self.index_of_line(span[1] + 1))
        hits, start = [], lo
        while True:
            at = self.flat.find(parts[0], start, hi)
            if at < 0:
                break
            pos, ok = at + len(parts[0]), True
            for part in parts[1:]:
                nxt = self.flat.find(part, pos, hi)
                if nxt < 0:
                    ok = False
                    break
                pos = nxt + len(part)
            if ok:
                hits.append(self.owner[at])
            start = at + 1
        return hits

    def function_at(self, line):
        for name, (a, b) in self.functions.items():
            if a <= line <= b:
                return name
        return None


def extract_trees(cache, lines=LINES):
    """Extract (once per package version) the parts of /usr/src/linux-source-LINE.tar.xz that
    citations name. Returns {line: Tree}; a line whose package is not installed is left out."""
    import subprocess
    trees = {}
    for line in lines:
        tarball = "/usr/src/linux-source-%s.tar.xz" % line
        if not os.path.isfile(tarball):
            continue
        stamp_key = "%d-%d" % (os.path.getsize(tarball), int(os.path.getmtime(tarball)))
        root = os.path.join(cache, "linux-source-%s" % line)
        stamp = os.path.join(cache, "linux-source-%s.key" % line)
        if not (os.path.isfile(stamp) and open(stamp).read() == stamp_key and os.path.isdir(root)):
            subprocess.run(["rm", "-rf", root], check=True)
            os.makedirs(cache, exist_ok=True)
            members = ["linux-source-%s/%s" % (line, p) for p in ("Makefile", "mm", "include", "kernel", "fs", "arch/x86/include", "arch/x86/mm")]
            subprocess.run(["tar", "-xJf", tarball, "-C", cache] + members, check=True)
            open(stamp, "w").write(stamp_key)
        trees[line] = Tree(root)
    return trees


# --- the scenario files -----------------------------------------------------------------------

@dataclasses.dataclass
class CitationUse:
    path: str
    node: object            # the cite's mapping node (named or in place)
    file: str
    function: str
    detail: str
    detail_node: object
    claims: set             # kernel lines (e.g. {"6.1", "6.12"}) whose trees the citation claims
    where: str              # path:line:column of the cite


def scalar(node):
    return node.value if isinstance(node, yaml.ScalarNode) else None


def mapping(node):
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: v for k, v in node.value}


def mark(path, node):
    return "%s:%d:%d" % (path, node.start_mark.line + 1, node.start_mark.column + 1)


def claimed_lines(kernels, tree_versions):
    """Kernel lines whose installed tree lies in [from, below)."""
    out = set()
    lo = kernels.get("from")
    hi = kernels.get("below")
    for line, version in tree_versions.items():
        v = version_tuple(version)
        if lo and v < version_tuple(lo):
            continue
        if hi and not v < version_tuple(hi):
            continue
        out.add(line)
    return out


def citations_of(path, tree_versions):
    """Every citation of a scenario file, once per distinct node, with the trees its users claim."""
    text = open(path, encoding="utf-8").read()
    root = yaml.compose(text)
    top = mapping(root)
    named_kernels = {k: {kk: scalar(vv) for kk, vv in mapping(v).items()} for k, v in mapping(top.get("kernels")).items()}
    named_cites = mapping(top.get("citations"))
    uses = {}
    steps = top.get("steps")
    for step in (steps.value if isinstance(steps, yaml.SequenceNode) else []):
        expects = mapping(step).get("expect")
        for e in (expects.value if isinstance(expects, yaml.SequenceNode) else []):
            fields = mapping(e)
            cite, kernels = fields.get("cite"), fields.get("kernels")
            if cite is None or kernels is None:
                continue
            if isinstance(cite, yaml.ScalarNode):
                cite = named_cites.get(cite.value)
                if cite is None:
                    continue
            k = named_kernels.get(kernels.value, {}) if isinstance(kernels, yaml.ScalarNode) else {kk: scalar(vv) for kk, vv in mapping(kernels).items()}
            claims = claimed_lines(k, tree_versions)
            key = id(cite)
            if key in uses:
                uses[key].claims |= claims
                continue
            c = mapping(cite)
            uses[key] = CitationUse(path, cite, scalar(c.get("file")) or "", scalar(c.get("function")) or "",
                                    scalar(c.get("detail")) or "", c.get("detail"), claims, mark(path, cite))
    return list(uses.values()), text


DATA_PATH_SWIFT = "Sources/PteInspectKit/Scenario/DataPath.swift"
SWIFT_STRING = r'"((?:[^"\\]|\\.)*)"'


def swift_citations(top, tree_versions):
    """The data check's citations (DataPath.citation), one `case .NAME: return Citation(...)` a
    line; each claims every tree, or those from DataPath.fromRelease. Returns (uses, problems)."""
    path = DATA_PATH_SWIFT
    text = open(os.path.join(top, path), encoding="utf-8").read()
    cases = re.search(r"^\s*case ([\w, ]+)$", text, re.M)
    names = [n.strip() for n in cases.group(1).split(",")] if cases else []
    since = dict(re.findall(r'fromRelease: String\? \{ self == \.(\w+) \? "([\d.]+)" : nil \}', text))
    problems, uses = [], []
    if not names or (not since and "fromRelease" in text):
        problems.append("%s: cannot read the enum's cases or fromRelease the way tools/cite_check.py expects" % path)
    pattern = re.compile(r"case \.(\w+): return Citation\(%s, %s, %s" % (SWIFT_STRING, SWIFT_STRING, SWIFT_STRING))
    found = set()
    for number, line in enumerate(text.split("\n"), 1):
        m = pattern.search(line)
        if not m:
            continue
        name = m.group(1)
        found.add(name)
        unescape = lambda t: t.replace('\\"', '"').replace("\\\\", "\\")
        claims = claimed_lines({"from": since.get(name)}, tree_versions)
        uses.append(CitationUse(path, None, unescape(m.group(2)), unescape(m.group(3)), unescape(m.group(4)), None, claims,
                                "%s:%d:%d" % (path, number, m.start() + 1)))
    missing = [n for n in names if n not in found]
    if missing:
        problems.append("%s: no one-line citation for %s" % (path, ", ".join(missing)))
    return uses, problems


def per_line(value, lines):
    """'a (6.1), b (6.12)' -> {'6.1': 'a', '6.12': 'b'}; a plain value holds for every line."""
    parts = [p for p in value.split(",")]
    matched = [PLACE_RE.match(p) for p in parts]
    if len(parts) > 1 or matched[0]:
        if not all(matched):
            return None
        return {m.group(2): m.group(1) for m in matched}
    return {line: value.strip() for line in lines}


# --- the detail: quotes, trees, line references -----------------------------------------------

@dataclasses.dataclass(eq=False)
class Quote:
    text: str
    start: int              # offset in the detail
    tree: str = None        # a version named before it in scope
    file: str = None        # a path named before it in scope
    refs: list = dataclasses.field(default_factory=list)   # the line references right after it


@dataclasses.dataclass(eq=False)
class LineRef:
    version: str            # as written ('6.12.117'); None when the detail names no tree
    first: int
    last: int
    start: int              # offset of 'L' in the detail
    end: int
    label_start: int        # offset of the version label that applies, if written in this ref's group
    file: str = None
    quotes: list = dataclasses.field(default_factory=list)


def code_spans(detail):
    return [(m.start(), m.end()) for m in re.finditer(r"~?`[^`]*`", detail)]


def parse_detail(detail):
    """Quotes, paraphrases (skipped), line references and named functions of a detail."""
    quotes, refs, named = [], [], set()
    # tokens in order
    tokens = []
    for m in re.finditer(r"(~?)`([^`]*)`", detail):
        tokens.append((m.start(), "quote" if not m.group(1) else "paraphrase", m))
    code_spans = [(m.start(), m.end()) for _, _, m in tokens]

    def in_code(pos):
        return any(a <= pos < b for a, b in code_spans)

    for m in VERSION_RE.finditer(detail):
        if not in_code(m.start()):
            tokens.append((m.start(), "version", m))
    for m in LINE_RE.finditer(detail):
        if not in_code(m.start()):
            tokens.append((m.start(), "line", m))
    for m in PATH_RE.finditer(detail):
        if not in_code(m.start()):
            tokens.append((m.start(), "path", m))
    for m in re.finditer(r"[()]", detail):
        if not in_code(m.start()):
            tokens.append((m.start(), m.group(0), m))
    for m in CALL_RE.finditer(detail):
        named.add(m.group(1))
    tokens.sort(key=lambda t: t[0])

    stack = []                      # (tree, file) saved at each '('
    tree = path = None
    pending = []                    # quotes waiting for the line references that follow them
    last_label = None
    for pos, kind, m in tokens:
        if kind == "(":
            stack.append((tree, path))
        elif kind == ")":
            if stack:
                tree, path = stack.pop()
        elif kind == "version":
            tree = m.group(0)
            last_label = pos
        elif kind == "path":
            path = m.group(1)
        elif kind == "quote":
            q = Quote(m.group(2), pos, tree, path)
            quotes.append(q)
            if pending and pending[-1].refs:
                pending = []
            pending.append(q)
        elif kind == "paraphrase":
            continue
        elif kind == "line":
            numbers = [int(m.group(1))]
            rest = m.group(2)
            if rest.startswith("-") and rest.count("-") == 1 and "/" not in rest:
                first, last = numbers[0], int(rest[1:])
                spans = [(first, last)]
            else:
                spans = [(int(x), int(x)) for x in [m.group(1)] + re.findall(r"\d+", rest)]
            for first, last in spans:
                r = LineRef(tree, first, last, m.start(), m.end(), last_label if tree else None, path)
                r.quotes = list(pending)
                for q in pending:
                    q.refs.append(r)
                refs.append(r)
    return quotes, refs, named


# --- checking ---------------------------------------------------------------------------------

@dataclasses.dataclass
class Finding:
    where: str
    tree: str
    message: str
    fix: tuple = None       # (old text, new text) inside the detail


def check_use(use, trees, lines_known):
    """Findings of one citation, and the per-tree outcome {version: 'ok'|'FAIL'}."""
    findings = []
    outcome = {}
    files = per_line(use.file, lines_known)
    functions = per_line(use.function, lines_known)
    if files is None or functions is None:
        findings.append(Finding(use.where, "", "file/function per kernel line must read 'NAME (6.1), NAME (6.12)'"))
        return findings, {t.version: "FAIL" for t in trees.values()}
    quotes, refs, named = parse_detail(use.detail)
    by_version = {t.version: t for t in trees.values()}
    for r in refs:
        if r.version is None:
            findings.append(Finding(use.where, "", "L%d: a line number must name its tree (e.g. '%s L%d')" % (r.first, next(iter(by_version), "6.1.192"), r.first)))
    for line in sorted(use.claims | {line_of(r.version) for r in refs if r.version} | {line_of(q.tree) for q in quotes if q.tree}, key=version_tuple):
        tree = trees.get(line)
        if tree is None:
            continue
        bad = []
        claimed = line in use.claims
        fpath, fname = files.get(line), functions.get(line)
        src = tree.source(fpath) if fpath else None
        span = None
        if claimed:
            if not fpath or not fname:
                bad.append("names no file/function for %s" % line)
            elif src is None:
                bad.append("%s does not exist" % fpath)
            elif fname not in src.functions:
                elsewhere = tree.find_definitions(fname)
                hint = ("; it is defined in %s" % ", ".join(elsewhere)) if elsewhere else ""
                close = difflib.get_close_matches(fname, src.functions.keys(), n=1)
                if not elsewhere and close:
                    hint = "; did you mean %s()?" % close[0]
                bad.append("%s() is not defined in %s%s" % (fname, fpath, hint))
            else:
                span = src.functions[fname]
        elif src is not None and fname in src.functions:
            span = src.functions[fname]

        def spans_in(path):
            s = tree.source(path)
            if s is None:
                return s, []
            out = []
            if path == fpath and span:
                out.append((fname, span))
            for name in sorted(named):
                if name in s.functions and name != fname:
                    out.append((name, s.functions[name]))
            return s, out

        for q in quotes:
            applies = {line_of(q.tree)} if q.tree else ({line_of(r.version) for r in q.refs if r.version} or use.claims)
            if line not in applies:
                continue
            qpath = q.file or fpath
            s, candidates = spans_in(qpath)
            if s is None:
                bad.append("`%s`: %s does not exist" % (short(q.text), qpath))
                continue
            hits = []
            for name, sp in candidates:
                hits += [(h, name) for h in s.find(q.text, sp)]
            if not hits:
                anywhere = s.find(q.text)
                if anywhere:
                    bad.append("`%s` is not in %s but in %s() (%s L%d)" % (short(q.text), "/".join([n for n, _ in candidates]) or fname,
                                                                         s.function_at(anywhere[0]) or "no function", qpath, anywhere[0]))
                else:
                    bad.append("`%s` is not in %s (%s)" % (short(q.text), qpath, ", ".join(n + "()" for n, _ in candidates) or "no function"))
                continue
            q.hits = getattr(q, "hits", {})
            q.hits[line] = [h for h, _ in hits]
        unanchored_stale = False
        for r in refs:
            if not r.version or line_of(r.version) != line:
                continue
            rpath = r.file or fpath
            s, candidates = spans_in(rpath)
            stale = r.version != tree.version
            anchored = [q for q in r.quotes if line in getattr(q, "hits", {})]
            if anchored:
                def near(q, ref):
                    return any(ref.first - TOLERANCE <= h <= ref.last + TOLERANCE for h in q.hits[line])
                siblings = [o for o in q_refs(anchored, line)]
                mine = any(near(q, r) for q in anchored)
                others_cover = all(any(near(q, o) for o in siblings) for q in anchored)
                if mine and not stale:
                    continue
                if not mine and others_cover and not stale:
                    pass   # a line number beside the quoted ones: it must lie inside a function, below
                else:
                    # where the quotes are now: the reference moves by the distance to the nearest one
                    if stale:
                        # the old tree is gone: its lines started where the group's first quote
                        # started, so the group moves by that quote's move (a wide range would keep
                        # a 9-line move inside its tolerance)
                        lead = min(anchored[0].hits[line], key=lambda h: abs(h - siblings[0].first))
                        delta = lead - siblings[0].first
                        if abs(delta) <= TOLERANCE and mine:
                            delta = 0   # as near as the author put it: only the label is stale
                    else:
                        delta = 0 if mine else group_shift(anchored, siblings, line)
                    new = "%s L%d" % (tree.version, r.first + delta) + ("-%d" % (r.last + delta) if r.last != r.first else "")
                    old = "%s L%d%s" % (r.version, r.first, "-%d" % r.last if r.last != r.first else "")
                    if delta:
                        findings.append(Finding(use.where, tree.version, "moved: %s -> %s" % (old, new), (r, delta)))
                    bad.append(None)
                    continue
            if s is None:
                bad.append("L%d: %s does not exist" % (r.first, rpath))
                continue
            inside = [n for n, (a, b) in candidates if a - TOLERANCE <= r.first and r.last <= b + TOLERANCE]
            if not inside:
                holder = s.function_at(r.first)
                bad.append("%s L%d%s is not inside %s (it is in %s)" % (r.version, r.first, "-%d" % r.last if r.last != r.first else "",
                                                                       " / ".join(n + "()" for n, _ in candidates) or fname + "()", (holder + "()") if holder else "no function"))
            elif stale:
                unanchored_stale = True
                bad.append("%s L%d: stale tree label, and no quote to follow: quote the code it points at, or give the %s line by hand" % (r.version, r.first, tree.version))
        stale_labels = sorted({m.group(0) for m in VERSION_RE.finditer(use.detail) if line_of(m.group(0)) == line and m.group(0) != tree.version
                               and not any(a <= m.start() < e for a, e in code_spans(use.detail))})
        for label in ([] if unanchored_stale else stale_labels):
            findings.append(Finding(use.where, tree.version, "stale tree label: %s -> %s" % (label, tree.version), (label, tree.version)))
            bad.append(None)
        for b in bad:
            if b:
                findings.append(Finding(use.where, tree.version, b))
        outcome[tree.version] = ("FAIL" if any(bad) else "moved" if bad else "ok") if (claimed or bad) else "n.a."
    return findings, outcome


def group_shift(quotes, refs, line):
    """The one shift of these line references that puts the most quotes back beside them (the
    smallest such shift): a tree moves a function's code as a whole."""
    def covered(d):
        return sum(1 for q in quotes if any(o.first + d - TOLERANCE <= h <= o.last + d + TOLERANCE for h in q.hits[line] for o in refs))
    candidates = {h - o.first for q in quotes for h in q.hits[line] for o in refs}
    return max(sorted(candidates, key=abs), key=covered) if candidates else 0


def q_refs(quotes, line):
    """The line references of `line`'s tree that follow any of these quotes."""
    out = []
    for q in quotes:
        for r in q.refs:
            if r.version and line_of(r.version) == line and r not in out:
                out.append(r)
    return out


def short(text, n=60):
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 3] + "..."


def apply_fixes(path, text, fixes):
    """Rewrite the citations' line numbers and tree labels in place. fixes: (detail node, LineRef,
    shift) for a line number whose quoted code moved, (detail node, old version, new version) for a
    stale tree label (every occurrence in that detail). A line number is found in the file as the
    same occurrence of its text in the detail (YAML quoting and folding leave 'L1234' as it is)."""
    edits = []
    for node, what, change in fixes:
        a, b = node.start_mark.index, node.end_mark.index
        region = text[a:b]
        if isinstance(what, str):
            for m in re.finditer(r"(?<![\w.])%s(?![\w.]*\d)" % re.escape(what), region):
                edits.append((a + m.start(), a + m.end(), change))
            continue
        r, delta = what, change
        if not delta:
            continue
        detail = scalar(node) or ""
        token = detail[r.start:r.end]
        k = len(re.findall(r"(?<!\w)%s(?!\w)" % re.escape(token), detail[:r.start]))
        hits = list(re.finditer(r"(?<!\w)%s(?!\w)" % re.escape(token), region))
        if k < len(hits):
            m = hits[k]
            new = "L%d%s" % (r.first + delta, "-%d" % (r.last + delta) if r.last != r.first else "")
            if token != "L%d%s" % (r.first, "-%d" % r.last if r.last != r.first else ""):
                continue   # an 'L2206/2248' list: left for a person
            edits.append((a + m.start(), a + m.end(), new))
    for start, end, new in sorted(set(edits), reverse=True):
        text = text[:start] + new + text[end:]
    return text


def load_commits(path):
    data = yaml.safe_load(open(path, encoding="utf-8")) if os.path.isfile(path) else None
    problems = []
    table = {}
    if not isinstance(data, dict) or not isinstance(data.get("commits"), list):
        return table, ["%s: no 'commits:' list" % path]
    for i, c in enumerate(data["commits"]):
        where = "%s: entry %d" % (path, i + 1)
        if not isinstance(c, dict):
            problems.append(where + ": not a mapping")
            continue
        extra = set(c) - {"hash", "title", "release", "stable", "source"}
        if extra:
            problems.append(where + ": unknown keys %s" % sorted(extra))
        h = str(c.get("hash", ""))
        if not re.fullmatch(r"[0-9a-f]{12}", h):
            problems.append(where + ": hash must be 12 lower-case hex digits (got %r)" % h)
        if not isinstance(c.get("title"), str) or not c["title"].strip():
            problems.append(where + ": no title")
        if not re.fullmatch(r"v\d+\.\d+", str(c.get("release", ""))):
            problems.append(where + ": release must read vX.Y (got %r)" % c.get("release"))
        stable = c.get("stable", [])
        if not isinstance(stable, list) or not all(re.fullmatch(r"\d+\.\d+\.\d+", str(s)) for s in stable):
            problems.append(where + ": stable must be a list of X.Y.Z releases")
        if not isinstance(c.get("source"), str) or not c["source"].strip():
            problems.append(where + ": no source (where the title and release were confirmed)")
        if h in table:
            problems.append(where + ": %s listed twice" % h)
        table[h] = c
    return table, problems


def check_hashes(path, text, commits):
    out = []
    for number, line in enumerate(text.split("\n"), 1):
        for m in HASH_RE.finditer(line):
            if not re.search(r"[a-f]", m.group(0)) or not re.search(r"\d", m.group(0)):
                continue
            if m.group(0) not in commits:
                out.append(Finding("%s:%d:%d" % (path, number, m.start() + 1), "", "commit %s is not in scenarios/lib/commits.yaml (add its title and first release there)" % m.group(0)))
    return out


def check_ranges(path, text, commits):
    """A kernel range whose basis names a commit must follow it: `from` at or after the commit's
    first release (or, on a stable line, at or after the backport), or `below` at its release."""
    out = []

    def walk(node):
        if isinstance(node, yaml.MappingNode):
            fields = mapping(node)
            if "basis" in fields:
                yield node, fields
            for _, v in node.value:
                yield from walk(v)
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                yield from walk(v)

    for node, fields in walk(yaml.compose(text)):
        basis = scalar(fields.get("basis")) or ""
        lo, hi = scalar(fields.get("from")), scalar(fields.get("below"))
        for h in HASH_RE.findall(basis):
            c = commits.get(h)
            if not c:
                continue
            release = version_tuple(c["release"])
            firsts = [release] + [version_tuple(v) for v in c.get("stable") or []]
            ok = False
            if lo:
                v = version_tuple(lo)
                ok = v[:2] > release[:2] or any(v[:2] == f[:2] and v >= f for f in firsts)
            if hi and not ok:
                ok = version_tuple(hi)[:2] == release[:2]
            if not ok:
                out.append(Finding(mark(path, node), "", "the range (from %s, below %s) names %s (%s%s) in its basis, but neither bound follows it"
                                   % (lo, hi, h, c["release"], (", stable " + ", ".join(c["stable"])) if c.get("stable") else "")))
    return out


def check_prose(path, text, tree_versions):
    """Line numbers in a summary, a kernel range's basis or note: the checker cannot follow them
    (no function named for it to look in), but one with a tree label no installed tree has is
    stale and must be looked at by hand."""
    out = []
    installed = set(tree_versions.values())

    def walk(node):
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value in ("summary", "basis", "note", "title") and isinstance(v, yaml.ScalarNode):
                    yield v
                else:
                    yield from walk(v)
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                yield from walk(v)

    for node in walk(yaml.compose(text)):
        for m in re.finditer(r"(?<![\w.])(\d+\.\d+\.\d+)(?:\s+[\w/.+-]+\.[ch])?\s+L\d+", node.value):
            version = m.group(1)
            if line_of(version) in tree_versions and version not in installed:
                out.append(Finding(mark(path, node), "", "a line number of %s in prose (%s): the tree is %s now; check it and relabel it by hand"
                                   % (version, short(m.group(0), 40), tree_versions[line_of(version)])))
    return out


def other_hash_paths(top):
    """Files outside the scenarios that cite commits by hash: their hashes must be in the table too."""
    out = ["README.md"]
    for folder, ends in (("docs", (".md",)), ("kmod", (".c", ".h")), ("Sources", (".swift",))):
        for dirpath, _, files in os.walk(os.path.join(top, folder)):
            out += [os.path.relpath(os.path.join(dirpath, f), top) for f in sorted(files) if f.endswith(ends)]
    return out


def scenario_paths(top):
    out = []
    for folder in ("scenarios", "docs/examples"):
        d = os.path.join(top, folder)
        out += sorted(os.path.join(folder, f) for f in os.listdir(d) if f.endswith(".yaml"))
    return out
