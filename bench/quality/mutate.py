"""Mutation operators (libcst), in the style of Roy & Cordy's mutation/injection framework.

Each operator takes the source of one function (a module whose only statement is the ``def``,
decorators included) and a seeded ``random.Random``, and returns the mutant's source, or None when
the operator does not apply to that function. ``check`` verifies that a mutant is of the clone type
its operator claims (Type-1: same syntax tree once docstrings are dropped; Type-2: same tree once
identifiers and literals are blinded; Type-3: the blinded trees differ).
"""

from __future__ import annotations

import ast
import random
import re
from collections.abc import Callable, Sequence

import libcst as cst

WORDS = (
    "acc", "buf", "cur", "elem", "entry", "item", "node", "obj", "part", "res", "tmp", "pos",
    "token", "seq", "chunk", "rec", "ref", "slot", "data", "args2", "state", "block", "piece",
    "unit", "field", "frag", "cell", "span", "mark", "bag", "box", "cnt", "idx", "ptr", "row",
)
VERBS = ("make", "build", "compute", "get", "resolve", "collect", "derive", "find", "handle", "do")
NOUNS = ("value", "result", "items", "parts", "entries", "record", "tokens", "info", "thing")
COMMENTS = (
    "check the input first", "TODO: simplify this", "fast path", "keep the order stable",
    "NOTE: mirrors the upstream behaviour", "edge case: empty input", "see the docs",
    "this is the common case", "FIXME: handle unicode", "done", "normalise before comparing",
)
SENTENCES = (
    "Return the processed value.", "Helper used by the command line interface.",
    "Compute the result for the given arguments.", "Internal utility; see the module docs.",
    "Do the work and return what was found.", "Convert the input into the expected form.",
)
RESERVED = {"True", "False", "None", "self", "cls", "super", "__class__"}


# ----------------------------------------------------------------------------- helpers


def _function(module: cst.Module) -> cst.FunctionDef:
    node = module.body[0]
    assert isinstance(node, cst.FunctionDef)
    return node


class _Collect(cst.CSTVisitor):
    """Every node of the given kinds, in visit order."""

    def __init__(self, kinds: tuple[type, ...]) -> None:
        self.kinds = kinds
        self.found: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, self.kinds):
            self.found.append(node)
        return True


def _collect(module: cst.Module, *kinds: type) -> list[cst.CSTNode]:
    visitor = _Collect(kinds)
    module.visit(visitor)
    return visitor.found


class _Replace(cst.CSTTransformer):
    """Replace given original nodes (by identity) with what ``fn`` makes of the updated ones."""

    def __init__(self, targets: Sequence[cst.CSTNode], fn: Callable[[cst.CSTNode], object]):
        self.targets = {id(t) for t in targets}
        self.fn = fn

    def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode):  # type: ignore[override]
        if id(original) in self.targets:
            return self.fn(updated)
        return updated


def _replace(module: cst.Module, targets: Sequence[cst.CSTNode], fn) -> cst.Module:
    return module.visit(_Replace(targets, fn))


def _docstring_stmt(fn: cst.FunctionDef) -> cst.CSTNode | None:
    body = fn.body
    if isinstance(body, cst.IndentedBlock) and body.body:
        first = body.body[0]
        if (
            isinstance(first, cst.SimpleStatementLine)
            and len(first.body) == 1
            and isinstance(first.body[0], cst.Expr)
            and isinstance(first.body[0].value, cst.SimpleString | cst.ConcatenatedString)
        ):
            return first
    return None


def _scope_names(source: str) -> tuple[list[str], list[str]]:
    """(parameters, locally bound names) of the function, without self/cls."""
    tree = ast.parse(source)
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
    a = fn.args
    params = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    params += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    params = [p for p in params if p not in RESERVED]
    bound: list[str] = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            if node.id not in bound and node.id not in params and node.id not in RESERVED:
                bound.append(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name and node.name not in bound:
            bound.append(node.name)
    return params, bound


def _all_names(source: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)} | {
        a.arg for a in ast.walk(ast.parse(source)) if isinstance(a, ast.arg)
    }


