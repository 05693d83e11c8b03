"""OpenGov EAM (Cartegraph) `filter=` expressions: a tokenizer, a recursive-descent parser and an evaluator.

Grammar (what client code shows, vendor-notes/opengov.md; the verbal comparisons beyond "is equal to" and
"is not equal to" follow the same style and are inferred):

    expr    := and ("OR" and)*
    and     := unary ("AND" unary)*
    unary   := "NOT" unary | "(" expr ")" | clause
    clause  := field op value | field ("in" | "not in") "(" value ("," value)* ")"
    field   := "[" name ("\\" name)* "]"          # a backslash follows a lookup: [MUTCDCode\\Classification]
    op      := "is equal to" | "is not equal to" | "is greater than" | "is greater than or equal to"
             | "is less than" | "is less than or equal to" | "contains" | "does not contain"
             | "=" | "<>" | "!=" | ">" | ">=" | "<" | "<="
    value   := "string" | number | true | false | null

Field names are case-insensitive and name the field without its `Field` suffix ([Status] reads
`StatusField`); `Oid` and other system names are read as they are. Text compares case-insensitively, as
the vendor's SQL Server collation does; dates compare as dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

VERBAL = {
    "is equal to": "=",
    "is not equal to": "<>",
    "is greater than or equal to": ">=",
    "is greater than": ">",
    "is less than or equal to": "<=",
    "is less than": "<",
    "does not contain": "not contains",
    "contains": "contains",
}
SYMBOLS = {"=": "=", "<>": "<>", "!=": "<>", ">=": ">=", "<=": "<=", ">": ">", "<": "<"}
ALIASES = {"lastmodified": "cglastmodified"}  # the bracket name of the system field is not known: take both


class FilterError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.position = position


@dataclass(frozen=True, slots=True)
class Clause:
    path: tuple[str, ...]  # field, then lookup fields
    op: str  # = <> > >= < <= contains "not contains" in "not in"
    value: Any  # a scalar, or a tuple for in / not in


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Any


Node = Clause | And | Or | Not

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<field>\[[^\[\]]+\])
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<paren>[(),])
  | (?P<symbol><>|!=|>=|<=|=|>|<)
  | (?P<word>[A-Za-z]+)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise FilterError(f"unexpected {text[pos]!r}", pos)
        kind = m.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def at_word(self, *words: str) -> bool:
        for k, w in enumerate(words):
            t = self.peek(k)
            if t is None or t.kind != "word" or t.text.lower() != w:
                return False
        return True

    def expect(self, kind: str, text: str | None = None) -> Token:
        t = self.peek()
        if t is None or t.kind != kind or (text is not None and t.text != text):
            wanted = text or kind
            where = t.pos if t is not None else len(self.text)
            got = repr(t.text) if t is not None else "the end"
            raise FilterError(f"expected {wanted}, found {got}", where)
        self.i += 1
        return t

    def parse(self) -> Node:
        if not self.tokens:
            raise FilterError("the filter is empty", 0)
        node = self.expr()
        t = self.peek()
        if t is not None:
            raise FilterError(f"unexpected {t.text!r}", t.pos)
        return node

    def expr(self) -> Node:
        parts = [self.conjunction()]
        while self.at_word("or"):
            self.i += 1
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self) -> Node:
        parts = [self.unary()]
        while self.at_word("and"):
            self.i += 1
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self) -> Node:
        t = self.peek()
        if t is None:
            raise FilterError("expected a clause, found the end", len(self.text))
        if self.at_word("not") and not self.at_word("not", "in"):
            self.i += 1
            return Not(self.unary())
        if t.kind == "paren" and t.text == "(":
            self.i += 1
            node = self.expr()
            self.expect("paren", ")")
            return node
        return self.clause()

    def clause(self) -> Clause:
        field = self.expect("field")
        path = tuple(p.strip() for p in field.text[1:-1].split("\\"))
        if not all(path):
            raise FilterError("empty field name", field.pos)
        op = self.operator()
        if op in ("in", "not in"):
            self.expect("paren", "(")
            values = [self.value()]
            while (t := self.peek()) is not None and t.kind == "paren" and t.text == ",":
                self.i += 1
                values.append(self.value())
            self.expect("paren", ")")
            return Clause(path, op, tuple(values))
        return Clause(path, op, self.value())

    def operator(self) -> str:
        t = self.peek()
        if t is None:
            raise FilterError("expected an operator, found the end", len(self.text))
        if t.kind == "symbol":
            self.i += 1
            return SYMBOLS[t.text]
        for phrase, op in VERBAL.items():
            words = phrase.split()
            if self.at_word(*words):
                self.i += len(words)
                return op
        if self.at_word("not", "in"):
            self.i += 2
            return "not in"
        if self.at_word("in"):
            self.i += 1
            return "in"
        raise FilterError(f"unknown operator {t.text!r}", t.pos)

    def value(self) -> Any:
        t = self.peek()
        if t is None:
            raise FilterError("expected a value, found the end", len(self.text))
        self.i += 1
        if t.kind == "string":
            return re.sub(r"\\(.)", r"\1", t.text[1:-1])
        if t.kind == "number":
            return float(t.text) if any(c in t.text for c in ".eE") else int(t.text)
        if t.kind == "word" and t.text.lower() in ("true", "false"):
            return t.text.lower() == "true"
        if t.kind == "word" and t.text.lower() == "null":
            return None
        raise FilterError(f"expected a value, found {t.text!r}", t.pos)


def parse(text: str) -> Node:
    return _Parser(text).parse()


# -- evaluation -------------------------------------------------------------------------------------


def field_value(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for name in path:
        if not isinstance(value, dict):
            return None
        value = _lookup(value, name)
    return value


def _lookup(record: dict[str, Any], name: str) -> Any:
    wanted = ALIASES.get(name.lower(), name.lower())
    for key, value in record.items():
        k = key.lower()
        if k == wanted or k == wanted + "field":
            return value
    return None


def _as_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) < 10 or value[4:5] != "-":
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=None)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "0", "1"):
        return value.strip().lower() in ("true", "1")
    return None


def _compare(left: Any, right: Any, binary: bool = False) -> int | None:
    """-1, 0, 1, or None when the two cannot be compared; `binary`: text compared as it is (a wrong mode)."""
    if isinstance(left, dict) and "Amount" in left:  # quantity fields: {"Amount": 3, ...}
        left = left["Amount"]
    if left is None or right is None:
        return 0 if left is right else None
    if isinstance(right, bool) or isinstance(left, bool):
        a, b = _as_bool(left), _as_bool(right)
        return None if a is None or b is None else (a > b) - (a < b)
    if isinstance(right, int | float) and not isinstance(left, str):
        return (left > right) - (left < right) if isinstance(left, int | float) else None
    if isinstance(right, int | float) and isinstance(left, str):
        try:
            lf = float(left)
        except ValueError:
            return None
        return (lf > right) - (lf < right)
    da, db = _as_date(left), _as_date(right)
    if da is not None and db is not None:
        return (da > db) - (da < db)
    a, b = (str(left), str(right)) if binary else (str(left).casefold(), str(right).casefold())
    return (a > b) - (a < b)


def matches(node: Node, record: dict[str, Any], binary: bool = False) -> bool:
    """Whether the record passes the filter; `binary`: text compares case-sensitively (a wrong mode)."""
    if isinstance(node, And):
        return all(matches(p, record, binary) for p in node.parts)
    if isinstance(node, Or):
        return any(matches(p, record, binary) for p in node.parts)
    if isinstance(node, Not):
        return not matches(node.part, record, binary)
    value = field_value(record, node.path)
    op = node.op
    if op in ("in", "not in"):
        found = any(_compare(value, v, binary) == 0 for v in node.value)
        return found if op == "in" else not found
    if op in ("contains", "not contains"):
        inside = value is not None and str(node.value).casefold() in str(value).casefold()
        return inside if op == "contains" else not inside
    if op == "<>":
        if node.value == "" and value is None:
            return False  # [Field] is not equal to "" means "has a value"
        return _compare(value, node.value, binary) != 0
    if op == "=" and node.value == "" and value is None:
        return True
    result = _compare(value, node.value, binary)
    if result is None:
        return False
    return {"=": result == 0, ">": result > 0, ">=": result >= 0, "<": result < 0, "<=": result <= 0}[op]


def render(node: Node) -> str:
    """The canonical text of a filter (what the parser reads back to the same tree)."""
    if isinstance(node, And | Or):
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(render(p) for p in node.parts) + ")"
    if isinstance(node, Not):
        return f"NOT {render(node.part)}"
    field = "[" + "\\".join(node.path) + "]"
    if node.op in ("in", "not in"):
        return f"({field} {node.op} ({', '.join(_literal(v) for v in node.value)}))"
    phrase = {v: k for k, v in VERBAL.items()}[node.op] if node.op in VERBAL.values() else node.op
    return f"({field} {phrase} {_literal(node.value)})"


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
