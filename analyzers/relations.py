"""Relations that make two units look alike without being redundant, read from the code.

A caller and its callee share vocabulary because one uses the other; overrides of one method
across a class hierarchy are polymorphism; two dunders of one protocol (``__enter__`` and
``__exit__``) are halves of one contract; opposite operations (encode / decode) share their
nouns; overloads, property accessors and platform variants redefine one name in one module;
two modules that define the same names are alternative implementations of one interface.
Each is decided from the call graph, the class hierarchy or the module, not from the pair's
similarity, so it holds whatever the score.
"""

from __future__ import annotations

import builtins
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from inspect import cleandoc

from analyzers.imports import Bindings, Modules, imported_modules, is_package, module_bindings
from analyzers.model import CloneType, IndexedUnit, Unit
from analyzers.testcode import is_test

# Pairs of name terms that mean opposite operations (load_config / save_config).
OPPOSITES = (
    ("load", "save"),
    ("load", "dump"),
    ("read", "write"),
    ("encode", "decode"),
    ("serialize", "deserialize"),
    ("import", "export"),
    ("send", "receive"),
    ("pack", "unpack"),
    ("open", "close"),
    ("start", "stop"),
    ("enable", "disable"),
    ("connect", "disconnect"),
    ("lock", "unlock"),
    ("add", "remove"),
    ("push", "pop"),
    ("pull", "push"),
    ("acquire", "release"),
    ("upload", "download"),
    ("compress", "decompress"),
    ("encrypt", "decrypt"),
    ("request", "response"),
    ("to", "from"),
    ("bytes", "unicode"),
    ("bytes", "str"),
    ("bytes", "text"),
    ("get", "set"),
    ("enter", "exit"),
)

METHODS = ("method", "async_method")  # unit kinds inside classes


def base_name(unit: Unit) -> str:
    """The unit's own name, without the ordinal of a redefinition (``f@2`` -> ``f``)."""
    return unit.qualname.rsplit(".", 1)[-1].split("@", 1)[0]


def is_dunder(unit: Unit) -> bool:
    """A special method (``__init__``, ``__enter__``)."""
    name = base_name(unit)
    return name.startswith("__") and name.endswith("__")


_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_ENDINGS = ("", "s", "es", "d", "ed", "r", "er", "ing")


def _words(unit: Unit) -> set[str]:
    """The lower-case words of a unit's own name (no stemming, no stopwords kept out)."""
    return {w.lower() for w in _WORD.findall(base_name(unit))}


def _says(words: set[str], verb: str) -> bool:
    return any(w.startswith(verb) and w[len(verb) :] in _ENDINGS for w in words)


def opposed(a: Unit, b: Unit) -> bool:
    """The names say opposite operations: one has a word whose opposite only the other has."""
    left, right = _words(a), _words(b)
    for one, other in OPPOSITES:
        if (_says(left, one) and _says(right, other) and not _says(left, other)) or (
            _says(left, other) and _says(right, one) and not _says(left, one)
        ):
            return True
    return False


def calls(caller: IndexedUnit, callee: IndexedUnit) -> bool:
    """``caller`` calls ``callee`` (a wrapper calls what it wraps), as far as names can tell.

    A bare call ``f()`` reaches a function or class, never a method, and is recursion when the
    caller is a function of that name; ``mod.f()`` reaches a module's function (unless the callee
    calls ``mod.f()`` too: then both call a third); ``self.f()``
    reaches a method of the caller's own class. ``super().f()`` and calls on other objects
    (``.f`` alone) say nothing about which unit runs: the class hierarchy speaks for those.
    """
    name = base_name(callee.unit)
    found = [c for c in caller.features.calls if c.rsplit(".", 1)[-1] == name]
    if not found:
        return False
    callee_is_method = callee.unit.kind in METHODS
    caller_is_method = caller.unit.kind in METHODS
    if name in found and not callee_is_method:
        if base_name(caller.unit) != name or caller_is_method:
            return True  # not recursion: a method wrapping the module's function of its name
    # ``signal.send_catch_log_async`` from ``SignalManager``'s method; but a qualified call the
    # callee makes too reaches a third function (both copies of ``dumps`` call ``json.dumps``).
    if any(not c.startswith(".") and "." in c and c not in callee.features.calls for c in found):
        return True
    bare_only = "." + name in found and name not in found
    return (
        bare_only
        and callee_is_method
        and caller_is_method
        and caller.unit.parent == callee.unit.parent
        and caller.unit.key != callee.unit.key
    )


