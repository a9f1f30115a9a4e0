"""Static name analysis of notebook cells: what a cell binds and what it reads before binding it.

Only the module scope matters to a pipeline: a name a step binds at top level can flow to a later step.
Function bodies are read for the globals they use when called. Statements that mutate an object in
place (``df["x"] = ...``, ``model.fit(...)``, ``inplace=True``) count as binding it again, so a later
step receives the mutated object, as it would when the notebook runs top to bottom.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from shipyard.bridge.notebook import Cell
from shipyard.errors import InvalidInput

_MUTATORS = {
    "fit",
    "partial_fit",
    "fit_transform",
    "set_params",
    "append",
    "extend",
    "insert",
    "remove",
    "pop",
    "clear",
    "update",
    "sort",
    "reverse",
    "add",
    "discard",
    "setdefault",
    "popitem",
}
_PYTHON_CELL_MAGICS = {"time", "capture", "prun", "timeit"}


@dataclass
class Names:
    """Names of one step (or cell group): bound at top level, read before bound, bound by import."""

    defines: dict[str, int] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=dict)
    imports: dict[str, str] = field(default_factory=dict)
    mutated: set[str] = field(default_factory=set)
    star_import_cells: list[int] = field(default_factory=list)


def python_source(cell: Cell) -> str:
    """The cell as plain Python: IPython magics and shell escapes become ``get_ipython()`` calls."""
    source = cell.source
    first, _, rest = source.lstrip().partition("\n")
    if first.startswith("%%"):
        # %%time and friends run their body as Python in the user namespace; %%bash, %%writefile... do not.
        magic = (first[2:].split() or [""])[0]
        source = rest if magic in _PYTHON_CELL_MAGICS else ""
    if any(
        line.lstrip().startswith(("%", "!")) or line.rstrip().endswith("?") for line in source.splitlines()
    ):
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    return source


def parse_cell(cell: Cell) -> ast.Module:
    """Parse a code cell; a syntax error raises ``InvalidInput`` naming the cell and line."""
    try:
        return ast.parse(python_source(cell), filename=f"<cell {cell.number}>")
    except SyntaxError as exc:
        raise InvalidInput(
            f"cell {cell.number}: Python syntax error at line {exc.lineno}: {exc.msg}; fix the cell or tag it skip"
        ) from exc


def scan_cells(cells: list[Cell]) -> Names:
    """Scan cells in order as one module scope (a step's cells run in one kernel, top to bottom)."""
    scan = _Scan()
    for cell in cells:
        if cell.cell_type != "code":
            continue
        scan.cell = cell.number
        for stmt in parse_cell(cell).body:
            scan.stmt(stmt)
    return scan.finish()


class _Scan:
    def __init__(self) -> None:
        self.cell = 0
        self.bound: set[str] = set()
        self.names = Names()
        self.deferred: dict[str, int] = {}

    def finish(self) -> Names:
        for name, cell in self.deferred.items():
            if name not in self.bound:
                self.names.reads.setdefault(name, cell)
        return self.names

    def read(self, names: set[str]) -> None:
        for name in names - self.bound:
            self.names.reads.setdefault(name, self.cell)

    def bind(self, name: str) -> None:
        self.bound.add(name)
        self.names.defines[name] = self.cell
        self.names.imports.pop(name, None)
        self.names.mutated.discard(name)

    def mutate(self, name: str) -> None:
        # Changing an imported module or object in place hands nothing on: the import runs again.
        if name in self.names.imports:
            return
        if name not in self.names.defines:
            self.names.mutated.add(name)
        self.bound.add(name)
        self.names.defines[name] = self.cell

    def expr(self, node: ast.AST | None) -> None:
        if node is None:
            return
        loads, walrus = _expr_names(node)
        self.read(loads)
        for name in walrus:
            self.bind(name)

    def target(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            self.bind(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                self.target(elt)
        elif isinstance(node, ast.Starred):
            self.target(node.value)
        elif isinstance(node, (ast.Subscript, ast.Attribute)):
            self.expr(node)
            base = _base_name(node)
            if base is not None:
                self.mutate(base)
        else:
            self.expr(node)

    def body(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.stmt(stmt)

    def stmt(self, node: ast.stmt) -> None:  # noqa: C901 - one branch per statement kind reads best
        if isinstance(node, ast.Assign):
            self.expr(node.value)
            for t in node.targets:
                self.target(t)
        elif isinstance(node, ast.AugAssign):
            self.expr(node.value)
            self.expr(
                node.target if not isinstance(node.target, ast.Name) else ast.Name(node.target.id, ast.Load())
            )
            self.target(node.target)
        elif isinstance(node, ast.AnnAssign):
            self.expr(node.value)
            if node.value is not None:
                self.target(node.target)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.expr(node.iter)
            self.target(node.target)
            self.body(node.body)
            self.body(node.orelse)
        elif isinstance(node, (ast.While, ast.If)):
            self.expr(node.test)
            self.body(node.body)
            self.body(node.orelse)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.expr(item.context_expr)
                if item.optional_vars is not None:
                    self.target(item.optional_vars)
            self.body(node.body)
        elif isinstance(node, (ast.Try, ast.TryStar)):
            self.body(node.body)
            for handler in node.handlers:
                self.expr(handler.type)
                if handler.name:
                    self.bind(handler.name)
                self.body(handler.body)
            self.body(node.orelse)
            self.body(node.finalbody)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._definition(node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self._import(node)
        elif isinstance(node, ast.Delete):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    self.bound.discard(t.id)
                    self.names.defines.pop(t.id, None)
                else:
                    self.target(t)
        elif isinstance(node, ast.Expr):
            self.expr(node.value)
            mutated = _mutated_name(node.value)
            if mutated is not None:
                self.mutate(mutated)
        elif isinstance(node, ast.Match):
            self.expr(node.subject)
            for case in node.cases:
                for sub in ast.walk(case.pattern):
                    name = getattr(sub, "name", None) or getattr(sub, "rest", None)
                    if isinstance(name, str):
                        self.bind(name)
                self.expr(case.guard)
                self.body(case.body)
        else:
            for child in ast.iter_child_nodes(node):
                self.expr(child)

    def _definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        for deco in node.decorator_list:
            self.expr(deco)
        if isinstance(node, ast.ClassDef):
            for base in [*node.bases, *(k.value for k in node.keywords)]:
                self.expr(base)
        else:
            for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
                self.expr(default)
        self.bind(node.name)
        for name in _free_names(node):
            if name not in self.bound:
                self.deferred.setdefault(name, self.cell)

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.names.star_import_cells.append(self.cell)
                continue
            name = alias.asname or alias.name.split(".")[0]
            single = (
                ast.Import(names=[alias])
                if isinstance(node, ast.Import)
                else ast.ImportFrom(module=node.module, names=[alias], level=node.level)
            )
            self.bind(name)
            self.names.defines.pop(name, None)
            self.names.imports[name] = ast.unparse(single)


def _base_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _mutated_name(node: ast.AST) -> str | None:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    inplace = any(
        k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in node.keywords
    )
    if node.func.attr in _MUTATORS or inplace:
        return _base_name(node.func.value)
    return None


class _ExprNames(ast.NodeVisitor):
    """Loads of an expression, minus names local to lambdas and comprehensions; walrus targets apart."""

    def __init__(self) -> None:
        self.loads: set[str] = set()
        self.walrus: set[str] = set()
        self.local: list[set[str]] = []

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and not any(node.id in scope for scope in self.local):
            self.loads.add(node.id)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.walrus.add(node.target.id)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
            self.visit(default)
        self.local.append(_arg_names(node.args))
        self.visit(node.body)
        self.local.pop()

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        targets = {n.id for gen in node.generators for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
        self.visit(node.generators[0].iter)
        self.local.append(targets)
        for i, gen in enumerate(node.generators):
            if i:
                self.visit(gen.iter)
            for cond in gen.ifs:
                self.visit(cond)
        if isinstance(node, ast.DictComp):
            self.visit(node.key)
            self.visit(node.value)
        else:
            self.visit(node.elt)
        self.local.pop()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension


def _expr_names(node: ast.AST) -> tuple[set[str], set[str]]:
    visitor = _ExprNames()
    visitor.visit(node)
    return visitor.loads, visitor.walrus


def _arg_names(args: ast.arguments) -> set[str]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return {a.arg for a in every if a is not None}


def _free_names(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda) -> set[str]:
    """Globals a function (or class body) reads when it runs: loads minus its own locals."""
    local = _arg_names(node.args) if not isinstance(node, ast.ClassDef) else set()
    declared_global: set[str] = set()
    loads: set[str] = set()
    body = node.body if isinstance(node.body, list) else [node.body]
    stack: list[ast.AST] = list(body)
    while stack:
        sub = stack.pop()
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            if not isinstance(sub, ast.Lambda):
                local.add(sub.name)
                stack.extend(sub.decorator_list)
            loads |= _free_names(sub)
            continue
        if isinstance(sub, ast.Global):
            declared_global.update(sub.names)
        elif isinstance(sub, ast.Name):
            (loads if isinstance(sub.ctx, ast.Load) else local).add(sub.id)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            local.update(a.asname or a.name.split(".")[0] for a in sub.names)
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            local.add(sub.name)
        elif isinstance(sub, ast.arg):
            local.add(sub.arg)
        stack.extend(ast.iter_child_nodes(sub))
    return loads - (local - declared_global)
