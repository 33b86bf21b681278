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
  follows quotes it must start where its quote starts, and the quotes must lie in the lines given
  (TOLERANCE lines of slack at the end).
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

TOLERANCE = 3   # lines: a quote lies in the range given with this much slack; a range starts exactly at its quote
LINES = ("6.1", "6.12", "7.3")      # the kernel lines whose Debian source trees citations are checked against
VERSION_RE = re.compile(r"(?<![\w.])(\d+)\.(\d+)\.(\d+)(?![\w.]*\d)")
LINE_RE = re.compile(r"(?<![\w])L(\d+)((?:[-/\u2013]\d+)*)(?!\w)")
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
    (the declaration starts in column 0), each body matched brace by brace in the code with its
    comments, strings, preprocessor lines and the #else/#elif branches of conditionals blanked."""

    def __init__(self, path):
        text = open(path, encoding="utf-8", errors="replace").read()
        self.lines = text.split("\n")
        nocomment, structure = self._blank(text)
        self.code = structure.split("\n")          # for the definitions and their braces
        self.functions = {}   # name -> (first line, last line), 1-based, declaration to closing brace
        self._scan()
        # whitespace-free text with the line and the offset of each character, for quotes: one
        # of the code (comments blanked), one of the raw text (a quote of a comment)
        self.flat_code = self._flatten(nocomment)
        self.flat_raw = self._flatten(text)
        self.raw = text

    @staticmethod
    def _flatten(text):
        chars, lines, offsets = [], [], []
        line = 1
        for offset, ch in enumerate(text):
            if ch == "\n":
                line += 1
            elif not ch.isspace():
                chars.append(ch)
                lines.append(line)
                offsets.append(offset)
        starts = []
        for i, n in enumerate(lines):
            if i == 0 or lines[i - 1] != n:
                starts.append((n, i))
        return "".join(chars), lines, offsets, starts

    @staticmethod
    def _blank(text):
        """(text with comments blanked, text with comments, strings, character literals,
        preprocessor lines and the #else/#elif branches blanked); newlines kept."""
        out, i, n = [], 0, len(text)
        nocomment = []
        while i < n:
            ch = text[i]
            if text.startswith("/*", i):
                j = text.find("*/", i + 2)
                j = n if j < 0 else j + 2
                blank = "".join(c if c == "\n" else " " for c in text[i:j])
                out.append(blank); nocomment.append(blank); i = j
            elif text.startswith("//", i):
                j = text.find("\n", i)
                j = n if j < 0 else j
                out.append(" " * (j - i)); nocomment.append(" " * (j - i)); i = j
            elif ch in "\"'":
                j = i + 1
                while j < n and text[j] != ch and text[j] != "\n":
                    j += 2 if text[j] == "\\" else 1
                j = min(j + 1, n)
                out.append(ch + " " * (j - i - 2) + (ch if j - i >= 2 else "")); nocomment.append(text[i:j]); i = j
            else:
                out.append(ch); nocomment.append(ch); i += 1
        structure = "".join(out).split("\n")
        # preprocessor lines (with their continuations) and the other branches of conditionals
        depth_skip, stack, k = 0, [], 0
        while k < len(structure):
            line = structure[k]
            stripped = line.lstrip()
            if stripped.startswith("#"):
                word = re.match(r"#\s*(\w+)", stripped)
                word = word.group(1) if word else ""
                if word in ("if", "ifdef", "ifndef"):
                    stack.append(False)            # in the first branch
                elif word in ("elif", "else") and stack:
                    stack[-1] = True               # a later branch: skipped
                elif word == "endif" and stack:
                    stack.pop()
                while True:                        # the line and its continuations
                    cont = structure[k].rstrip().endswith("\\")
                    structure[k] = ""
                    if not cont or k + 1 >= len(structure):
                        break
                    k += 1
            elif any(stack):
                structure[k] = ""
            k += 1
        return "".join(nocomment), "\n".join(structure)

    def _scan(self):
        lines, i, n = self.code, 0, len(self.code)
        while i < n:
            text = lines[i]
            if not text or text[0] in " \t}{;)" or text.startswith("EXPORT_SYMBOL"):
                i += 1
                continue
            # the declaration, up to '{' or ';' or '=' outside parentheses
            decl, j, depth, end, col = "", i, 0, None, 0
            while j < n and j < i + 30:
                for col, ch in enumerate(lines[j]):
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
            head = re.sub(r"__attribute__\s*\(\(.*?\)\)", " ", decl)
            head = head[:head.index("(")] if "(" in head else head
            names = re.findall(r"[A-Za-z_]\w*", head)
            # the body, brace by brace, from the '{' at (j, col)
            k, level, close = j, 0, None
            c = col
            while k < n and close is None:
                for pos in range(c, len(lines[k])):
                    if lines[k][pos] == "{":
                        level += 1
                    elif lines[k][pos] == "}":
                        level -= 1
                        if level == 0:
                            close = k
                            break
                k, c = k + 1, 0
            close = n - 1 if close is None else close
            if names:
                self.functions.setdefault(names[-1], (i + 1, close + 1))
            i = close + 1

    def index_of_line(self, line, flat=None):
        """Index in the flat text of the first character on `line` or after it."""
        starts = (flat or self.flat_code)[3]
        k = bisect.bisect_left(starts, (line, -1))
        return starts[k][1] if k < len(starts) else len((flat or self.flat_code)[0])

    def find(self, quote, span=None):
        """Line numbers where `quote` (whitespace-insensitive, '...' a gap) starts, within span:
        in the code, or in the raw text for a quote of a comment; a quote that starts or ends
        with a name must not be part of a longer one there."""
        flat = self.flat_raw if ("/*" in quote or "//" in quote) else self.flat_code
        text, owners, offsets, _ = flat
        parts = [re.sub(r"\s+", "", p) for p in re.split(r"\.\.\.|\u2026", quote)]
        parts = [p for p in parts if p]
        if not parts:
            return []
        lo, hi = (0, len(text)) if span is None else (self.index_of_line(span[0], flat), self.index_of_line(span[1] + 1, flat))
        word = re.compile(r"\w")

        def bounded(at, length):
            first, last = offsets[at], offsets[at + length - 1]
            if word.match(text[at]) and first > 0 and word.match(self.raw[first - 1]):
                return False
            if word.match(text[at + length - 1]) and last + 1 < len(self.raw) and word.match(self.raw[last + 1]):
                return False
            return True

        hits, start = [], lo
        while True:
            at = text.find(parts[0], start, hi)
            if at < 0:
                break
            pos, ok = at + len(parts[0]), bounded(at, len(parts[0]))
            for part in parts[1:]:
                if not ok:
                    break
                nxt = text.find(part, pos, hi)
                while nxt >= 0 and not bounded(nxt, len(part)):
                    nxt = text.find(part, nxt + 1, hi)
                if nxt < 0:
                    ok = False
                    break
                pos = nxt + len(part)
            if ok:
                hits.append(owners[at])
            start = at + 1
        return hits

    def function_at(self, line):
        for name, (a, b) in self.functions.items():
            if a <= line <= b:
                return name
        return None