def _class_of(unit: Unit) -> str:
    """The class a unit is, or the class of a method; empty for a function."""
    if unit.kind == "class":
        return base_name(unit)
    if unit.kind in METHODS and unit.parent:
        return unit.parent.rsplit(".", 1)[-1]
    return ""


# Bases that say how a class is built, not what it implements.
_MARKERS = frozenset({"object", "ABC", "Generic", "NamedTuple", "TypedDict"})


# Two modules are alternative implementations of one interface (backends, platform or protocol
# variants) when most names one defines, the other defines too.
_PARALLEL_SHARED = 4
_PARALLEL_SHARE = 0.5

# Subclasses of one base that make it a table of variants (one class per language, dialect,
# locale) rather than a few implementations of an interface.
TABLE = 10


class Hierarchy:
    """The repository's classes by name, their bases and the methods each defines, and the
    names each module defines (its functions, classes and their methods)."""

    def __init__(
        self, index: Sequence[IndexedUnit], sources: Callable[[str], str | None] | None = None
    ) -> None:
        self.sources = sources
        self.bases: dict[str, set[str]] = defaultdict(set)
        self.methods: dict[str, set[str]] = defaultdict(set)
        self.coroutines: dict[str, set[str]] = defaultdict(set)  # the async methods
        self._retired: set[tuple[str, str | None]] = set()  # deprecated classes
        self._tests_at: dict[str, set[str]] = defaultdict(set)  # classes with test methods
        self._heirs: dict[str, list[str]] = {}  # a base's subclasses here
        # The exact hashes of each class's methods, by (class, method name).
        self._bodies: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.defined: dict[str, set[str]] = defaultdict(set)
        for item in index:
            unit = item.unit
            if unit.kind == "class":
                self.bases[base_name(unit)].update(item.features.bases)
            elif unit.kind in METHODS and unit.parent:
                cls, name = unit.parent.rsplit(".", 1)[-1], base_name(unit)
                self.methods[cls].add(name)
                self._bodies[(cls, name)].add(item.features.exact_hash)
                if name.startswith("test"):
                    self._tests_at[unit.path].add(cls)
                if unit.kind == "async_method":
                    self.coroutines[cls].add(name)
            if (unit.parent is None or unit.kind in METHODS) and not is_dunder(unit):
                # Special methods are every class's, not an interface's.
                self.defined[unit.path].add(base_name(unit))
            if _retires_class(item):
                self._retired.add((unit.path, unit.parent))
        self._ancestors: dict[str, frozenset[str]] = {}
        self._descendants: Counter[str] | None = None
        self._modules = Modules(self._files())
        self._imports: dict[str, frozenset[str]] = {}
        self._bindings: dict[str, Bindings | None] = {}

    def _files(self) -> set[str]:
        """The modules with definitions, and the package ``__init__.py`` files above them
        (with none, a package's modules would get the wrong dotted names)."""
        files = set(self.defined)
        folders = {
            "/".join(p.split("/")[:i]) for p in self.defined for i in range(1, p.count("/") + 1)
        }
        if self.sources is not None:
            files.update(
                f"{folder}/__init__.py" for folder in folders if is_package(folder, self.sources)
            )
        return files

    def imports(self, path: str) -> frozenset[str]:
        """The modules ``path`` imports when it runs (empty when its text is not at hand)."""
        found = self._imports.get(path)
        if found is None:
            bindings = self.bindings(path)
            found = frozenset()
            if bindings is not None:
                found = frozenset(imported_modules(bindings, self._modules))
            self._imports[path] = found
        return found

    def bindings(self, path: str) -> Bindings | None:
        """The module-level bindings of ``path``, parsed once (None when not at hand)."""
        if path not in self._bindings:
            text = self.sources(path) if self.sources else None
            named = self._modules.name(path)
            found = None
            if text is not None and named is not None:
                try:
                    found = module_bindings(text, named[1], path.endswith("__init__.py"))
                except SyntaxError:
                    found = None
            self._bindings[path] = found
        return self._bindings[path]

    def imported(self, path: str, name: str) -> tuple[str, str] | None:
        """Where ``path`` imports the name ``name`` from: (file of the repository, the name
        there) for ``from mod import f as name``; None for any other binding, or unknown."""
        bindings = self.bindings(path)
        if bindings is None:
            return None
        module, _, attr = bindings.imports.get(name, "").rpartition(".")
        found = self._modules.path(module) if module else None
        return (found, attr) if found is not None else None

    def async_port(self, a: Unit, b: Unit) -> bool:
        """One is the coroutine twin of the other: an ``async def`` and a ``def``, or two
        classes where a method one runs synchronously the other awaits (an ASGI port of a
        WSGI parser): each does its own I/O."""
        if a.kind.startswith("async") != b.kind.startswith("async"):
            return True
        if "class" not in (a.kind, b.kind):
            return False
        # A class against a class, or against a method it reads like: the methods of one name.
        views = [self._awaits(u) for u in (a, b)]
        return any(views[0][m] != views[1][m] for m in views[0].keys() & views[1].keys())

    def _awaits(self, unit: Unit) -> dict[str, bool]:
        """Method name -> whether it is a coroutine, for a class's methods or one method."""
        if unit.kind != "class":
            return {base_name(unit): unit.kind.startswith("async")}
        cls = base_name(unit)
        coroutines = self.coroutines.get(cls, set())
        return {m: m in coroutines for m in self.methods.get(cls, set())}

    def parallel(self, a: str, b: str) -> bool:
        """Two modules defining mostly the same names: alternative implementations of one
        interface (``_backends/_asyncio.py`` and ``_backends/_trio.py``, ``h11_impl.py`` and
        ``httptools_impl.py``), each adapting it to its own library."""
        if a == b:
            return False
        left, right = self.defined.get(a, set()), self.defined.get(b, set())
        shared = len(left & right)
        smaller = min(len(left), len(right))
        if shared < _PARALLEL_SHARED or shared < _PARALLEL_SHARE * smaller:
            return False
        # Alternatives do not build on each other: a module importing the other holds its
        # subclasses (``App`` overriding ``Scaffold``'s methods), its callers, its layer above.
        name_a, name_b = self._modules.name(a), self._modules.name(b)
        return not (
            (name_b is not None and name_b[1] in self.imports(a))
            or (name_a is not None and name_a[1] in self.imports(b))
        )

    def declaration(self, unit: Unit) -> bool:
        """A class with no methods: fields of a dataclass, a named tuple, a typed dict."""
        return unit.kind == "class" and not self.methods.get(base_name(unit))

    def only_special(self, unit: Unit) -> bool:
        """A class whose methods are all special methods (``__call__``, ``__repr__``)."""
        if unit.kind != "class":
            return False
        methods = self.methods.get(base_name(unit), set())
        return bool(methods) and all(m.startswith("__") and m.endswith("__") for m in methods)

    def ancestors(self, cls: str) -> frozenset[str]:
        """Every class ``cls`` derives from, by name, transitively (``cls`` itself included)."""
        found = self._ancestors.get(cls)
        if found is None:
            seen = {cls}
            todo = [cls]
            while todo:
                for base in self.bases.get(todo.pop(), ()):
                    if base not in seen:
                        seen.add(base)
                        todo.append(base)
            found = self._ancestors[cls] = frozenset(seen)
        return found

    def descendants(self, cls: str) -> int:
        """How many of the repository's classes derive from ``cls``, directly or not."""
        if self._descendants is None:
            self._descendants = Counter(
                up for name in self.bases for up in self.ancestors(name) if up != name
            )
        return self._descendants[cls]

    def in_test_case(self, unit: Unit) -> bool:
        """A class deriving from a ``TestCase`` (unittest's, Django's, an async one), or a unit
        inside one: a test wherever its module lives (rope keeps its tests in ``ropetest/``,
        in modules named ``projecttest.py``), found the way unittest finds it."""
        parts = unit.qualname.split(".")
        return any(
            self._test_case(name) for name in (parts if unit.kind == "class" else parts[:-1])
        )

    def in_test_module(self, path: str) -> bool:
        """A module holding a test class (a ``TestCase`` with test methods): its other classes
        and functions are that test's fixtures and doubles, wherever the module lives
        (rope's ``ropetest/projecttest.py`` and its mock file-system commands)."""
        return any(self._test_case(name) for name in self._tests_at.get(path, ()))

    def _test_case(self, name: str) -> bool:
        return any(base.endswith("TestCase") and base != name for base in self.ancestors(name))

    def retired(self, item: IndexedUnit) -> bool:
        """The unit is deprecated, or a method of a deprecated class (its constructor warns that
        it is): code on its way out, whatever its own body says."""
        if deprecated(item):
            return True
        parts = item.unit.qualname.split(".")
        return any(
            (item.unit.path, ".".join(parts[:i])) in self._retired for i in range(1, len(parts) + 1)
        )

    def table(self, a: Unit, b: Unit) -> bool:
        """Two overrides of one base method where the base has ``TABLE`` or more subclasses:
        entries of a table of variants, each filling the hook for its own case.

        With one class per language (arrow's 80 locales), two entries' plural rules or
        relative-time formats coincide when the grammars do; each entry is kept whole on
        purpose, and the next language copies whichever is closest. Two or three
        implementations of an interface that agree (``Flask``/``Blueprint``, three shells'
        completion arguments) are the copy to pull into the base.
        """
        name = base_name(a)
        if name != base_name(b):
            return False
        return any(
            name in self.methods.get(cls, ()) and self.descendants(cls) >= TABLE
            for cls in self._shared_bases(a, b)
        )

    def _shared_bases(self, a: Unit, b: Unit) -> frozenset[str]:
        """The classes both methods' classes derive from, those two aside; none for a unit
        that is not a method."""
        if a.kind not in METHODS or b.kind not in METHODS:
            return frozenset()
        ca, cb = _class_of(a), _class_of(b)
        if not ca or not cb:
            return frozenset()
        return (self.ancestors(ca) & self.ancestors(cb)) - {ca, cb}

    def entries(self, a: Unit, b: Unit) -> bool:
        """Methods of two classes that derive from one class of the repository with ``TABLE``
        or more subclasses: parts of two entries of a table of variants (one class per
        plugin, per cloud service, per build-system generator).

        Each entry is written whole for its own site or service, helpers included, and the
        next entry is written from whichever is closest; what two entries' own helpers share
        is the domain's way of doing that job (a site's API queried, a service's resources
        listed), not a routine one of them should call. Judged on real history, none of the 10
        edited or same-concept findings between such entries was worth acting on (moto's
        per-service backends and responses, streamlink's plugins, conan's generators).
        """
        if _class_of(a) == _class_of(b):
            return False  # one class, or two of one name: not two entries
        # Only the repository's own classes: every class of a Django app is a Model.
        return any(
            cls in self.bases and self.descendants(cls) >= TABLE for cls in self._shared_bases(a, b)
        )

    def overrides(self, a: Unit, b: Unit) -> bool:
        """Methods of one name where one class derives from the other, or both from a class
        that defines that method, or two such classes: implementations of one interface."""
        if "class" in (a.kind, b.kind):
            # A class against another class, or against a method of one (a one-method class
            # reads like its method): compare the two classes.
            ca, cb = _class_of(a), _class_of(b)
            return bool(ca and cb) and self._implementations(ca, cb)
        if a.kind not in METHODS or b.kind not in METHODS or not a.parent or not b.parent:
            return False
        name = base_name(a)
        if name != base_name(b):
            return False
        return self._one_method(a.parent.rsplit(".", 1)[-1], b.parent.rsplit(".", 1)[-1], name)

    def crosses(self, a: Unit, b: Unit) -> bool:
        """Two differently named methods of two classes, where one's class has its own
        implementation of the other's method: the pair crosses two operations of one interface.

        ``PostgresBackend.delete`` and ``SqliteBackend.create`` each sit beside their class's own
        version of the other (``PostgresBackend.create``); a subclass's helper and a base method
        the subclass overrides likewise. Whatever they share (open, commit, close), each
        operation's counterpart is the same-named method of the other class, not this one.
        """
        if a.kind not in METHODS or b.kind not in METHODS or not a.parent or not b.parent:
            return False
        na, nb = base_name(a), base_name(b)
        ca, cb = a.parent.rsplit(".", 1)[-1], b.parent.rsplit(".", 1)[-1]
        if na == nb or ca == cb:
            return False
        return (nb in self.methods.get(ca, ()) and self._one_method(ca, cb, nb)) or (
            na in self.methods.get(cb, ()) and self._one_method(ca, cb, na)
        )

    def _one_method(self, ca: str, cb: str, name: str) -> bool:
        """``ca.name`` and ``cb.name`` implement one method: one class derives from the other,
        or both from a class that defines it, or from a base defined elsewhere."""
        up_a, up_b = self.ancestors(ca), self.ancestors(cb)
        if ca in up_b or cb in up_a:
            return True
        return bool(self._interfaces((up_a & up_b) - {ca, cb}, name))

    def _interfaces(self, shared: set[str] | frozenset[str], name: str) -> list[str]:
        """The classes of ``shared`` that declare ``name``: those defining it, and bases the
        repository does not define (``asyncio.Protocol``, a framework's class) whose methods
        no one here can list, when ``name`` is one of their hooks."""
        return [
            cls
            for cls in shared
            if name in self.methods.get(cls, ())
            or (cls not in self.bases and cls not in _MARKERS and self._foreign_hook(cls, name))
        ]

    def _foreign_hook(self, cls: str, name: str) -> bool:
        """Whether ``name`` may be a hook of ``cls``, a base defined outside the repository.

        A builtin's methods are known (``list`` has no ``on_request``). Another library's are
        not, but its hooks show in the repository: more than two of the classes deriving from
        it define them (every asyncio protocol its ``connection_lost``), or all do. A name two
        of poetry's fifty commands define (``source_to_table``) is their own helper, twice.
        """
        builtin = getattr(builtins, cls, None)
        if isinstance(builtin, type):
            return hasattr(builtin, name)
        heirs = self.heirs(cls)
        defining = sum(name in self.methods.get(c, ()) for c in heirs)
        return defining > 2 or defining == len(heirs)

    def heirs(self, cls: str) -> list[str]:
        """The repository's classes deriving from ``cls``, directly or not."""
        heirs = self._heirs.get(cls)
        if heirs is None:
            heirs = self._heirs[cls] = [
                c for c in self.bases if c != cls and cls in self.ancestors(c)
            ]
        return heirs

    def coincide(self, a: IndexedUnit, b: IndexedUnit) -> bool:
        """Two identical implementations of one interface method that most of its
        implementations write otherwise: variants that happen to agree.

        tortoise-orm's dialects each write the DEFAULT clause their base leaves to them; MSSQL's
        and Oracle's coincide while MySQL's, PostgreSQL's and SQLite's differ. A default in the
        base would serve two variants of five. When the agreeing ones are the majority (three
        shells of four parse their arguments alike, every handler decodes its body alike), the
        base is where that code belongs, and the copy is reported.
        """
        ua, ub = a.unit, b.unit
        if ua.kind not in METHODS or ub.kind not in METHODS or not ua.parent or not ub.parent:
            return False
        name = base_name(ua)
        ca, cb = ua.parent.rsplit(".", 1)[-1], ub.parent.rsplit(".", 1)[-1]
        up_a, up_b = self.ancestors(ca), self.ancestors(cb)
        if ca in up_b or cb in up_a:
            return False  # a subclass repeating what it inherits
        implementations = {
            c
            for cls in self._interfaces((up_a & up_b) - {ca, cb}, name)
            for c in self.heirs(cls)
            if name in self.methods.get(c, ())
        }
        body = a.features.exact_hash
        agreeing = sum(body in self._bodies.get((c, name), ()) for c in implementations)
        return 2 * agreeing <= len(implementations)

    def _implementations(self, ca: str, cb: str) -> bool:
        """Two classes of one hierarchy whose methods all implement an ancestor's methods."""
        up_a, up_b = self.ancestors(ca), self.ancestors(cb)
        if ca in up_b or cb in up_a:
            return True
        shared = (up_a & up_b) - {ca, cb}
        if any(cls not in self.bases and cls not in _MARKERS for cls in shared):
            return True  # siblings of a base defined elsewhere: see ``overrides``
        interface = set().union(*(self.methods.get(cls, set()) for cls in shared))
        # Constructors and other special methods are each class's own, not the interface's.
        own = {
            m
            for m in self.methods.get(ca, set()) | self.methods.get(cb, set())
            if not (m.startswith("__") and m.endswith("__"))
        }
        return bool(interface) and own <= interface


