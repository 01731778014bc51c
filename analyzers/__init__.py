"""The pure analysis core of idealdiff: sources and diffs in, frozen dataclasses out."""

from __future__ import annotations

from analyzers.callsites import CallSite, find_call_sites, mentions, refers_to
from analyzers.diff import PatchError, parse_patch
from analyzers.model import (
    CLONE_ORDER,
    CloneType,
    Evidence,
    Features,
    FileChange,
    Finding,
    Hotspot,
    IndexedUnit,
    Member,
    ModuleScan,
    Skip,
    SymbolHotspot,
    Unit,
    UnitKind,
)
from analyzers.overlap import BranchChange, Overlap, analyse_overlap
from analyzers.profile import UnitProfile, profile_function
from analyzers.redundancy import RedundancyOptions, find_redundancy
from analyzers.scan import ScanLimits, decode_source, is_python, scan_module
from analyzers.testcode import is_test, is_test_path
from analyzers.units import UnitParseError, locate_units

__all__ = [
    "CLONE_ORDER",
    "BranchChange",
    "CallSite",
    "CloneType",
    "Evidence",
    "Features",
    "FileChange",
    "Finding",
    "Hotspot",
    "IndexedUnit",
    "Member",
    "ModuleScan",
    "Overlap",
    "PatchError",
    "RedundancyOptions",
    "ScanLimits",
    "Skip",
    "SymbolHotspot",
    "Unit",
    "UnitKind",
    "UnitParseError",
    "UnitProfile",
    "analyse_overlap",
    "decode_source",
    "find_call_sites",
    "find_redundancy",
    "is_python",
    "is_test",
    "is_test_path",
    "locate_units",
    "mentions",
    "parse_patch",
    "profile_function",
    "refers_to",
    "scan_module",
]