# What citations name, and what tools/kselftest/check reads: the Kconfig files of the options
# the scenarios need (pteinspect scenario kconfig) and kselftest's runner.
TREE_PARTS = ("Makefile", "mm", "include", "kernel", "fs", "arch/x86/include", "arch/x86/mm",
              "init/Kconfig", "net/Kconfig", "drivers/block/zram/Kconfig",
              "tools/testing/selftests/run_kselftest.sh", "tools/testing/selftests/kselftest")


def extract_trees(cache, lines=LINES):
    """Extract (once per package version) the parts of /usr/src/linux-source-LINE.tar.xz that
    citations name. Returns {line: Tree}; a line whose package is not installed is left out."""
    import subprocess
    trees, running = {}, []
    for line in lines:
        tarball = "/usr/src/linux-source-%s.tar.xz" % line
        if not os.path.isfile(tarball):
            continue
        # the key names the parts too: a cache extracted with fewer parts is extracted again
        stamp_key = "%d-%d %s" % (os.path.getsize(tarball), int(os.path.getmtime(tarball)), " ".join(TREE_PARTS))
        root = os.path.join(cache, "linux-source-%s" % line)
        stamp = os.path.join(cache, "linux-source-%s.key" % line)
        if not (os.path.isfile(stamp) and open(stamp).read() == stamp_key and os.path.isdir(root)):
            subprocess.run(["rm", "-rf", root, stamp], check=True)
            os.makedirs(cache, exist_ok=True)
            members = ["linux-source-%s/%s" % (line, p) for p in TREE_PARTS]
            # both trees at once: xz decompresses on one core each (about 35 s instead of 70)
            running.append((subprocess.Popen(["tar", "-xJf", tarball, "-C", cache] + members), stamp, stamp_key, tarball))
        trees[line] = root
    for process, stamp, stamp_key, tarball in running:
        if process.wait() != 0:
            raise SystemExit("cite-check: extracting %s failed" % tarball)
        open(stamp, "w").write(stamp_key)
    return {line: Tree(root) for line, root in trees.items()}


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
    """Kernel lines whose installed tree lies in [from, below), or in one of the range's `also`
    intervals."""
    out = set()
    for interval in kernels.get("also") or []:
        out |= claimed_lines(interval, tree_versions)
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