# Words a folder or module is named with when it keeps code of the past: deprecated code until
# it is deleted (``isort/deprecated/finders.py``), an old version's behaviour kept as it was
# (``jsonschema/_legacy_validators.py``, pip's legacy resolver), an archived copy.
_RETIRED_WORDS = frozenset({"deprecated", "legacy", "archived"})
# Constructors set up their own class's state, whatever their size: two classes' identical
# ``__init__`` (exceptions storing the same arguments) are two records, not one routine. They
# run whenever a class is used, so a deprecation warning in one retires the whole class.
_CONSTRUCTORS = frozenset({"__init__", "__new__", "__post_init__"})


def _retired_place(path: str) -> bool:
    """A folder or module of the path is named for code of the past (a whole word of it).

    "archive" counts after the name of what it keeps (``pyparsing_archive.py``, a snapshot of
    the old module); alone or first it names code that handles archives (fsspec's
    ``archive.py``, an ``archive_utils.py``).
    """
    for part in path.removesuffix(".py").split("/"):
        words = [w for w in re.split(r"[_\-.]", part.lower()) if w]
        if _RETIRED_WORDS.intersection(words) or "archive" in words[1:]:
            return True
    return False


def _retires_class(item: IndexedUnit) -> bool:
    """A constructor that warns its class is deprecated."""
    unit = item.unit
    return unit.kind in METHODS and base_name(unit) in _CONSTRUCTORS and deprecated(item)


