"""Does an SQL statement name the company of every tenant table it reads or writes?

The statement is parsed by PostgreSQL's own parser (``pglast``), then checked one query level
at a time (the statement, each CTE, each subquery). At a level, the conjuncts of the WHERE
clause and of every JOIN … ON are read as equalities over *company nodes*:

* ``x.company_id = <value>`` (a parameter, a constant, an expression of outer columns only),
  ``x.company_id IN (…)``, ``x.company_id = ANY(…)``, ``x.company_id IN (SELECT …)``: the
  company of ``x`` is given;
* ``x.company_id = y.company_id``: ``x`` and ``y`` have the same company.

A relation of the level is *scoped* when its company node is, through these equalities, one
with a given company, with the company of a relation of an enclosing level (a correlated
subquery: the outer relation is checked at its own level), or with the company of a derived
relation (a CTE or a subquery in FROM, whose own rows are checked where they are read).
Only conjuncts count, and an OR whose every branch gives a relation's company: a condition
under NOT, or in some branches of an OR only, restricts nothing for sure.

The verdicts, ``Finding``s: a tenant table not scoped (``unscoped``; ``by_id`` tells whether
some other condition names its columns, e.g. its id or a foreign key, or none does), two
tenant tables of one level whose companies are not equated (``join``), and an INSERT into a
tenant table that does not write ``company_id`` (``insert``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pglast import ast, parse_sql
from pglast.enums import A_Expr_Kind, BoolExprType, SetOperation, SubLinkType
from pglast.stream import RawStream

COMPANY = "company_id"


@dataclass(frozen=True)
class Finding:
    kind: str  # "unscoped", "join" or "insert"
    tables: tuple[str, ...]
    #: for "unscoped": some condition names the table's columns (by id or foreign key)
    by_id: bool = False

    def __str__(self) -> str:
        if self.kind == "join":
            return f"join of {' and '.join(self.tables)} without equal company_id"
        if self.kind == "insert":
            return f"INSERT INTO {self.tables[0]} without company_id"
        how = "by id or foreign key only" if self.by_id else "without any condition"
        return f"{self.tables[0]} read or written {how}, not by company_id"


# --- the SQL text Django sends ---------------------------------------------------------------

_PLACEHOLDER = re.compile(r"%s|%%|%\(\w+\)s")


def to_postgres(sql: str) -> str:
    """Django's placeholders (``%s``, ``%(name)s``, ``%%``) as PostgreSQL's (``$1``, …, ``%``)."""
    numbers: dict[str, int] = {}
    counter = iter(range(1, 1_000_000))

    def replace(match: re.Match) -> str:
        text = match.group(0)
        if text == "%%":
            return "%"
        if text == "%s":
            return f"${next(counter)}"
        if text not in numbers:
            numbers[text] = next(counter)
        return f"${numbers[text]}"

    return _PLACEHOLDER.sub(replace, sql)


_PARAM_LIST = re.compile(r"%s(?:, %s)+")
_REPEATED_GROUP = re.compile(r"(\([^()]*\))(?: OR \1)+")
_SAVEPOINT = re.compile(r'"s\d+_x\d+"')


def normalize(sql: str) -> str:
    """One text for the statements that differ only by how many values a list holds."""
    sql = _PARAM_LIST.sub("%s, …", " ".join(sql.split()))
    sql = _REPEATED_GROUP.sub(r"\1 OR …", sql)
    return _SAVEPOINT.sub('"s…"', sql)


# --- the checker ------------------------------------------------------------------------------


@dataclass
class _Relation:
    name: str  # the name its columns are qualified with
    table: str | None  # the tenant table, None for any other relation
    derived: bool = False  # a CTE or subquery: its company is checked where it is read


@dataclass
class _Level:
    outer: _Level | None
    ctes: frozenset[str]
    relations: dict[str, _Relation] = field(default_factory=dict)
    conjuncts: list = field(default_factory=list)

    def resolve(self, ref: ast.ColumnRef) -> tuple[str, _Relation | None] | None:
        """(column, relation of this level) for a column of this level; (column, None) for
        a column of an enclosing level; None when it cannot be told."""
        names = [f.sval for f in ref.fields if isinstance(f, ast.String)]
        if not names or len(names) != len(ref.fields):
            return None
        column = names[-1]
        if len(names) == 1:
            if len(self.relations) == 1:
                return column, next(iter(self.relations.values()))
            tenant = [r for r in self.relations.values() if r.table is not None]
            return (column, tenant[0]) if len(tenant) == 1 else None
        qualifier = names[-2]
        if qualifier in self.relations:
            return column, self.relations[qualifier]
        level = self.outer
        while level is not None:
            if qualifier in level.relations:
                return column, None
            level = level.outer
        return None


class _Classes:
    """Union-find over company nodes."""

    def __init__(self) -> None:
        self.parent: dict[object, object] = {}

    def find(self, node: object) -> object:
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def union(self, a: object, b: object) -> None:
        self.parent[self.find(a)] = self.find(b)


def _anchor(kind: str, node=None) -> tuple[str, str]:
    """A company node that is known: a value (by its text), an outer or derived relation's."""
    return (kind, "" if node is None else RawStream()(node))