LIBRARY = "scenarios/lib/shared.yaml"


class Library:
    """The kernel ranges and citations every scenario file may name (scenarios/lib/shared.yaml,
    ScenarioLibrary in the CLI): a file's own names first, then these."""

    def __init__(self, path=None):
        self.path = path
        top = mapping(yaml.compose(open(path, encoding="utf-8").read())) if path and os.path.exists(path) else {}
        self.kernels = named_ranges(top.get("kernels"))
        self.citations = mapping(top.get("citations"))

    def redefined(self, path):
        """A catalog file's own definitions of the library's names: one fact is written once."""
        top = mapping(yaml.compose(open(path, encoding="utf-8").read()))
        out = []
        for section, names in (("kernels", self.kernels), ("citations", self.citations)):
            node = top.get(section)
            for key, _ in (node.value if isinstance(node, yaml.MappingNode) else []):
                if key.value in names:
                    out.append(Finding(mark(path, key), "", "'%s' is defined in %s, shared by every scenario: use that one (one fact is written once), or give this one another name"
                                       % (key.value, self.path)))
        return out


def range_fields(node):
    """A kernel range's node as {from, below, basis, note, also: [{from, below}, ...]}."""
    fields = {k: scalar(v) for k, v in mapping(node).items() if k != "also"}
    also = mapping(node).get("also")
    if isinstance(also, yaml.SequenceNode):
        fields["also"] = [{k: scalar(v) for k, v in mapping(i).items()} for i in also.value]
    return fields


def named_ranges(node):
    return {k: range_fields(v) for k, v in mapping(node).items()}


def citations_of(path, tree_versions, library=None):
    """Every citation of a scenario file, once per distinct node, with the trees its users claim."""
    library = library or Library()
    text = open(path, encoding="utf-8").read()
    root = yaml.compose(text)
    top = mapping(root)
    named_kernels = dict(library.kernels, **named_ranges(top.get("kernels")))
    named_cites = dict(library.citations, **mapping(top.get("citations")))
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
            k = named_kernels.get(kernels.value, {}) if isinstance(kernels, yaml.ScalarNode) else range_fields(kernels)
            claims = claimed_lines(k, tree_versions)
            key = id(cite)
            if key in uses:
                uses[key].claims |= claims
                continue
            c = mapping(cite)
            uses[key] = CitationUse(path, cite, scalar(c.get("file")) or "", scalar(c.get("function")) or "",
                                    scalar(c.get("detail")) or "", c.get("detail"), claims, mark(path, cite))
    for name, node in mapping(top.get("citations")).items():
        if id(node) not in uses:
            c = mapping(node)
            uses[id(node)] = CitationUse(path, node, scalar(c.get("file")) or "", scalar(c.get("function")) or "",
                                         scalar(c.get("detail")) or "", c.get("detail"), set(), mark(path, node))
            uses[id(node)].unused = name
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
    trees: tuple = ()       # the versions named before it in scope ("6.1.192 and 6.12.118: `...`")
    file: str = None        # a path named before it in scope
    refs: list = dataclasses.field(default_factory=list)   # the line references right after it
    hits: dict = dataclasses.field(default_factory=dict)   # kernel line -> lines where it is found


@dataclasses.dataclass(eq=False)
class LineRef:
    version: str            # as written ('6.12.117'); None when the detail names no tree
    first: int
    last: int
    start: int              # offset of 'L' in the detail
    end: int
    file: str = None
    quotes: list = dataclasses.field(default_factory=list)   # the quotes it follows (its group's)
    group: int = 0          # refs that follow the same quotes share a group