def deprecated(item: IndexedUnit) -> bool:
    """The unit warns that it is deprecated, or lives where code of the past is kept: it is to
    be removed or kept as it is, not unified.

    Read from the code: the path; its docstring's ``.. deprecated::`` directive at the
    docstring's own level (reST, as Sphinx documents a deprecated object; one indented under a
    parameter deprecates only that parameter); or a ``warn`` call (``warnings.warn``, ``warn``)
    whose arguments name a deprecation warning class (``DeprecationWarning``,
    ``PendingDeprecationWarning``, a project's ``RemovedIn30Warning``-style or ``*Deprecat*``
    class). A call to a project's own helper that warns of a deprecation is no sign: alembic's
    ``Config`` methods call ``util.warn_deprecated`` when an old option is used, and they are live.
    """
    if _retired_place(item.unit.path):
        return True
    if item.unit.docstring and _DEPRECATED_DIRECTIVE.search(cleandoc(item.unit.docstring)):
        return True
    f = item.features
    if not any(c.rsplit(".", 1)[-1] == "warn" for c in f.calls):
        return False
    if any(t.startswith(("deprecat", "warn")) for t in f.name_terms):
        return False  # the deprecation machinery itself (``def deprecated(...)``), not its use
    return any(t.startswith(("deprecat", "remov")) for t in f.ident_terms)


