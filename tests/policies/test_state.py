"""The policies hold no hidden state: no module-level cache, no `global`, no `id()`-keyed memo, no
mutable memo inside a frozen value. Memoisation lives in `PolicyEngine` (and its `WorkingDays`
calendar), an object the composition root builds. An AST check over hub/policies, beside
test_purity.py's, and cases showing what it catches."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hub.policies

POLICIES = Path(hub.policies.__file__).parent

# lru_cache is kept only on pure functions of immutable arguments (the same argument always
# gives the same value, and the value is immutable). Each one, and why:
PURE_CACHES = {
    # a CPR number's birth date: a str in, a date out; people recur across reports
    ("facts.py", "_cpr_birth_date"),
    # the present-field set for a bit mask: an int in (at most 2**11), a frozenset out
    ("disclose.py", "_fields_of_mask"),
    # the worked examples: no arguments, constant data built on first use rather than at import
    ("examples.py", "examples"),
}
CACHE_DECORATORS = {"lru_cache", "cache", "cached_property"}
MUTATORS = {
    "clear",
    "update",
    "setdefault",
    "pop",
    "popitem",
    "append",
    "extend",
    "insert",
    "add",
    "discard",
    "remove",
    "__setitem__",
    "__delitem__",
    "sort",
    "reverse",
}
MUTABLE_FACTORIES = {"dict", "list", "set", "defaultdict", "OrderedDict", "Counter", "deque", "bytearray"}
MUTABLE_ANNOTATIONS = {"dict", "list", "set", "Dict", "List", "Set", "defaultdict", "MutableMapping", "deque"}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _name(node.func)
    return None


def _module_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for t in targets:
            names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def _local_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    args = fn.args
    names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    names |= {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def _frozen_dataclass(cls: ast.ClassDef) -> bool:
    return any(
        isinstance(d, ast.Call)
        and _name(d.func) == "dataclass"
        and any(k.arg == "frozen" and isinstance(k.value, ast.Constant) and k.value.value for k in d.keywords)
        for d in cls.decorator_list
    )


def _mutable_annotation(node: ast.expr | None) -> bool:
    if node is None:
        return False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # `from __future__ import annotations`
        node = ast.parse(node.value, mode="eval").body
    base = node.value if isinstance(node, ast.Subscript) else node
    return _name(base) in MUTABLE_ANNOTATIONS


def hidden_state(source: str, filename: str = "module.py") -> list[str]:
    """What in `source` is module-level or hidden mutable state (empty: none)."""
    tree = ast.parse(source)
    module = _module_names(tree)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            problems.append(f"`{type(node).__name__.lower()}` on line {node.lineno}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "id":
            problems.append(f"id() on line {node.lineno} (a memo keyed by object identity)")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for d in node.decorator_list:
                if _name(d) in CACHE_DECORATORS and (filename, node.name) not in PURE_CACHES:
                    problems.append(f"@{_name(d)} on {node.name}() (line {node.lineno}): not a known pure cache")
            shared = module - _local_names(node)  # module-level names the function does not rebind
            for inner in ast.walk(node):
                target = None
                if isinstance(inner, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
                    targets = inner.targets if isinstance(inner, (ast.Assign, ast.Delete)) else [inner.target]
                    for t in targets:
                        if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
                            target = t.value.id
                elif (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Attribute)
                    and inner.func.attr in MUTATORS
                    and isinstance(inner.func.value, ast.Name)
                ):
                    target = inner.func.value.id
                if target in shared:
                    problems.append(f"{node.name}() changes module-level `{target}` (line {inner.lineno})")
        elif isinstance(node, ast.ClassDef) and _frozen_dataclass(node):
            for stmt in node.body:
                if not isinstance(stmt, ast.AnnAssign):
                    continue
                factory = next(
                    (k.value for k in getattr(stmt.value, "keywords", ()) if k.arg == "default_factory"), None
                )
                if _mutable_annotation(stmt.annotation) or (
                    factory is not None and _name(factory) in MUTABLE_FACTORIES
                ):
                    problems.append(
                        f"frozen {node.name} holds a mutable {ast.unparse(stmt.target)} (line {stmt.lineno})"
                    )
    return problems


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.py")), ids=lambda p: p.name)
def test_policy_module_holds_no_hidden_state(path: Path) -> None:
    assert hidden_state(path.read_text(encoding="utf-8"), path.name) == []


def test_every_kept_cache_still_exists() -> None:
    """The allow-list names real functions (so it cannot quietly cover a renamed new one)."""
    for filename, function in PURE_CACHES:
        tree = ast.parse((POLICIES / filename).read_text(encoding="utf-8"))
        fns = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert function in fns and any(_name(d) == "lru_cache" for d in fns[function].decorator_list), function


@pytest.mark.parametrize(
    "source",
    [
        # what hub/policies held before the policy engine
        "_DERIVED = {}\ndef derive(a):\n    hit = _DERIVED.get(id(a))\n    _DERIVED[id(a)] = a\n",
        "_last = None\ndef age_of(r):\n    global _last\n    _last = r\n",
        "_BY_MASK = {}\ndef present(m):\n    _BY_MASK[m] = frozenset()\n",
        "_CACHE = {}\ndef f(k):\n    if len(_CACHE) > 9:\n        _CACHE.clear()\n",
        "from functools import lru_cache\n@lru_cache(maxsize=64)\ndef holidays(year):\n    return year\n",
        "from functools import cache\n@cache\ndef f(x):\n    return x\n",
        "from dataclasses import dataclass, field\n@dataclass(frozen=True)\nclass D:\n"
        "    memo: dict[str, int] = field(default_factory=dict)\n",
        "from dataclasses import dataclass, field\n@dataclass(frozen=True, slots=True)\nclass D:\n"
        "    seen: list = field(default_factory=list)\n",
        "_SEEN = []\ndef f(x):\n    _SEEN.append(x)\n",
        "def outer():\n    n = 0\n    def inner():\n        nonlocal n\n        n += 1\n",
    ],
    ids=[
        "id-keyed-derive",
        "global",
        "mask-dict",
        "cleared-cache",
        "lru-cache-not-allowed",
        "functools-cache",
        "frozen-with-dict",
        "frozen-with-list",
        "appended-list",
        "nonlocal",
    ],
)
def test_the_check_catches(source: str) -> None:
    assert hidden_state(source)


def test_the_check_allows_tables_built_at_import_and_state_in_an_engine() -> None:
    ok = (
        "from functools import lru_cache\n"
        "TABLE = {'a': 1}\nINDEX = {k: v for k, v in TABLE.items()}\n"
        "def lookup(k):\n    found = {}\n    found[k] = TABLE.get(k)\n    return found\n"
        "class Engine:\n    def __init__(self):\n        self._memo = {}\n"
        "    def get(self, k):\n        self._memo[k] = 1\n        self._memo.clear()\n"
        "@lru_cache(maxsize=2048)\ndef _fields_of_mask(mask):\n    return frozenset()\n"
    )
    assert hidden_state(ok, "disclose.py") == []