# A version is a tree label when a line number, a file, a function with a line number, a colon
# or a quote follows it, or another label ("6.1.192 and 6.12.118:"): "since the 6.1.56 stable
# update" is prose.
LABEL_AFTER = re.compile(r"[^;`]*?(?:(?<![\w])L\d|`)")   # a line number or a quote before the clause ends
JOINER = re.compile(r"^\s*(,|and|or|/|&)?\s*$")


def code_spans(detail):
    return [(m.start(), m.end()) for m in re.finditer(r"~?`[^`]*`", detail)]


def parse_detail(detail):
    """Quotes (paraphrases skipped), line references, named functions and problems of a detail."""
    quotes, refs, named, problems = [], [], set(), []
    tokens = []
    spans = code_spans(detail)

    def in_code(pos):
        return any(a <= pos < b for a, b in spans)

    for m in re.finditer(r"(~?)`([^`]*)`", detail):
        tokens.append((m.start(), "quote" if not m.group(1) else "paraphrase", m))
    for m in VERSION_RE.finditer(detail):
        if not in_code(m.start()) and LABEL_AFTER.match(detail, m.end()):
            tokens.append((m.start(), "version", m))
    for m in LINE_RE.finditer(detail):
        if not in_code(m.start()):
            tokens.append((m.start(), "line", m))
    for m in PATH_RE.finditer(detail):
        if not in_code(m.start()):
            tokens.append((m.start(), "path", m))
    for m in re.finditer(r"[();]|(?<!\.)\.(?!\.)(?=\s|$)", detail):
        if not in_code(m.start()):
            tokens.append((m.start(), m.group(0), m))
    for m in CALL_RE.finditer(detail):   # names in quotes count too: a quote of a call names its callee
        named.add(m.group(1))
    tokens.sort(key=lambda t: t[0])

    stack = []                      # (trees, file) saved at each '('
    trees, path = (), None
    pending = []                    # quotes waiting for the line references that follow them
    group, last_end, last_kind = 0, 0, None
    for pos, kind, m in tokens:
        if kind == "(":
            stack.append((trees, path))
        elif kind == ")":
            if stack:
                trees, path = stack.pop()
        elif kind in (";", "."):
            trees = ()              # a label holds to the end of its clause
            if not stack:
                pending = []        # and quotes wait for their line numbers within it
        elif kind == "version":
            version = m.group(0)
            if line_of(version) not in LINES:
                problems.append("%s names a tree of no kernel line the checker has (%s)" % (version, ", ".join(LINES)))
            if version in trees and last_kind == "version":
                pass
            elif last_kind == "version" and JOINER.match(detail[last_end:pos]):
                trees = trees + (version,)
            else:
                trees = (version,)
        elif kind == "path":
            path = m.group(1)
        elif kind == "quote":
            q = Quote(m.group(2), pos, trees, path)
            quotes.append(q)
            if pending and pending[-1].refs:
                pending = []
            pending.append(q)
        elif kind == "line":
            if len(trees) > 1:
                problems.append("L%s follows two trees (%s): name one" % (m.group(1), " and ".join(trees)))
            rest = m.group(2)
            if re.fullmatch(r"[-\u2013]\d+", rest):
                spans_ = [(int(m.group(1)), int(rest[1:]))]
            else:
                spans_ = [(int(x), int(x)) for x in [m.group(1)] + re.findall(r"\d+", rest)]
            if not (last_kind == "line" or (refs and refs[-1].quotes is pending and pending)):
                group += 1
            for first, last in spans_:
                if last < first:
                    problems.append("L%d-%d: a range that ends before it starts" % (first, last))
                r = LineRef(trees[-1] if trees else None, first, last, m.start(), m.end(), path, pending, group)
                for q in pending:
                    q.refs.append(r)
                refs.append(r)
        if kind in ("quote", "line", "version", "paraphrase", "(", ")"):
            last_kind = kind
        last_end = m.end()
    return quotes, refs, named, problems


# --- checking ---------------------------------------------------------------------------------

@dataclasses.dataclass
class Finding:
    where: str
    tree: str
    message: str
    fix: tuple = None       # (LineRef, shift) or (old version, new version), inside the detail