_DEPRECATED_DIRECTIVE = re.compile(r"^\.\.\s+deprecated::", re.MULTILINE)


_COLOUR = re.compile(r"(?<![A-Za-z])(_?)(?:[Aa]sync|[Ss]ync)(?![a-z])(_?)")


def colourless(text: str) -> str:
    """A path or a name without its async/sync words: ``_async/http11.py::AsyncHTTP11.
    handle_async_request`` and ``_sync/http11.py::HTTP11.handle_request`` meet."""
    # One underscore stays where the word sat between two (handle_async_request).
    return _COLOUR.sub(lambda m: "_" if m.group(1) and m.group(2) else "", text).replace("//", "/")


def _colour(path: str) -> frozenset[str]:
    return frozenset(m.group(0).strip("_").lower() for m in _COLOUR.finditer(path))


def _one_word_apart(one: str, other: str) -> tuple[str, str] | None:
    """The two words that tell ``one`` and ``other`` apart, when they differ in one word."""
    left, right = one.lower().split("_"), other.lower().split("_")
    if len(left) != len(right):
        return None
    differ = [(x, y) for x, y in zip(left, right, strict=True) if x != y]
    return differ[0] if len(differ) == 1 and all(differ[0]) else None


Words = tuple[str, ...]


def name_words(name: str) -> Words:
    """The lower-case words of a name in order, a plural ``s`` dropped from longer words
    (``list_endpoint_configs`` -> ``list``, ``endpoint``, ``config``)."""
    words = (w.lower() for w in _WORD.findall(name.split("@", 1)[0]))
    return tuple(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)


