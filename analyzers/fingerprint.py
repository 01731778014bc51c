"""Features of one unit: clone hashes, near-miss sketch and concept evidence, from its ``ast`` node.

The token stream is a pre-order walk of the syntax tree, so layout and comments never reach it;
docstrings are dropped on purpose. The *blind* stream replaces every identifier and literal by a
placeholder, which is what makes renamed (Type-2) and near-miss (Type-3) copies meet.
"""

from __future__ import annotations

import ast
import hashlib
import heapq
import zlib
from dataclasses import dataclass

from analyzers.model import Features
from analyzers.profile import docstring_node
from analyzers.terms import identifier_terms, text_terms

SHINGLE = 5  # tokens per shingle
SKETCH = 32  # bottom-k sketch size

DefNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef

_TOKEN_IDS: dict[str, int] = {}


def _token_id(token: str) -> int:
    # crc32 is stable across processes, unlike hash() of a str.
    found = _TOKEN_IDS.get(token)
    if found is None:
        found = _TOKEN_IDS[token] = zlib.crc32(token.encode())
    return found


@dataclass
class Streams:
    """The exact and blind token streams of a subtree, plus the raw material of concept terms."""

    exact: list[str]
    blind: list[str]
    names: list[str]
    calls: list[str]
    literals: list[str]
    statements: int
    locals: list[str]
    fragments: list[int]


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        root = node.id
        if root in ("self", "cls"):
            root = ""
        parts.append(root)
        return ".".join(reversed(parts))
    if parts:
        # A call on an expression (``client().get``): keep the method name.
        return "." + ".".join(reversed(parts))
    return None


def _literal_ok(text: str) -> bool:
    stripped = text.strip()
    return 3 <= len(stripped) <= 200 and any(ch.isalnum() for ch in stripped)


class Walker:
    """Builds the streams of every def/class node of a module, reusing nested results."""

    def __init__(self) -> None:
        self.memo: dict[int, Streams] = {}

    def streams(self, node: DefNode) -> Streams:
        found = self.memo.get(id(node))
        if found is None:
            found = Streams([], [], [], [], [], 0, [], [])
            self._walk(node, found, top=True)
            self.memo[id(node)] = found
        return found

    def _walk(
        self,
        node: ast.AST,
        out: Streams,
        top: bool = False,
        annotation: bool = False,
        declared: bool = False,
    ) -> None:
        if not top and isinstance(node, _DEF_TYPES):
            inner = self.streams(node)
            out.exact.extend(inner.exact)
            out.blind.extend(inner.blind)
            out.names.extend(inner.names)
            out.calls.extend(inner.calls)
            out.literals.extend(inner.literals)
            out.statements += inner.statements
            out.locals.extend(inner.locals)
            out.fragments.extend(inner.fragments)
            return
        shape = _SHAPES.get(type(node))
        if shape is None:
            shape = _SHAPES[type(node)] = _shape(type(node))
        kind, is_stmt, fields, has_body, has_hint = shape
        mark = len(out.blind)
        header_end = -1  # where the first nested statement starts, for a compound statement
        out.exact.append(kind)
        out.blind.append(kind)
        if is_stmt:
            out.statements += 1
        # ``declared``: inside a decorator, which declares how the unit is registered or
        # exposed (``@click.option("--dir", help=...)``), not what its body does: structure
        # for the clone hashes, but no vocabulary for the concept channel.
        vocabulary = not declared
        if isinstance(node, ast.Name):
            out.exact.append(node.id)
            out.blind.append("ID")
            if vocabulary:
                out.names.append(node.id)
            if isinstance(node.ctx, ast.Store):
                out.locals.append(node.id)
        elif isinstance(node, ast.Attribute):
            out.exact.append(node.attr)
            out.blind.append("ID")
            if vocabulary:
                out.names.append(node.attr)
        elif isinstance(node, ast.arg):
            out.exact.append(node.arg)
            out.blind.append("ID")
            out.names.append(node.arg)
            out.locals.append(node.arg)
        elif isinstance(node, _DEF_TYPES):
            out.exact.append(node.name)
            out.blind.append("ID")
        elif isinstance(node, ast.Constant):
            out.exact.append(repr(node.value))
            out.blind.append("LIT")
            if (
                isinstance(node.value, str)
                and vocabulary
                and not annotation
                and _literal_ok(node.value)
            ):
                out.literals.append(node.value.strip())
        elif isinstance(node, ast.keyword) and node.arg:
            out.exact.append(node.arg)
            out.blind.append("ID")
        elif isinstance(node, ast.alias):
            out.exact.append(node.name)
            out.blind.append("ID")
        elif isinstance(node, ast.ImportFrom):
            # Where a name comes from is part of the code: two bodies importing one name from
            # two SDKs (``azure.mgmt.cdn.models`` / ``azure.mgmt.frontdoor.models``) differ.
            out.exact.append("." * node.level + (node.module or ""))
            out.blind.append("ID")
        elif isinstance(node, ast.Call):
            dotted = _dotted(node.func)
            if dotted and vocabulary:
                out.calls.append(dotted)
        doc = docstring_node(node) if has_body else None
        hint = (
            getattr(node, "annotation", None) or getattr(node, "returns", None)
            if has_hint
            else None
        )
        # The children in ``ast.iter_child_nodes`` order, without its generators. String
        # annotations ("t.Optional[Foo]") are types, not the code's vocabulary.
        walk = self._walk
        for name in fields:
            value = getattr(node, name, None)
            inside = declared or name == "decorator_list"
            if isinstance(value, list):
                for child in value:
                    if isinstance(child, ast.AST) and child is not doc:
                        if header_end < 0 and isinstance(child, _NESTED):
                            header_end = len(out.blind)
                        hinted = annotation or (hint is not None and child is hint)
                        walk(child, out, False, hinted, inside)
            elif isinstance(value, ast.AST) and not isinstance(value, ast.expr_context):
                if value is not doc:
                    hinted = annotation or (hint is not None and value is hint)
                    walk(value, out, False, hinted, inside)
        if is_stmt:
            end = header_end if header_end >= 0 else len(out.blind)
            out.fragments.append(zlib.crc32("\x1f".join(out.blind[mark:end]).encode()))