def check_use(use, trees, lines_known):
    """Findings of one citation, and the per-tree outcome {version: 'ok'|'FAIL'|'moved'|'n.a.'}."""
    findings = []
    outcome = {}
    files = per_line(use.file, lines_known)
    functions = per_line(use.function, lines_known)
    if files is None or functions is None:
        findings.append(Finding(use.where, "", "file/function per kernel line must read 'NAME (6.1), NAME (6.12)'"))
        return findings, {t.version: "FAIL" for t in trees.values()}
    if any(".." in f.split("/") or f.startswith("/") for f in files.values()):
        findings.append(Finding(use.where, "", "file must be a path inside the kernel tree (no '..', not absolute)"))
        return findings, {t.version: "FAIL" for t in trees.values()}
    quotes, refs, named, problems = parse_detail(use.detail)
    findings += [Finding(use.where, "", p) for p in problems]
    if getattr(use, "unused", None):
        findings.append(Finding(use.where, "", "the citation '%s' is used by no expectation: nothing claims a tree for it" % use.unused))
    by_version = {t.version: t for t in trees.values()}
    for r in refs:
        if r.version is None:
            findings.append(Finding(use.where, "", "L%d: a line number must name its tree (e.g. '%s L%d')" % (r.first, next(iter(by_version), "6.1.192"), r.first)))
    mentioned = {line_of(r.version) for r in refs if r.version} | {line_of(v) for q in quotes for v in q.trees}
    for line in sorted(use.claims | mentioned, key=version_tuple):
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

        # the quotes that hold for this tree, and where they are
        mine = []
        for q in quotes:
            if q.trees:
                applies = {line_of(v) for v in q.trees}
            else:
                applies = {line_of(r.version) for r in q.refs if r.version} or use.claims
            if line not in applies:
                continue
            qpath = q.file or fpath
            s, candidates = spans_in(qpath)
            if s is None:
                bad.append("`%s`: %s does not exist" % (short(q.text), qpath))
                continue
            hits = sorted({h for name, sp in candidates for h in s.find(q.text, sp)})
            if not hits:
                anywhere = s.find(q.text)
                if anywhere:
                    bad.append("`%s` is not in %s but in %s() (%s L%d)" % (short(q.text), "/".join(n for n, _ in candidates) or fname,
                                                                         s.function_at(anywhere[0]) or "no function", qpath, anywhere[0]))
                else:
                    bad.append("`%s` is not in %s (%s)" % (short(q.text), qpath, ", ".join(n + "()" for n, _ in candidates) or "no function"))
                continue
            q.hits[line] = hits
            mine.append(q)

        unanchored_stale = False
        groups = {}
        for r in refs:
            if r.version and line_of(r.version) == line:
                groups.setdefault(r.group, []).append(r)
        for members in groups.values():
            qs = [q for q in members[0].quotes if line in q.hits]
            # each line number goes with a quote: the n-th with the n-th when they pair up, else
            # with the nearest; and it starts where its quote starts (TOLERANCE lines)
            for i, r in enumerate(members):
                rpath = r.file or fpath
                s, candidates = spans_in(rpath)
                stale = r.version != tree.version
                text_of = "%s L%d%s" % (r.version, r.first, "-%d" % r.last if r.last != r.first else "")
                if qs:
                    partner = qs[i] if len(qs) == len(members) else min(qs, key=lambda q: min(abs(h - r.first) for h in q.hits[line]))
                    h = min(partner.hits[line], key=lambda h: abs(h - r.first))
                    delta = h - r.first
                    if delta == 0:
                        if stale:
                            bad.append(None)   # the label alone: reported once below
                        continue
                    # A tree that moved moves the range whole; in the same tree only its start
                    # goes to the quote (the author's end stays, past the start).
                    first, last = (h, max(r.last, h)) if not stale and h > r.first else (r.first + delta, r.last + delta)
                    new = "%s L%d%s" % (tree.version, first, "-%d" % last if last != first else "")
                    fixable = r.last == r.first or "-" in use.detail[r.start:r.end] or "\u2013" in use.detail[r.start:r.end]
                    findings.append(Finding(use.where, tree.version, "%s: %s -> %s (`%s` is at L%d)" % ("moved" if stale else "off", text_of, new, short(partner.text, 40), h),
                                            (r, (first, last)) if fixable and "/" not in use.detail[r.start:r.end] else None))
                    bad.append(None)
                    continue
                if s is None:
                    bad.append("L%d: %s does not exist" % (r.first, rpath))
                    continue
                inside = [n for n, (a, b) in candidates if a <= r.first and r.last <= b]
                if not inside:
                    holder = s.function_at(r.first)
                    bad.append("%s is not inside %s (it is in %s)" % (text_of, " / ".join(n + "()" for n, _ in candidates) or fname + "()",
                                                                    (holder + "()") if holder else "no function"))
                elif stale:
                    unanchored_stale = True
                    bad.append("%s: stale tree label, and no quote to follow: quote the code it points at, or give the %s line by hand" % (text_of, tree.version))
            # every quote lies in the lines given
            for q in qs:
                if not any(r.first - TOLERANCE <= h <= r.last + TOLERANCE for h in q.hits[line] for r in members):
                    if not any(f.fix and isinstance(f.fix[0], LineRef) and f.fix[0] in members for f in findings):
                        bad.append("`%s` (L%s) is not in the lines given (%s)" % (short(q.text, 40), "/".join(map(str, q.hits[line][:3])),
                                                                               ", ".join("L%d-%d" % (r.first, r.last) for r in members)))
        stale_labels = sorted({m.group(0) for m in VERSION_RE.finditer(use.detail)
                               if line_of(m.group(0)) == line and m.group(0) != tree.version and LABEL_AFTER.match(use.detail, m.end())
                               and not any(a <= m.start() < e for a, e in code_spans(use.detail))})
        for label in ([] if unanchored_stale else stale_labels):
            findings.append(Finding(use.where, tree.version, "stale tree label: %s -> %s" % (label, tree.version), (label, tree.version)))
            bad.append(None)
        for b in bad:
            if b:
                findings.append(Finding(use.where, tree.version, b))
        outcome[tree.version] = ("FAIL" if any(bad) else "moved" if bad else "ok") if (claimed or bad) else "n.a."
    return findings, outcome


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
        r, (first, last) = what, change
        detail = scalar(node) or ""
        token = detail[r.start:r.end]
        k = len(re.findall(r"(?<!\w)%s(?!\w)" % re.escape(token), detail[:r.start]))
        hits = list(re.finditer(r"(?<!\w)%s(?!\w)" % re.escape(token), region))
        if k < len(hits):
            m = hits[k]
            new = "L%d%s" % (first, "-%d" % last if last != first else "")
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