def parallel_names(
    one: str, other: str, names: frozenset[Words], holding: Mapping[str, list[Words]]
) -> int:
    """How many other names of ``names`` (as name_words; ``holding`` lists them by word) have
    the words that tell ``one`` from ``other`` in them, and are names again with those written
    as ``other`` has them.

    ``foods_by_alias`` and ``units_by_alias`` differ by food / unit; ``validate_food`` and
    ``validate_unit``, ``food_seeder`` and ``unit_seeder`` make two such parallels. A name
    that only adds words (``split_lines_terminator``) has none.
    """
    left, right = name_words(one), name_words(other)
    start = 0
    while start < min(len(left), len(right)) and left[start] == right[start]:
        start += 1
    end = 0
    while end < min(len(left), len(right)) - start and left[-1 - end] == right[-1 - end]:
        end += 1
    mine, theirs = left[start : len(left) - end], right[start : len(right) - end]
    if not mine or not theirs:
        return 0
    found = 0
    for name in holding.get(mine[0], ()):
        if name in (left, right):
            continue
        for i in range(len(name) - len(mine) + 1):
            if name[i : i + len(mine)] == mine:
                if name[:i] + theirs + name[i + len(mine) :] in names:
                    found += 1
                break
    return found


def backend_twins(a: Unit, b: Unit) -> bool:
    """Modules and units named for what they serve, by the same word: ``file_finder_git.py::
    git_archive_find_files`` and ``file_finder_hg.py::hg_archive_find_files`` are one plugin per
    backend, each written for its own tool; ``multi_distances.py::calculate_multi_context_scores``
    beside ``distances.py::calculate_context_scores`` is the multi-vector version of each
    formula, written for its own kind of vector (qdrant's local mode keeps one module per kind).
    """
    if a.path == b.path or is_test(a) or is_test(b):
        return False  # per-resource tests are what a user who asks for tests wants to fold
    stems = [u.path.rsplit("/", 1)[-1].removesuffix(".py") for u in (a, b)]
    word = _one_word_apart(*stems)
    if word is not None:
        return _one_word_apart(base_name(a), base_name(b)) == word
    added = _words_added(*stems)
    return added is not None and _words_added(base_name(a), base_name(b)) == added


