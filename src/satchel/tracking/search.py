"""MLflow's search syntax, parsed into a small AST (each store compiles it, ``store/*_search``).

    metrics.rmse < 0.5 and params.alpha = '0.3' and tags.`team name` ILIKE '%ana%'
    attributes.status IN ('FINISHED', 'FAILED') and run_name LIKE 'net-%'

A filter is comparisons joined by AND (MLflow has no OR). Keys may be bare
(``metrics.val_acc``), backticked or double-quoted (``metrics.`val acc` ``). Values are
single-quoted strings or numbers. Every syntax error names the position and the token.
Standard library only.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

from satchel.errors import FilterSyntaxError, InvalidValueError

__all__ = [
    "Comparison",
    "OrderKey",
    "decode_page_token",
    "encode_page_token",
    "parse_filter",
    "parse_order_by",
]

# prefix written by the user -> the entity it names
ENTITIES = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "parameters": "param",
    "parameter": "param",
    "tags": "tag",
    "tag": "tag",
    "attributes": "attribute",
    "attribute": "attribute",
    "attr": "attribute",
    "run": "attribute",
}
KEYWORDS = {"and", "or", "not", "in", "like", "ilike", "asc", "desc", "is", "null"}
COMPARATORS = ("!=", "<>", "<=", ">=", "=", "<", ">")

_TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
  | (?P<string>'(?:[^'\\]|\\.|'')*')
  | (?P<ident>[A-Za-z_][\w]*(?:\.(?:`[^`]*`|"[^"]*"|[\w\-./:]+))?|`[^`]*`|"[^"]*")
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),])
""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # number | string | ident | keyword | op | punct | end
    text: str
    pos: int


@dataclass(frozen=True)
class Comparison:
    """One ``<entity>.<key> <op> <value>``; entity None for a bare name such as ``status``."""

    entity: str | None
    key: str
    op: str  # = != < <= > >= LIKE ILIKE NOT LIKE NOT ILIKE IN NOT IN
    value: object  # str | float | tuple of str
    pos: int
    token: str
    value_pos: int = 0
    value_token: str = ""


@dataclass(frozen=True)
class OrderKey:
    entity: str | None
    key: str
    ascending: bool
    pos: int
    token: str


def syntax_error(source: str, what: str, token: Token | None, hint: str) -> FilterSyntaxError:
    if token is None or token.kind == "end":
        where = "at the end"
    else:
        where = f"at position {token.pos} near {token.text!r}"
    return FilterSyntaxError(f"bad {source} {where}: {what}", hint=hint)


FILTER_HINT = "e.g. metrics.rmse < 0.5 and params.alpha = '0.3' and tags.team = 'x'"
ORDER_HINT = "e.g. metrics.rmse DESC or attributes.start_time ASC"


def tokenize(text: str, source: str = "filter") -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            bad = Token("bad", text[pos], pos)
            raise syntax_error(
                source,
                "unexpected character",
                bad,
                FILTER_HINT if source == "filter" else ORDER_HINT,
            )
        kind = match.lastgroup or ""
        word = match.group()
        if kind == "ident" and word.lower() in KEYWORDS:
            kind = "keyword"
        if kind != "space":
            tokens.append(Token(kind, word, pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in '`"':
        return text[1:-1]
    return text


def split_identifier(token: Token, source: str) -> tuple[str | None, str]:
    """``metrics.`val acc` `` -> ("metric", "val acc"); ``status`` -> (None, "status")."""
    prefix, dot, key = token.text.partition(".")
    if token.text[0] in '`"' or not dot:
        return None, _unquote(token.text)
    entity = ENTITIES.get(prefix.lower())
    if entity is None:
        raise syntax_error(
            source,
            f"unknown entity {prefix!r}",
            token,
            "use metrics., params., tags. or attributes.",
        )
    key = _unquote(key)
    if not key:
        raise syntax_error(source, "empty key", token, "write e.g. metrics.rmse")
    return entity, key


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def is_word(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "keyword" and token.text.lower() == word

    def fail(self, what: str, token: Token | None = None) -> FilterSyntaxError:
        return syntax_error("filter", what, token or self.peek(), FILTER_HINT)

    def parse(self) -> list[Comparison]:
        if self.peek().kind == "end":
            return []
        out = [self.comparison()]
        while self.peek().kind != "end":
            if self.is_word("or"):
                raise self.fail("OR is not supported (like MLflow): run two searches")
            if not self.is_word("and"):
                raise self.fail("expected AND between comparisons")
            self.take()
            out.append(self.comparison())
        return out

    def comparison(self) -> Comparison:
        ident = self.take()
        if ident.kind != "ident":
            raise self.fail("expected a key such as metrics.rmse", ident)
        entity, key = split_identifier(ident, "filter")
        op = self.operator()
        first = self.peek()
        if op in ("IN", "NOT IN"):
            value: object = self.value_list()
        else:
            value = self.value()
        return Comparison(entity, key, op, value, ident.pos, ident.text, first.pos, first.text)

    def operator(self) -> str:
        token = self.take()
        if token.kind == "op":
            return "!=" if token.text == "<>" else token.text
        word = token.text.upper() if token.kind == "keyword" else ""
        if word == "NOT":
            nxt = self.take()
            if nxt.kind == "keyword" and nxt.text.upper() in ("IN", "LIKE", "ILIKE"):
                return "NOT " + nxt.text.upper()
            raise self.fail("expected IN, LIKE or ILIKE after NOT", nxt)
        if word in ("IN", "LIKE", "ILIKE"):
            return word
        raise self.fail(
            "expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)", token
        )

    def value(self) -> object:
        token = self.take()
        if token.kind == "string":
            return token.text[1:-1].replace("''", "'").replace("\\'", "'")
        if token.kind == "number":
            return float(token.text)
        if token.kind == "ident" and token.text.startswith('"'):
            raise self.fail("values take single quotes", token)
        raise self.fail("expected a value: a number or a 'quoted string'", token)

    def value_list(self) -> tuple[str, ...]:
        opening = self.take()
        if opening.text != "(":
            raise self.fail("expected '(' to start the IN list", opening)
        values = []
        while True:
            token = self.peek()
            value = self.value()
            if not isinstance(value, str):
                raise self.fail("IN lists hold 'quoted strings'", token)
            values.append(value)
            sep = self.take()
            if sep.text == ")":
                return tuple(values)
            if sep.text != ",":
                raise self.fail("expected ',' or ')' in the IN list", sep)


def parse_filter(text: str | None) -> list[Comparison]:
    """The comparisons of an MLflow filter string (empty for None or blank)."""
    if text is None or not text.strip():
        return []
    return _Parser(text).parse()


def parse_order_by(clauses: list[str] | tuple[str, ...] | None) -> list[OrderKey]:
    out = []
    for clause in clauses or ():
        tokens = tokenize(clause, "order_by")
        first = tokens[0]
        if first.kind != "ident":
            raise syntax_error("order_by", "expected a key such as metrics.rmse", first, ORDER_HINT)
        entity, key = split_identifier(first, "order_by")
        ascending = True
        rest = tokens[1:]
        if rest[0].kind == "keyword" and rest[0].text.lower() in ("asc", "desc"):
            ascending = rest[0].text.lower() == "asc"
            rest = rest[1:]
        if rest[0].kind != "end":
            raise syntax_error("order_by", "expected ASC or DESC", rest[0], ORDER_HINT)
        out.append(OrderKey(entity, key, ascending, first.pos, first.text))
    return out


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidValueError(
            f"page token {token[:20]!r} is not valid",
            hint="pass the token returned by the previous page",
        ) from exc
    # SQLite integers are 64-bit: a larger offset would be an OverflowError in the driver
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < 2**63:
        raise InvalidValueError(
            f"page token {token[:20]!r} is not valid",
            hint="pass the token returned by the previous page",
        )
    return offset