def check_hashes(path, text, commits, strict=False):
    """Every 12-digit commit hash is in the table; `strict` (the scenario files): a hex token of 7
    to 40 digits (letters and digits both) that is not 12 long is refused too (a hash written
    some other way would never be checked)."""
    out = []
    for number, line in enumerate(text.split("\n"), 1):
        if strict:
            for m in re.finditer(r"(?<![0-9a-zA-Z])[0-9a-fA-F]{7,40}(?![0-9a-zA-Z])", line):
                token = m.group(0)
                if len(token) != 12 or token != token.lower():
                    if re.search(r"[a-fA-F]", token) and re.search(r"\d", token):
                        out.append(Finding("%s:%d:%d" % (path, number, m.start() + 1), "", "%s: write a commit hash as its first 12 hex digits, lower case" % token))
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

    def follows(c, lo, hi):
        release = version_tuple(c["release"])
        firsts = [release] + [version_tuple(v) for v in c.get("stable") or []]
        if lo:
            v = version_tuple(lo)
            if v[:2] > release[:2] or any(v[:2] == f[:2] and v >= f for f in firsts):
                return True
        return bool(hi) and version_tuple(hi)[:2] == release[:2]

    for node, fields in walk(yaml.compose(text)):
        basis = scalar(fields.get("basis")) or ""
        bounds = range_fields(node)
        # a bound of any of its intervals (the range's own, those of `also`) may follow the commit
        intervals = [bounds] + bounds.get("also", [])
        for h in HASH_RE.findall(basis):
            c = commits.get(h)
            if not c or any(follows(c, i.get("from"), i.get("below")) for i in intervals):
                continue
            lo, hi = bounds.get("from"), bounds.get("below")
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
        for m in re.finditer(r"(?<![\w.])(\d+\.\d+\.\d+)(?:\s+[\w/.+-]+\.[ch])?(?:\s+(?:in\s+)?[\w.]+\(\))?:?\s+L\d+", node.value):
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