def _words_added(one: str, other: str) -> tuple[str, tuple[str, ...]] | None:
    """The run of words one of ``one`` and ``other`` adds to the other, with the longer name's
    side: ``distances`` / ``multi_distances`` gives ``multi``."""
    left, right = (name.lower().strip("_").split("_") for name in (one, other))
    side = "right" if len(right) > len(left) else "left"
    short, long = (left, right) if side == "right" else (right, left)
    extra = len(long) - len(short)
    if extra < 1:
        return None
    for i in range(len(short) + 1):
        if long[:i] == short[:i] and long[i + extra :] == short[i:]:
            added = tuple(long[i : i + extra])
            return (side, added) if all(added) else None
    return None


def across_twins(a: Unit, b: Unit) -> bool:
    """One is in a package's async tree and the other in its sync tree: the trees mirror each
    other, so whatever the pair shares, the same pair exists inside one tree."""
    ca, cb = _colour(a.path), _colour(b.path)
    return bool(ca and cb) and ca != cb


def _a_prefixed(one: str, other: str) -> bool:
    """The names differ in one word only, which one of them prefixes with ``a`` (the async
    naming of ``aclose``, ``ainvoke``, ``aiter``)."""
    word = _one_word_apart(one, other)
    if word is None:
        return False
    shorter, longer = sorted(word, key=len)
    return len(shorter) >= 3 and longer == "a" + shorter