def _children(node) -> Iterator:
    if isinstance(node, tuple | list):
        for item in node:
            yield from _children(item)
    elif isinstance(node, ast.Node):
        yield node


def _walk(node) -> Iterator[ast.Node]:
    """Every node below ``node`` (itself included), not entering subqueries."""
    for item in _children(node):
        yield item
        if isinstance(item, ast.SubLink):
            yield from _walk(item.testexpr)
            continue
        for attr in item:
            yield from _walk(getattr(item, attr))


def _conjuncts(node) -> list:
    if node is None:
        return []
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        return [c for arg in node.args for c in _conjuncts(arg)]
    return [node]


class Checker:
    def __init__(self, tenant_tables: Iterable[str]) -> None:
        self.tenant_tables = frozenset(tenant_tables)

    def check(self, sql: str) -> list[Finding]:
        """The findings of ``sql`` (one or several statements, Django's or PostgreSQL's
        placeholders); [] when every tenant table is read and written by company."""
        findings: list[Finding] = []
        for raw in parse_sql(to_postgres(sql)):
            self._statement(raw.stmt, None, frozenset(), findings)
        return list(dict.fromkeys(findings))

    def touches(self, sql: str) -> set[str]:
        """The tenant tables ``sql`` names."""
        tables = set()
        for raw in parse_sql(to_postgres(sql)):
            for node in self._all_nodes(raw.stmt):
                if isinstance(node, ast.RangeVar) and node.relname in self.tenant_tables:
                    tables.add(node.relname)
        return tables

    def _all_nodes(self, node) -> Iterator[ast.Node]:
        for item in _children(node):
            yield item
            for attr in item:
                yield from self._all_nodes(getattr(item, attr))

    # --- statements

    def _statement(self, stmt, outer: _Level | None, ctes: frozenset[str], findings) -> None:
        with_clause = getattr(stmt, "withClause", None)
        if with_clause is not None:
            names = frozenset(cte.ctename for cte in with_clause.ctes)
            ctes = ctes | names
            for cte in with_clause.ctes:
                self._statement(cte.ctequery, outer, ctes, findings)
        if isinstance(stmt, ast.SelectStmt):
            self._select(stmt, outer, ctes, findings)
        elif isinstance(stmt, ast.UpdateStmt | ast.DeleteStmt):
            level = _Level(outer, ctes)
            self._add_relation(level, stmt.relation, findings)
            extra = stmt.fromClause if isinstance(stmt, ast.UpdateStmt) else stmt.usingClause
            for item in extra or ():
                self._add_from(level, item, findings)
            level.conjuncts += _conjuncts(stmt.whereClause)
            self._finish(level, [getattr(stmt, "targetList", None), stmt.returningClause], findings)
        elif isinstance(stmt, ast.InsertStmt):
            table = stmt.relation.relname
            if table in self.tenant_tables and stmt.relation.relname not in ctes:
                columns = {target.name for target in stmt.cols or ()}
                if COMPANY not in columns:
                    findings.append(Finding("insert", (table,)))
            if stmt.selectStmt is not None:
                self._statement(stmt.selectStmt, outer, ctes, findings)

    def _select(self, stmt: ast.SelectStmt, outer, ctes, findings) -> None:
        if stmt.op != SetOperation.SETOP_NONE:
            self._statement(stmt.larg, outer, ctes, findings)
            self._statement(stmt.rarg, outer, ctes, findings)
            return
        level = _Level(outer, ctes)
        for item in stmt.fromClause or ():
            self._add_from(level, item, findings)
        level.conjuncts += _conjuncts(stmt.whereClause)
        self._finish(
            level,
            [stmt.targetList, stmt.havingClause, stmt.sortClause, stmt.valuesLists],
            findings,
        )

    def _add_relation(self, level: _Level, rangevar: ast.RangeVar, findings) -> None:
        name = rangevar.alias.aliasname if rangevar.alias else rangevar.relname
        if rangevar.relname in level.ctes and rangevar.schemaname is None:
            level.relations[name] = _Relation(name, None, derived=True)
        else:
            table = rangevar.relname if rangevar.relname in self.tenant_tables else None
            level.relations[name] = _Relation(name, table)

    def _add_from(self, level: _Level, item, findings) -> None:
        if isinstance(item, ast.RangeVar):
            self._add_relation(level, item, findings)
        elif isinstance(item, ast.JoinExpr):
            self._add_from(level, item.larg, findings)
            self._add_from(level, item.rarg, findings)
            level.conjuncts += _conjuncts(item.quals)
        elif isinstance(item, ast.RangeSubselect):
            self._statement(
                item.subquery, level if item.lateral else level.outer, level.ctes, findings
            )
            if item.alias is not None:
                level.relations[item.alias.aliasname] = _Relation(
                    item.alias.aliasname, None, derived=True
                )
        elif isinstance(item, ast.RangeFunction) and item.alias is not None:
            level.relations[item.alias.aliasname] = _Relation(
                item.alias.aliasname, None, derived=True
            )

    # --- one level

    def _finish(self, level: _Level, others: list, findings) -> None:
        classes = _Classes()
        named: set[str] = set()  # relations some condition names
        for conjunct in level.conjuncts:
            self._read_conjunct(level, conjunct, classes, named)
        for node in [*level.conjuncts, *others]:
            for sub in _walk(node):
                if isinstance(sub, ast.SubLink):
                    self._statement(sub.subselect, level, level.ctes, findings)
        for relation in level.relations.values():
            if relation.derived:
                classes.union(relation.name, ("derived", relation.name))
        known = {classes.find(node) for node in list(classes.parent) if isinstance(node, tuple)}
        tenant = [r for r in level.relations.values() if r.table is not None]
        for relation in tenant:
            if classes.find(relation.name) not in known:
                findings.append(
                    Finding("unscoped", (relation.table,), by_id=relation.name in named)
                )
        for i, first in enumerate(tenant):
            for second in tenant[i + 1 :]:
                if classes.find(first.name) != classes.find(second.name):
                    findings.append(Finding("join", tuple(sorted((first.table, second.table)))))

    def _company_of(self, level: _Level, node) -> object | None:
        """The company node that ``node`` is, if it is a company_id column."""
        if isinstance(node, ast.TypeCast):
            node = node.arg
        if not isinstance(node, ast.ColumnRef):
            return None
        resolved = level.resolve(node)
        if resolved is None or resolved[0] != COMPANY:
            return None
        return _anchor("outer", node) if resolved[1] is None else resolved[1].name

    def _is_value(self, level: _Level, node) -> bool:
        """An expression of no column of this level: a constant, a parameter, outer columns."""
        for sub in _walk(node):
            if isinstance(sub, ast.ColumnRef):
                resolved = level.resolve(sub)
                if resolved is None or resolved[1] is not None:
                    return False
        return True

    def _read_conjunct(self, level: _Level, node, classes: _Classes, named: set[str]) -> None:
        for sub in _walk(node):
            if isinstance(sub, ast.ColumnRef):
                resolved = level.resolve(sub)
                if resolved is not None and resolved[1] is not None:
                    named.add(resolved[1].name)
        if isinstance(node, ast.A_Expr):
            name = node.name[-1].sval if node.name else None
            if name != "=":
                return
            if node.kind == A_Expr_Kind.AEXPR_OP:
                left = self._company_of(level, node.lexpr)
                right = self._company_of(level, node.rexpr)
                if left is not None and right is not None:
                    classes.union(left, right)
                elif left is not None and self._is_value(level, node.rexpr):
                    classes.union(left, _anchor("value", node.rexpr))
                elif right is not None and self._is_value(level, node.lexpr):
                    classes.union(right, _anchor("value", node.lexpr))
            elif node.kind in (A_Expr_Kind.AEXPR_IN, A_Expr_Kind.AEXPR_OP_ANY):
                left = self._company_of(level, node.lexpr)
                if left is not None and self._is_value(level, node.rexpr):
                    classes.union(left, _anchor("value", node))
        elif isinstance(node, ast.SubLink) and node.subLinkType == SubLinkType.ANY_SUBLINK:
            left = self._company_of(level, node.testexpr)
            if left is not None:
                classes.union(left, _anchor("value", node))
        elif isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.OR_EXPR:
            # A relation whose company every branch gives has its company given.
            given = None
            for branch in node.args:
                names = self._given_by(level, _conjuncts(branch))
                given = names if given is None else given & names
            for name in sorted(given or ()):
                classes.union(name, _anchor("value", node))

    def _given_by(self, level: _Level, conjuncts: list) -> set[str]:
        """The relations of the level whose company ``conjuncts`` give."""
        classes = _Classes()
        for conjunct in conjuncts:
            self._read_conjunct(level, conjunct, classes, set())
        known = {classes.find(node) for node in list(classes.parent) if isinstance(node, tuple)}
        return {name for name in level.relations if classes.find(name) in known}