def _fresh(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = rng.choice(WORDS)
        if rng.random() < 0.5:
            name += "_" + rng.choice(WORDS)
        if name not in taken:
            taken.add(name)
            return name


def _pick_var(source: str, rng: random.Random) -> str:
    params, bound = _scope_names(source)
    pool = params or bound
    return rng.choice(pool) if pool else "value"


def _blocks(module: cst.Module) -> list[cst.IndentedBlock]:
    return [b for b in _collect(module, cst.IndentedBlock) if isinstance(b, cst.IndentedBlock)]


_TERMINAL = (cst.Return, cst.Raise, cst.Continue, cst.Break)


# ----------------------------------------------------------------------------- Type-1


def t1_layout(source: str, rng: random.Random) -> str | None:
    """Whitespace and formatting: indentation width, blank lines, spacing, redundant parens."""
    module = cst.parse_module(source)
    edits = ["indent", "blank", "spacing", "parens"]
    rng.shuffle(edits)
    for edit in edits[: rng.randint(2, 3)]:
        if edit == "indent":
            module = module.with_changes(default_indent=rng.choice(["  ", "   ", "        "]))
        elif edit == "blank":
            stmts = _collect(module, cst.SimpleStatementLine, cst.BaseCompoundStatement)[1:]
            if stmts:
                picks = rng.sample(stmts, min(len(stmts), rng.randint(1, 3)))
                module = _replace(
                    module,
                    picks,
                    lambda n: n.with_changes(leading_lines=[*n.leading_lines, cst.EmptyLine()]),
                )
        elif edit == "spacing":
            ops = [
                o
                for o in _collect(module, cst.BinaryOperation)
                if isinstance(o, cst.BinaryOperation)
            ]
            commas = [
                c
                for c in _collect(module, cst.Comma)
                if isinstance(c, cst.Comma) and isinstance(c.whitespace_after, cst.SimpleWhitespace)
            ]
            if ops:
                tight = rng.random() < 0.5

                def respace(n):
                    ws = cst.SimpleWhitespace("" if tight else "  ")
                    return n.with_changes(
                        operator=n.operator.with_changes(whitespace_before=ws, whitespace_after=ws)
                    )

                module = _replace(module, ops, respace)
            if commas:
                picks = rng.sample(commas, min(len(commas), rng.randint(1, 4)))
                module = _replace(
                    module,
                    picks,
                    lambda n: n.with_changes(
                        whitespace_after=cst.SimpleWhitespace(
                            "" if n.whitespace_after.value else "  "
                        )
                    ),
                )
        elif edit == "parens":
            rets = [
                r
                for r in _collect(module, cst.Return, cst.Assign)
                if getattr(r, "value", None) is not None
                and not isinstance(r.value, cst.Tuple)  # type: ignore[attr-defined]
            ]
            if rets:
                picks = rng.sample(rets, min(len(rets), 2))

                def paren(n):
                    value = n.value
                    value = value.with_changes(
                        lpar=[cst.LeftParen(), *value.lpar], rpar=[*value.rpar, cst.RightParen()]
                    )
                    if isinstance(n, cst.Return):
                        return n.with_changes(
                            value=value, whitespace_after_return=cst.SimpleWhitespace(" ")
                        )
                    return n.with_changes(value=value)

                module = _replace(module, picks, paren)
    out = module.code
    return out if out != source else None


def _comment(rng: random.Random) -> cst.Comment:
    return cst.Comment("# " + rng.choice(COMMENTS))


def t1_comments(source: str, rng: random.Random) -> str | None:
    """Add full-line and end-of-line comments; drop existing ones."""
    module = cst.parse_module(source)
    fn = _function(module)
    # Drop existing comments (half of the time).
    if rng.random() < 0.5:

        class Strip(cst.CSTTransformer):
            def leave_EmptyLine(self, original, updated):
                if updated.comment is not None:
                    return cst.RemoveFromParent()
                return updated

            def leave_TrailingWhitespace(self, original, updated):
                return updated.with_changes(comment=None, whitespace=cst.SimpleWhitespace(""))

        module = module.visit(Strip())
        fn = _function(module)
    doc = _docstring_stmt(fn)
    stmts = [
        s
        for s in _collect(fn, cst.SimpleStatementLine, cst.BaseCompoundStatement)
        if s is not doc and s is not fn
    ]
    if not stmts:
        return None
    full = rng.sample(stmts, min(len(stmts), rng.randint(1, 2)))
    simple = [
        s
        for s in stmts
        if isinstance(s, cst.SimpleStatementLine) and s.trailing_whitespace.comment is None
    ]
    trail = rng.sample(simple, min(len(simple), rng.randint(0, 2)))

    full_ids = {id(x) for x in full}
    trail_ids = {id(x) for x in trail}

    class Add(cst.CSTTransformer):
        def on_leave(self, original, updated):  # type: ignore[override]
            if id(original) in full_ids:
                line = cst.EmptyLine(indent=True, comment=_comment(rng))
                updated = updated.with_changes(leading_lines=[*updated.leading_lines, line])
            if id(original) in trail_ids:
                updated = updated.with_changes(
                    trailing_whitespace=cst.TrailingWhitespace(
                        whitespace=cst.SimpleWhitespace("  "), comment=_comment(rng)
                    )
                )
            return updated

    new_fn = fn.visit(Add())
    module = module.with_changes(body=[new_fn])
    out = module.code
    return out if out != source else None


def t1_docstring(source: str, rng: random.Random) -> str | None:
    """Change, add or remove the docstring."""
    module = cst.parse_module(source)
    fn = _function(module)
    body = fn.body
    assert isinstance(body, cst.IndentedBlock)
    doc = _docstring_stmt(fn)
    text = rng.choice(SENTENCES)
    new_doc = cst.SimpleStatementLine([cst.Expr(cst.SimpleString(f'"""{text}"""'))])
    if doc is None:
        stmts = [new_doc, *body.body]
    elif rng.random() < 0.35 and len(body.body) > 1:
        stmts = list(body.body[1:])
        stmts[0] = stmts[0].with_changes(leading_lines=[])
    else:
        old = doc.body[0].value  # type: ignore[attr-defined]
        quote = '"""'
        if isinstance(old, cst.SimpleString) and old.value.startswith(("'''", "r'''")):
            quote = "'''"
        words = text.split()
        rng.shuffle(words)
        lines = [text, "", " ".join(w.lower().strip(".;") for w in words) + "."]
        if rng.random() < 0.5:
            lines = [text]
        indent = module.default_indent
        value = quote + ("\n" + indent).join(lines) + quote
        stmts = [doc.with_changes(body=[cst.Expr(cst.SimpleString(value))]), *body.body[1:]]
    module = module.with_changes(body=[fn.with_changes(body=body.with_changes(body=stmts))])
    out = module.code
    return out if out != source else None


def t1_all(source: str, rng: random.Random) -> str | None:
    return _chain(source, rng, [t1_docstring, t1_comments, t1_layout])


# ----------------------------------------------------------------------------- Type-2


class _Rename(cst.CSTTransformer):
    """Rename Name nodes through ``mapping``; attributes and keyword names are left alone."""

    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def leave_Name(self, original, updated):
        new = self.mapping.get(updated.value)
        return updated.with_changes(value=new) if new else updated

    def leave_Attribute(self, original, updated):
        return updated.with_changes(attr=original.attr)

    def leave_Arg(self, original, updated):
        if original.keyword is not None:
            return updated.with_changes(keyword=original.keyword)
        return updated

    def leave_ImportAlias(self, original, updated):
        return original


def t2_rename_sys(source: str, rng: random.Random) -> str | None:
    """Systematic renaming: the function, its parameters and its locals, consistently."""
    params, bound = _scope_names(source)
    fn_name = _function(cst.parse_module(source)).name.value
    taken = _all_names(source) | {fn_name}
    mapping = {n: _fresh(rng, taken) for n in params + bound}
    while True:
        new_fn = f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}"
        if new_fn not in taken:
            break
    mapping[fn_name] = new_fn
    module = cst.parse_module(source).visit(_Rename(mapping))
    out = module.code
    return out if out != source else None


