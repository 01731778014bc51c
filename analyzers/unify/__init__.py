"""Carry out a unification as libcst transformations, and validate the result.

Two sources of edits meet here. The model's edits (``UnitOp``: replace, remove or insert a
function, method or class, add an import) are applied as CST transformations; the mechanical
unification of Type-1/2 clones (``mechanical_plan``) is computed here from the code itself: keep
the canonical function, reduce every other copy to a re-export (same parameters) or a thin
delegation (renamed parameters), and point callers' ``from ... import`` at the canonical one.

Everything is checked before it leaves (``validate``): every edited module parses, no name is left
unresolved in an edited module (libcst scope analysis), every name a module stopped binding is not
imported from it anywhere in the repository, and outside the spans an edit declared, every line
of every file is byte for byte what it was.

Pure: texts in, texts out. No disk, no git, no network.

Parts: ``shape`` (equivalence), ``mechanical`` (the mechanical unification), ``ops`` (edits
applied), ``redirects`` (imports pointed at the kept copy), ``validate`` (what a change must pass).
"""

from __future__ import annotations

from analyzers.unify.mechanical import (
    Redirect,
    Unification,
    UnitRef,
    beside,
    mechanical_plan,
    method_plan,
    shared_base,
)
from analyzers.unify.ops import Applied, OpKind, UnifyError, UnitOp, apply_ops
from analyzers.unify.redirects import apply_redirects
from analyzers.unify.shape import Shape, function_shape, module_ref
from analyzers.unify.validate import changed_outside, unresolved_names, validate

__all__ = [
    "Applied",
    "OpKind",
    "Redirect",
    "Shape",
    "Unification",
    "UnifyError",
    "UnitOp",
    "UnitRef",
    "apply_ops",
    "apply_redirects",
    "beside",
    "changed_outside",
    "function_shape",
    "mechanical_plan",
    "method_plan",
    "module_ref",
    "shared_base",
    "unresolved_names",
    "validate",
]