_DEF_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_NESTED = (ast.stmt, ast.ExceptHandler, ast.match_case)
# Per node type: (name, is a statement, fields, has a body, has an annotation or returns field).
_Shape = tuple[str, bool, tuple[str, ...], bool, bool]
_SHAPES: dict[type, _Shape] = {}


def _shape(cls: type) -> _Shape:
    fields: tuple[str, ...] = getattr(cls, "_fields", ())
    return (
        cls.__name__,
        issubclass(cls, ast.stmt),
        fields,
        "body" in fields,
        "annotation" in fields or "returns" in fields,
    )


def _digest(tokens: list[str]) -> str:
    return hashlib.blake2b("\x1f".join(tokens).encode(), digest_size=12).hexdigest()


def sketch_of(blind: list[str]) -> tuple[int, ...]:
    """Bottom-k MinHash sketch of the blind token shingles."""
    table = _TOKEN_IDS
    for token in set(blind).difference(table):
        _token_id(token)
    ids = [table[t] for t in blind]
    if len(ids) < SHINGLE:
        shingles = {hash(tuple(ids))}
    else:
        # The tuples of SHINGLE consecutive ids, as ``tuple(ids[i : i + SHINGLE])`` gives them.
        shingles = set(map(hash, zip(*(ids[i:] for i in range(SHINGLE)), strict=False)))
    return tuple(sorted(heapq.nsmallest(SKETCH, shingles)))


def _normalize_calls(calls: list[str], local_names: set[str]) -> set[str]:
    """A call on a local variable is known by its method (``.json``); on a module, fully."""
    out: set[str] = set()
    for call in calls:
        root, dot, rest = call.partition(".")
        if not dot:
            out.update((call, "." + call))  # ``urlopen(...)`` meets ``urllib.request.urlopen``
            continue
        method = "." + call.rsplit(".", 1)[-1]
        out.add(method)
        if root and root not in local_names:
            out.add(call)
        elif rest:
            out.add("." + rest)
    return out


def features_of(walker: Walker, node: DefNode, class_name: str | None) -> Features:
    """Compute the features of one def/class node."""
    streams = walker.streams(node)
    doc = ast.get_docstring(node, clean=True) or ""
    own_names = [node.name] + ([class_name] if class_name else [])
    calls = sorted(_normalize_calls(streams.calls, set(streams.locals)))
    return Features(
        alpha_hash=_alpha_digest(streams.exact, {*streams.locals, node.name}),
        tokens=len(streams.blind),
        statements=streams.statements,
        exact_hash=_digest(streams.exact),
        blind_hash=_digest(streams.blind),
        sketch=sketch_of(streams.blind),
        name_terms=identifier_terms(own_names),
        ident_terms=identifier_terms(streams.names),
        calls=tuple(calls),
        literals=tuple(sorted(set(streams.literals))),
        doc_terms=text_terms(doc),
        fragments=tuple(sorted(set(streams.fragments))),
        bases=tuple(_last_name(b) for b in node.bases if _last_name(b))
        if isinstance(node, ast.ClassDef)
        else (),
    )


_BINDING_KINDS = frozenset({"Name", "arg", "FunctionDef", "AsyncFunctionDef", "ClassDef"})


def _alpha_digest(exact: list[str], bound: set[str]) -> str:
    """The exact stream with every bound name replaced by its order of first appearance, and
    literal values blinded: what is left is what the code reads and calls."""
    order: dict[str, str] = {}
    out: list[str] = []
    previous = ""
    for token in exact:
        if previous == "Constant":
            token = "\x00LIT"  # a reworded message or another default is still the same code
        elif previous in _BINDING_KINDS and token in bound:
            token = order.setdefault(token, f"\x00{len(order)}")
        out.append(token)
        previous = token
    return _digest(out)


def _last_name(node: ast.expr) -> str:
    """``Base`` of ``pkg.Base`` or ``Base[T]``; empty for anything else."""
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def new_walker() -> Walker:
    """A walker for one module; it memoizes nested definitions so each is walked once."""
    return Walker()


def token_streams(walker: Walker, node: DefNode) -> Streams:
    """The exact and blind token streams of a node (for scoring a candidate pair)."""
    return walker.streams(node)