def t2_rename_arb(source: str, rng: random.Random) -> str | None:
    """Arbitrary renaming: identifier occurrences renamed one by one, not consistently."""
    module = cst.parse_module(source)
    names = [
        n for n in _collect(module, cst.Name) if isinstance(n, cst.Name) and n.value not in RESERVED
    ]
    # Keyword names of calls and imported names are not identifiers of this code.
    protected: set[int] = set()
    for arg in _collect(module, cst.Arg):
        if isinstance(arg, cst.Arg) and arg.keyword is not None:
            protected.add(id(arg.keyword))
    for alias in _collect(module, cst.ImportAlias, cst.ImportFrom):
        for n in _collect(alias, cst.Name):  # type: ignore[arg-type]
            protected.add(id(n))
    names = [n for n in names if id(n) not in protected]
    if len(names) < 3:
        return None
    picks = rng.sample(names, max(3, len(names) // 2))
    taken = _all_names(source)
    module = _replace(module, picks, lambda n: n.with_changes(value=_fresh(rng, taken)))
    out = module.code
    return out if out != source else None


def _literals(module: cst.Module) -> list[cst.CSTNode]:
    fn = _function(module)
    doc = _docstring_stmt(fn)
    skip: set[int] = set()
    if doc is not None:
        skip = {id(n) for n in _collect(doc, cst.SimpleString)}  # type: ignore[arg-type]
    inside_f = set()
    for f in _collect(module, cst.FormattedString):
        inside_f |= {id(n) for n in _collect(f, cst.SimpleString)}  # type: ignore[arg-type]
    out = []
    for n in _collect(module, cst.SimpleString, cst.Integer, cst.Float):
        if id(n) in skip or id(n) in inside_f:
            continue
        if isinstance(n, cst.SimpleString) and "b" in n.prefix.lower():
            continue
        out.append(n)
    return out


def _new_literal(n: cst.CSTNode, rng: random.Random) -> cst.CSTNode:
    if isinstance(n, cst.Integer):
        old = n.value
        while True:
            v = str(rng.choice([0, 1, 2, 3, 5, 8, 10, 16, 32, 64, 100, 255, 1000]))
            if v != old:
                return n.with_changes(value=v)
    if isinstance(n, cst.Float):
        return n.with_changes(value=str(round(rng.uniform(0.1, 99.0), 2)))
    assert isinstance(n, cst.SimpleString)
    prefix, quote = n.prefix, n.quote
    text = " ".join(rng.sample(WORDS, rng.randint(1, 2)))
    if "%" in n.value and rng.random() < 0.5:
        text += " %s"
    return n.with_changes(value=f"{prefix}{quote}{text}{quote}")


def t2_literals(source: str, rng: random.Random) -> str | None:
    """Literal changes: numbers and strings get other values."""
    module = cst.parse_module(source)
    lits = _literals(module)
    if not lits:
        return None
    picks = rng.sample(lits, max(1, (len(lits) * 2 + 2) // 3))
    module = _replace(module, picks, lambda n: _new_literal(n, rng))
    out = module.code
    return out if out != source else None


def t2_all(source: str, rng: random.Random) -> str | None:
    return _chain(source, rng, [t2_rename_sys, t2_literals, t1_layout])


# ----------------------------------------------------------------------------- Type-3

_INSERTS = (
    'logger.debug("{fn}: %r", {v})',
    "assert {v} is not None",
    "{new} = bool({v})",
    '_stats["{fn}"] += 1',
    'warnings.warn("{fn} is slow", RuntimeWarning)',
    'if {v} is None: raise ValueError("{v} is required")',
    "_trace.append(({v}, {new}))",
)
_EXPRS = (
    "list({v})", "{v}.copy()", "str({v}).strip()", "len({v}) - 1", "{v} or {new}", "dict({v})",
    "sorted({v})", "tuple({v})[1:]", "{new}({v})", "{v}[0] if {v} else None",
)
_FLIP = {
    cst.LessThan: cst.LessThanEqual, cst.LessThanEqual: cst.LessThan,
    cst.GreaterThan: cst.GreaterThanEqual, cst.GreaterThanEqual: cst.GreaterThan,
    cst.Equal: cst.NotEqual, cst.NotEqual: cst.Equal, cst.Is: cst.IsNot, cst.IsNot: cst.Is,
    cst.In: cst.NotIn, cst.NotIn: cst.In,
}
_BINFLIP = {
    cst.Add: cst.Subtract, cst.Subtract: cst.Add, cst.Multiply: cst.FloorDivide,
    cst.FloorDivide: cst.Multiply, cst.Modulo: cst.Add, cst.BitOr: cst.BitAnd,
    cst.BitAnd: cst.BitOr, cst.Divide: cst.Multiply,
}


def _fill(template: str, source: str, rng: random.Random) -> str:
    fn = _function(cst.parse_module(source)).name.value
    taken = _all_names(source)
    return template.format(v=_pick_var(source, rng), fn=fn, new=_fresh(rng, taken))


def _body_statements(module: cst.Module) -> list[tuple[cst.IndentedBlock, int]]:
    """(block, index) of every statement slot, skipping the docstring."""
    fn = _function(module)
    doc = _docstring_stmt(fn)
    out = []
    for block in _blocks(module):
        for i, s in enumerate(block.body):
            if s is not doc:
                out.append((block, i))
    return out


def t3_insert(source: str, rng: random.Random) -> str | None:
    """A line inserted: one new simple statement somewhere in the body."""
    module = cst.parse_module(source)
    fn = _function(module)
    doc = _docstring_stmt(fn)
    slots = []
    for block in _blocks(module):
        start = 1 if (block is fn.body and doc is not None) else 0
        for i in range(start, len(block.body) + 1):
            if i > 0 and _is_terminal(block.body[i - 1]):
                continue
            slots.append((block, i))
    if not slots:
        return None
    block, i = rng.choice(slots)
    stmt = cst.parse_statement(_fill(rng.choice(_INSERTS), source, rng))
    body = list(block.body)
    body.insert(i, stmt)
    module = _replace(module, [block], lambda n: n.with_changes(body=body))
    return module.code


def _is_terminal(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[-1], _TERMINAL)


def t3_delete(source: str, rng: random.Random) -> str | None:
    """A line deleted: one simple statement removed (never the only one of its block)."""
    module = cst.parse_module(source)
    fn = _function(module)
    doc = _docstring_stmt(fn)
    slots = []
    for block in _blocks(module):
        real = [s for s in block.body if s is not doc]
        if len(real) < 2:
            continue
        for i, s in enumerate(block.body):
            if s is not doc and isinstance(s, cst.SimpleStatementLine):
                slots.append((block, i))
    if not slots:
        return None
    block, i = rng.choice(slots)
    body = list(block.body)
    del body[i]
    module = _replace(module, [block], lambda n: n.with_changes(body=body))
    return module.code


def t3_modify(source: str, rng: random.Random) -> str | None:
    """A line modified: the value of an assignment, return or call statement is replaced."""
    module = cst.parse_module(source)
    fn = _function(module)
    doc = _docstring_stmt(fn)
    lines = [
        s
        for s in _collect(fn, cst.SimpleStatementLine)
        if s is not doc
        and isinstance(s, cst.SimpleStatementLine)
        and isinstance(s.body[0], cst.Assign | cst.AugAssign | cst.Return | cst.Expr)
        and getattr(s.body[0], "value", None) is not None
    ]
    if not lines:
        return None
    line = rng.choice(lines)
    expr = cst.parse_expression(_fill(rng.choice(_EXPRS), source, rng))
    small = line.body[0]  # type: ignore[attr-defined]
    if isinstance(small, cst.Expr):
        new_small = cst.Expr(cst.parse_expression(_fill("{new}({v})", source, rng)))
    elif isinstance(small, cst.AugAssign):
        new_small = small.with_changes(
            operator=cst.SubtractAssign() if not isinstance(small.operator, cst.SubtractAssign)
            else cst.AddAssign(),
            value=expr,
        )
    else:
        new_small = small.with_changes(value=expr)
    module = _replace(
        module, [line], lambda n: n.with_changes(body=[new_small, *n.body[1:]])
    )
    return module.code


def t3_inline(source: str, rng: random.Random) -> str | None:
    """A small in-line change: an operator flipped, an argument added, a condition extended."""
    module = cst.parse_module(source)
    choices = []
    comps = [c for c in _collect(module, cst.ComparisonTarget)]
    if comps:
        choices.append("compare")
    bins = [
        b
        for b in _collect(module, cst.BinaryOperation)
        if type(b.operator) in _BINFLIP  # type: ignore[attr-defined]
        and not (
            isinstance(b.left, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString)  # type: ignore[attr-defined]
        )
    ]
    if bins:
        choices.append("binop")
    calls = [c for c in _collect(module, cst.Call) if isinstance(c, cst.Call)]
    if calls:
        choices.append("arg")
    ifs = [i for i in _collect(module, cst.If, cst.While) if isinstance(i, cst.If | cst.While)]
    if ifs:
        choices.append("cond")
    if not choices:
        return None
    kind = rng.choice(choices)
    if kind == "compare":
        target = rng.choice(comps)
        module = _replace(
            module,
            [target],
            lambda n: n.with_changes(operator=_FLIP[type(n.operator)]()),
        )
    elif kind == "binop":
        target = rng.choice(bins)
        module = _replace(module, [target], lambda n: n.with_changes(operator=_BINFLIP[type(n.operator)]()))
    elif kind == "arg":
        target = rng.choice(calls)
        kw = rng.choice(["strict", "default", "check", "limit", "quiet"])
        val = rng.choice(["True", "None", "0", "1"])

        def add_arg(n):
            args = list(n.args)
            name = kw
            if any(a.keyword is not None and a.keyword.value == kw for a in args):
                name = kw + "_"
            tight = cst.SimpleWhitespace("")
            new = cst.Arg(
                cst.parse_expression(val),
                keyword=cst.Name(name),
                equal=cst.AssignEqual(whitespace_before=tight, whitespace_after=tight),
            )
            if args:
                args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            return n.with_changes(args=[*args, new])

        module = _replace(module, [target], add_arg)
    else:
        target = rng.choice(ifs)
        var = _pick_var(source, rng)

        def extend(n):
            test = n.test
            if rng.random() < 0.5:
                new = cst.BooleanOperation(
                    left=test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
                    if isinstance(test, cst.BooleanOperation | cst.IfExp | cst.Lambda)
                    else test,
                    operator=cst.And(),
                    right=cst.Name(var),
                )
            else:
                inner = test
                if not isinstance(test, cst.Name | cst.Call | cst.Attribute):
                    inner = test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
                new = cst.UnaryOperation(operator=cst.Not(), expression=inner)
            return n.with_changes(test=new)

        module = _replace(module, [target], extend)
    out = module.code
    return out if out != source else None


_SINGLE_T3 = (t3_inline, t3_insert, t3_delete, t3_modify)


def t3_multi2(source: str, rng: random.Random) -> str | None:
    """Two Type-3 edits, then a systematic renaming."""
    edits = [rng.choice(_SINGLE_T3) for _ in range(2)]
    return _chain(source, rng, [*edits, t2_rename_sys])


def t3_multi3(source: str, rng: random.Random) -> str | None:
    """Three Type-3 edits, a systematic renaming and a layout change."""
    edits = [rng.choice(_SINGLE_T3) for _ in range(3)]
    return _chain(source, rng, [*edits, t2_rename_sys, t1_layout])


def _chain(source: str, rng: random.Random, ops) -> str | None:
    out = source
    for op in ops:
        new = op(out, rng)
        if new is None:
            return None
        out = new
    return out


# ----------------------------------------------------------------------------- checks

OPERATORS: dict[str, tuple[str, Callable[[str, random.Random], str | None]]] = {
    "t1_layout": ("type-1", t1_layout),
    "t1_comments": ("type-1", t1_comments),
    "t1_docstring": ("type-1", t1_docstring),
    "t1_all": ("type-1", t1_all),
    "t2_rename_sys": ("type-2", t2_rename_sys),
    "t2_rename_arb": ("type-2", t2_rename_arb),
    "t2_literals": ("type-2", t2_literals),
    "t2_all": ("type-2", t2_all),
    "t3_inline": ("type-3", t3_inline),
    "t3_insert": ("type-3", t3_insert),
    "t3_delete": ("type-3", t3_delete),
    "t3_modify": ("type-3", t3_modify),
    "t3_multi2": ("type-3-multi", t3_multi2),
    "t3_multi3": ("type-3-multi", t3_multi3),
}


class _Blind(ast.NodeTransformer):
    def __init__(self, blind: bool) -> None:
        self.blind = blind

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
        if self.blind:
            node.name = "F"
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Name(self, node):
        if self.blind:
            node.id = "N"
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if self.blind:
            node.attr = "A"
        return node

    def visit_arg(self, node):
        if self.blind:
            node.arg = "P"
        node.annotation = self.visit(node.annotation) if node.annotation else None
        return node

    def visit_Constant(self, node):
        if self.blind and not (node.value is None or isinstance(node.value, bool)):
            node.value = 0
        return node


def normalized(source: str, blind: bool) -> str:
    return ast.dump(_Blind(blind).visit(ast.parse(source)))


def check(op: str, original: str, mutant: str) -> bool:
    """Is the mutant of the clone type its operator claims?"""
    try:
        ast.parse(mutant)
    except SyntaxError:
        return False
    if mutant == original:
        return False
    kind = OPERATORS[op][0]
    exact = normalized(original, False) == normalized(mutant, False)
    blind = normalized(original, True) == normalized(mutant, True)
    if kind == "type-1":
        return exact
    if kind == "type-2":
        return blind and not exact
    return not blind


def mutate(op: str, source: str, rng: random.Random) -> str | None:
    """Apply ``op``; None when it does not apply or does not give the promised clone type."""
    try:
        mutant = OPERATORS[op][1](source, rng)
    except (cst.ParserSyntaxError, cst.CSTValidationError, ValueError, TypeError,
            AttributeError, KeyError, IndexError):
        return None
    if mutant is None or not check(op, source, mutant):
        return None
    return mutant


def changed_lines(original: str, mutant: str) -> int:
    """How many lines differ (a rough size of the edit, for the report)."""
    import difflib

    a = [re.sub(r"\s+", " ", x).strip() for x in original.splitlines()]
    b = [re.sub(r"\s+", " ", x).strip() for x in mutant.splitlines()]
    sm = difflib.SequenceMatcher(None, a, b)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal")