def variants(a: Unit, b: Unit) -> bool:
    """One is the ``async`` twin of the other: by its kind (``aread``/``read``), or because
    their paths and names differ only by async/sync words (a package's ``_async`` and
    ``_sync`` trees, often one generated from the other, kept in pairs on purpose)."""
    ka, kb = a.kind.startswith("async"), b.kind.startswith("async")
    na, nb = base_name(a), base_name(b)
    if ka != kb:
        sync_name, async_name = (na, nb) if kb else (nb, na)
        if async_name in (sync_name, "a" + sync_name, "async_" + sync_name):
            return True
    if a.path == b.path and (
        _a_prefixed(na, nb) or _a_prefixed(a.qualname.split(".")[0], b.qualname.split(".")[0])
    ):
        # ``_wrap_ainvoke`` returns the coroutine twin of ``_wrap_invoke``'s wrapper; whatever
        # one of them holds is the twin of what the other holds.
        return True
    if a.path == b.path and a.qualname == b.qualname:
        return False
    return colourless(f"{a.path}::{a.qualname}") == colourless(f"{b.path}::{b.qualname}")


# A special method this short is a class's own protocol glue (``__repr__`` of its fields, a
# ``__del__`` warning), identical across classes without being a thing to share.
_SMALL_SPECIAL = 10


def _small_special_pair(a: Unit, b: Unit) -> bool:
    if not (is_dunder(a) and base_name(a) == base_name(b)):
        return False
    if a.parent is None and b.parent is None:
        # A module's ``__getattr__`` or ``__dir__`` (PEP 562) answers for that module alone,
        # reading its own globals by name: two modules' identical lazy-import or deprecation
        # hooks are each module's own, whatever their size (judged: 3 such findings in
        # bench/realworld, all noise).
        return a.path != b.path
    return a.parent != b.parent and (
        base_name(a) in _CONSTRUCTORS or max(a.lines, b.lines) <= _SMALL_SPECIAL
    )


def not_redundancy(
    a: IndexedUnit, b: IndexedUnit, clone_type: CloneType, hierarchy: Hierarchy
) -> str | None:
    """Why the likeness of ``a`` and ``b`` is by design, or None when it may be redundancy.

    An identical copy (Type-1) is redundancy even between overrides or opposite names: the same
    body twice is the thing to remove. A caller and its callee never are.
    """
    ua, ub = a.unit, b.unit
    if calls(a, b) or calls(b, a):
        return "one calls the other"
    if hierarchy.retired(a) or hierarchy.retired(b):
        return "code of the past (deprecated, legacy or archived), kept as it is"
    if ua.path == ub.path and base_name(ua) == base_name(ub) and ua.parent == ub.parent:
        return "redefinitions of one name (overloads, accessors, platform variants)"
    async_twins = clone_type in ("type-2", "type-3") and hierarchy.async_port(ua, ub)
    if variants(ua, ub) or across_twins(ua, ub) or async_twins:
        # Before the identical-copy rule: a twin tree repeats whatever does not await.
        return "the synchronous and asynchronous variants of one operation"
    if clone_type == "type-1":
        if _small_special_pair(ua, ub):
            return (
                "each class's or module's own special method (its constructor, a module's "
                "__getattr__, or a few lines of protocol)"
            )
        return None
    if hierarchy.parallel(ua.path, ub.path) or backend_twins(ua, ub):
        return "two implementations of one interface (parallel modules), each adapting it"
    if (is_dunder(ua) and is_dunder(ub)) or (
        hierarchy.only_special(ua) and hierarchy.only_special(ub)
    ):
        # ``__enter__`` / ``__exit__`` are halves of one protocol; two classes' ``__exit__``
        # each implement it for their own state, and so do two classes made only of them.
        return "special methods of a protocol"
    if clone_type == "type-2" and ua.path == ub.path:
        return "a family written side by side (one shape, names and literals differ by design)"
    if hierarchy.declaration(ua) and hierarchy.declaration(ub):
        return "two data declarations (fields differ by name and type, which is their point)"
    if hierarchy.overrides(ua, ub):
        return "overrides of one method in a class hierarchy"
    if hierarchy.crosses(ua, ub):
        return "two different operations of one interface, each with its own counterpart"
    if opposed(ua, ub):
        return "opposite operations"
    return None
