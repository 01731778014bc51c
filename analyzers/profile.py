"""What one function promises: parameters, errors raised and caught, returns, side effects.

The offline idealizer compares members of a finding with these profiles, so that a plan says
concretely how the implementations differ instead of only that they are alike.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

# Calls whose effect leaves the function: output, files, network, processes, logging.
_EFFECTS = {
    "print": "writes to standard output",
    "open": "opens files",
    "urlopen": "makes HTTP requests",
    "request": "makes HTTP requests",
    "post": "makes HTTP requests",
    "Popen": "starts processes",
    "write": "writes to a stream",
    "write_text": "writes files",
    "write_bytes": "writes files",
    "unlink": "deletes files",
    "mkdir": "creates folders",
    "sleep": "sleeps",
}
_EFFECT_MODULES = {
    "logging": "logs",
    "log": "logs",
    "logger": "logs",
    "requests": "makes HTTP requests",
    "httpx": "makes HTTP requests",
    "subprocess": "starts processes",
    "os": "touches the operating system",
    "shutil": "changes files",
    "sys": "touches the interpreter state",
}


@dataclass(frozen=True)
class UnitProfile:
    """The observable contract of a function or method."""

    params: tuple[str, ...]  # as written: "timeout=10", "*args", "**kwargs"; self/cls left out
    raises: tuple[str, ...]
    catches: tuple[str, ...]
    returns: str  # "nothing", "a value", "a value or nothing", "yields values"
    effects: tuple[str, ...]
    calls: tuple[str, ...]
    has_docstring: bool
    statements: int
    is_async: bool
    receiver: str = ""  # the ``self`` or ``cls`` left out of ``params``
    # What it hands back, one entry per returned or yielded expression: ``value`` for a
    # single value, ``tuple:N:first`` for an N-tuple whose first item is ``first``.
    results: tuple[str, ...] = ()


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""


def _params(args: ast.arguments) -> tuple[str, ...]:
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    out: list[str] = []
    for arg, default in zip(positional, defaults, strict=True):
        out.append(arg.arg if default is None else f"{arg.arg}={ast.unparse(default)}")
    if args.vararg:
        out.append(f"*{args.vararg.arg}")
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        out.append(arg.arg if kw_default is None else f"{arg.arg}={ast.unparse(kw_default)}")
    if args.kwarg:
        out.append(f"**{args.kwarg.arg}")
    return tuple(out)


def _own_nodes(func: ast.AST) -> list[ast.AST]:
    """Nodes of ``func``'s body, not descending into nested functions and classes."""
    found: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(node))
    # Source order, so that what a profile lists reads top to bottom like the code.
    found.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
    return found


def docstring_node(node: ast.AST) -> ast.Expr | None:
    """The docstring statement of a module, class or function, if it has one."""
    body = getattr(node, "body", None)
    if (
        isinstance(body, list)
        and body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        return body[0]
    return None


def profile_function(source: str) -> UnitProfile | None:
    """Profile the first function defined in ``source`` (a unit's own lines); None if none."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError, RecursionError):
        return None
    func = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)),
        None,
    )
    if func is None:
        return None
    nodes = _own_nodes(func)
    raises: list[str] = []
    catches: list[str] = []
    calls: list[str] = []
    effects: list[str] = []
    value_returns = bare_returns = 0
    yields = False
    results: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Raise):
            raises.append(_dotted(node.exc) if node.exc is not None else "(re-raise)")
        elif isinstance(node, ast.ExceptHandler):
            if node.type is None:
                catches.append("everything")
            elif isinstance(node.type, ast.Tuple):
                catches.extend(_dotted(e) for e in node.type.elts)
            else:
                catches.append(_dotted(node.type))
        elif isinstance(node, ast.Return):
            if node.value is None or (
                isinstance(node.value, ast.Constant) and node.value.value is None
            ):
                bare_returns += 1
            else:
                value_returns += 1
                results.append(_result(node.value))
        elif isinstance(node, ast.Yield | ast.YieldFrom):
            yields = True
            if isinstance(node, ast.Yield) and node.value is not None:
                results.append(_result(node.value))
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if not name:
                continue
            calls.append(name)
            head, _, last = name.rpartition(".")
            effect = _EFFECTS.get(last) or _EFFECT_MODULES.get(head.split(".")[0] if head else "")
            if effect:
                effects.append(effect)
    if yields:
        returns = "yields values"
    elif value_returns and (bare_returns or not _ends_in_return(func)):
        returns = "a value or nothing"
    elif value_returns:
        returns = "a value"
    else:
        returns = "nothing"
    has_doc = docstring_node(func) is not None
    params = _params(func.args)
    receiver = params[0] if params and params[0] in ("self", "cls") else ""
    return UnitProfile(
        params=params[1:] if receiver else params,
        raises=tuple(dict.fromkeys(r for r in raises if r)),
        catches=tuple(dict.fromkeys(c for c in catches if c)),
        returns=returns,
        effects=tuple(dict.fromkeys(effects)),
        calls=tuple(dict.fromkeys(calls)),
        has_docstring=has_doc,
        statements=sum(isinstance(n, ast.stmt) for n in nodes),
        is_async=isinstance(func, ast.AsyncFunctionDef),
        receiver=receiver,
        results=tuple(dict.fromkeys(results)),
    )


def _result(value: ast.expr) -> str:
    """``value``, or ``tuple:N:first`` for a tuple written out (``(line, True)``)."""
    if isinstance(value, ast.Tuple) and value.elts:
        return f"tuple:{len(value.elts)}:{ast.unparse(value.elts[0])}"
    return f"value:{ast.unparse(value)}" if isinstance(value, ast.Name) else "value"


def _ends_in_return(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    last = func.body[-1] if func.body else None
    return isinstance(last, ast.Return | ast.Raise) or (
        isinstance(last, ast.With | ast.AsyncWith | ast.Try)
        and bool(last.body)
        and isinstance(last.body[-1], ast.Return)
    )
