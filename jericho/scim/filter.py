"""Filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2): a tokenizer and a
recursive-descent parser into a small dataclass AST, and schema resolution of that AST (its
in-memory evaluation is `matching`)."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from .errors import InvalidFilter, InvalidPath, TooMany
from .paths import ATTRNAME, AttrPath, parse_attr_path
from .schema import Attribute, ResourceType

MAX_DEPTH = 64
COMPARISON_OPERATORS = ("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le")
_SUBSTRING_OPERATORS = ("co", "sw", "ew")
_LITERALS: dict[str, bool | None] = {"true": True, "false": False, "null": None}

Value = str | bool | int | float | datetime | None


@dataclass(frozen=True)
class Comparison:
    path: AttrPath
    op: str
    value: Value


@dataclass(frozen=True)
class Present:
    path: AttrPath


@dataclass(frozen=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Or:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not:
    expr: Expr


@dataclass(frozen=True)
class ValueFilter:
    # `emails[type eq "work"]`: the inner filter's paths are relative to one element.
    path: AttrPath
    filter: Expr


Expr = Comparison | Present | And | Or | Not | ValueFilter


@dataclass(frozen=True)
class PatchPath:
    attr: AttrPath
    value_filter: Expr | None = None
    sub: str | None = None


# --- Tokenizer -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Token:
    kind: str  # "word" "string" "number" "(" ")" "[" "]" "." "end"
    text: str
    position: int
    value: Value = None


_SPACE = re.compile(r"[ \t\r\n]+")
_WORD = re.compile(r"[A-Za-z$][A-Za-z0-9_$:.-]*")
# RFC 8259 §6 number.
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_PUNCTUATION = "()[]."
_JSON = json.JSONDecoder()


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(text):
        if match := _SPACE.match(text, position):
            position = match.end()
            continue
        char = text[position]
        if char in _PUNCTUATION:
            tokens.append(_Token(char, char, position))
            position += 1
        elif char == '"':
            tokens.append(_string(text, position))
            position += len(tokens[-1].text)
        elif match := _WORD.match(text, position):
            tokens.append(_Token("word", match[0], position))
            position = match.end()
        elif match := _NUMBER.match(text, position):
            tokens.append(_Token("number", match[0], position, _number(match[0], position)))
            position = match.end()
        else:
            raise InvalidFilter(f"unexpected character {char!r} at position {position}")
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _string(text: str, position: int) -> _Token:
    # RFC 7644 §3.4.2.2: compValue strings are JSON strings (RFC 8259 §7), escapes included.
    try:
        value, end = _JSON.raw_decode(text, position)
    except json.JSONDecodeError as error:
        reason = error.msg.removesuffix(" at").lower()
        raise InvalidFilter(
            f"invalid JSON string at position {position}: {reason} at position {error.pos}") from None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidFilter(
            f"invalid JSON string at position {position}: unpaired surrogate escape") from None
    if "\x00" in value:  # "\u0000": no stored value holds it, and PostgreSQL refuses it in a query
        raise InvalidFilter(f"invalid JSON string at position {position}: NUL character")
    return _Token("string", text[position:end], position, value)


def _number(text: str, position: int) -> int | float:
    try:
        value = float(text) if any(char in text for char in ".eE") else int(text)
    except ValueError:
        raise InvalidFilter(f"number at position {position} is too long") from None
    if value in (float("inf"), float("-inf")):
        raise InvalidFilter(f"number at position {position} is out of range")
    return value


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "the end"
    return repr(token.text if len(token.text) <= 40 else token.text[:40] + "...")


# --- Parser ----------------------------------------------------------------------------------
# RFC 7644 §3.4.2.2, Figure 1, with precedence not > and > or (§3.4.2.2 "grouping operators").

class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    def filter(self) -> Expr:
        expr = self._or(in_brackets=False)
        self._expect("end", "expected 'and', 'or' or the end of the filter")
        return expr

    def patch_path(self) -> PatchPath:
        # RFC 7644 §3.5.2: PATH = attrPath / valuePath [subAttr]
        attr = self._attr_path(self._expect("word", "expected an attribute path"))
        value_filter = sub = None
        if self._peek().kind == "[":
            value_filter = self._bracketed(attr, self._advance())
            if self._peek().kind == ".":
                self._advance()
                sub = self._sub_attribute().text
        self._expect("end", "expected '[' or the end of the path" if value_filter is None
                     else "expected '.' and a sub-attribute or the end of the path")
        return PatchPath(attr, value_filter, sub)

    def _or(self, *, in_brackets: bool) -> Expr:
        operands = [self._and(in_brackets=in_brackets)]
        while self._keyword() == "or":
            self._advance()
            operands.append(self._and(in_brackets=in_brackets))
        return _balanced(Or, operands)

    def _and(self, *, in_brackets: bool) -> Expr:
        operands = [self._unary(in_brackets=in_brackets)]
        while self._keyword() == "and":
            self._advance()
            operands.append(self._unary(in_brackets=in_brackets))
        return _balanced(And, operands)

    def _unary(self, *, in_brackets: bool) -> Expr:
        token = self._peek()
        if self._keyword() == "not":
            self._advance()
            return Not(self._group(self._expect("(", "expected '(' after 'not'"), in_brackets=in_brackets))
        if token.kind == "(":
            return self._group(self._advance(), in_brackets=in_brackets)
        return self._attribute_expression(in_brackets=in_brackets)

    def _group(self, opening: _Token, *, in_brackets: bool) -> Expr:
        self._enter(opening)
        expr = self._or(in_brackets=in_brackets)
        self._expect(")", f"unclosed '(' from position {opening.position}: expected ')'")
        self.depth -= 1
        return expr

    def _attribute_expression(self, *, in_brackets: bool) -> Expr:
        token = self._peek()
        if token.kind != "word" or self._keyword() in ("and", "or"):
            raise self._error(token, "expected an attribute path, 'not' or '('")
        self._advance()
        path = self._attr_path(token)
        if self._peek().kind != "[":
            return self._comparison(path, token)
        opening = self._advance()
        if in_brackets:
            raise self._error(opening, "value filters cannot be nested")
        inner = self._bracketed(path, opening)
        if self._peek().kind == ".":
            # Entra lists `emails[type eq "work"].value eq "x"` as a matching-attribute filter
            # (ENTRA.md §3.10, §4). Not RFC 7644 filter syntax; read as
            # `emails[type eq "work" and value eq "x"]`.
            self._advance()
            name = self._sub_attribute()
            inner = And(inner, self._comparison(AttrPath(None, name.text), name))
        return ValueFilter(path, inner)

    def _bracketed(self, path: AttrPath, opening: _Token) -> Expr:
        # valuePath = attrPath "[" valFilter "]"
        if path.sub is not None:
            raise self._error(opening, f"'[' must follow an attribute, not the sub-attribute '{path}'")
        self._enter(opening)
        inner = self._or(in_brackets=True)
        self._expect("]", f"unclosed '[' from position {opening.position}: expected ']'")
        self.depth -= 1
        return inner

    def _comparison(self, path: AttrPath, path_token: _Token) -> Expr:
        # attrExp = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
        token = self._advance()
        op = self._keyword(token)
        if op == "pr":
            return Present(path)
        if op not in COMPARISON_OPERATORS:
            raise self._error(token, f"expected an operator ({', '.join(COMPARISON_OPERATORS)} or pr) "
                                     f"after {_describe(path_token)}")
        value = self._advance()
        if value.kind in ("string", "number"):
            return Comparison(path, op, value.value)
        if value.kind == "word" and value.text in _LITERALS:
            return Comparison(path, op, _LITERALS[value.text])
        raise self._error(value, f"expected a value after '{token.text}' "
                                 "(a double-quoted string, a number, true, false or null)")

    def _sub_attribute(self) -> _Token:
        token = self._advance()
        if token.kind != "word" or not re.fullmatch(ATTRNAME, token.text):
            raise self._error(token, "expected a sub-attribute name after '.'")
        return token

    def _attr_path(self, token: _Token) -> AttrPath:
        try:
            return parse_attr_path(token.text)
        except InvalidPath as error:
            raise InvalidFilter(f"{error.detail} at position {token.position}") from None

    def _enter(self, opening: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._error(opening, f"the filter nests deeper than {MAX_DEPTH} levels")

    def _peek(self) -> _Token:
        return self.tokens[self.index]

    def _advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def _keyword(self, token: _Token | None = None) -> str | None:
        # RFC 7644 §3.4.2.2: operators are case-insensitive.
        token = token or self._peek()
        return token.text.lower() if token.kind == "word" else None

    def _expect(self, kind: str, message: str) -> _Token:
        token = self._advance()
        if token.kind != kind:
            raise self._error(token, message)
        return token

    @staticmethod
    def _error(token: _Token, message: str) -> InvalidFilter:
        return InvalidFilter(f"{message} at position {token.position}, found {_describe(token)}")


def _balanced(node: type[And] | type[Or], operands: list[Expr]) -> Expr:
    # `a and b and c ...` is associative; a balanced tree keeps a long chain shallow for every
    # consumer that recurses over the AST (resolution, evaluation, SQL translation).
    if len(operands) == 1:
        return operands[0]
    middle = len(operands) // 2
    return node(_balanced(node, operands[:middle]), _balanced(node, operands[middle:]))


def parse_filter(text: str, *, max_length: int = 4096) -> Expr:
    if len(text) > max_length:
        raise TooMany(f"the filter is longer than {max_length} characters")
    if not text.strip():
        raise InvalidFilter("the filter is empty")
    return _Parser(text).filter()


def parse_patch_path(text: str) -> PatchPath:
    try:
        return _Parser(text).patch_path()
    except InvalidFilter as error:
        raise InvalidPath(f"invalid path {text!r}: {error.detail}") from None


# --- Resolution against a schema --------------------------------------------------------------

PathResolver = Callable[[AttrPath], tuple[AttrPath, Attribute]]


def resolve_filter(expr: Expr, resource_type: ResourceType) -> Expr:
    def resolve_path(path: AttrPath) -> tuple[AttrPath, Attribute]:
        try:
            urn, attribute, sub = resource_type.resolve(path)
        except InvalidPath as error:
            raise InvalidFilter(error.detail) from None
        return AttrPath(urn, attribute.name, sub.name if sub else None), sub or attribute

    return _resolve(expr, resolve_path)


def resolve_element_filter(expr: Expr, attribute: Attribute) -> Expr:
    def resolve_path(path: AttrPath) -> tuple[AttrPath, Attribute]:
        sub = attribute.sub(path.name) if path.schema is None and path.sub is None else None
        if sub is None:
            raise InvalidFilter(f"'{path}' is not a sub-attribute of '{attribute.name}'")
        return AttrPath(None, sub.name), sub

    return _resolve(expr, resolve_path)


def _resolve(expr: Expr, resolve_path: PathResolver) -> Expr:
    match expr:
        case And(left, right):
            return And(_resolve(left, resolve_path), _resolve(right, resolve_path))
        case Or(left, right):
            return Or(_resolve(left, resolve_path), _resolve(right, resolve_path))
        case Not(inner):
            return Not(_resolve(inner, resolve_path))
        case Present(path):
            return Present(_filterable(path, resolve_path)[0])
        case ValueFilter(path, inner):
            canonical, attribute = _filterable(path, resolve_path)
            # Sub-attributes are never complex (RFC 7643 §2.3.8), so this also refuses nesting.
            if attribute.type != "complex":
                raise InvalidFilter(f"'{path}' is not a complex attribute, so it takes no '[...]' filter")
            return ValueFilter(canonical, resolve_element_filter(inner, attribute))
        case Comparison(path, op, value):
            canonical, attribute = _filterable(path, resolve_path)
            if attribute.type == "complex":
                # RFC 7644 §3.4.2.2 asks for a sub-attribute of a complex attribute; Entra's
                # reference checks compare `manager` and `members` directly (ENTRA.md §3.3),
                # which means their "value" (RFC 7643 §2.4).
                value_attribute = attribute.sub("value")
                if value_attribute is None:
                    raise InvalidFilter(f"'{path}' is a complex attribute; compare one of its sub-attributes")
                canonical, attribute = replace(canonical, sub=value_attribute.name), value_attribute
            return Comparison(canonical, op, _typed_value(attribute, op, value, canonical))
    raise TypeError(f"not a filter expression: {expr!r}")


def _filterable(path: AttrPath, resolve_path: PathResolver) -> tuple[AttrPath, Attribute]:
    canonical, attribute = resolve_path(path)
    if attribute.returned == "never":
        # RFC 7643 §7 returned "never" (password): filtering on it would disclose it.
        raise InvalidFilter(f"'{path}' cannot be used in a filter")
    return canonical, attribute


def _typed_value(attribute: Attribute, op: str, value: Value, path: AttrPath) -> Value:
    def refuse(reason: str) -> InvalidFilter:
        return InvalidFilter(f"'{path} {op}': {reason}")

    if value is None:
        raise refuse("comparing with null is not supported; use 'pr' or 'not (... pr)'")
    kind = attribute.type
    if op in _SUBSTRING_OPERATORS and kind not in ("string", "reference"):
        raise refuse(f"'{op}' only applies to string attributes, and '{path}' is {kind}")
    if op not in ("eq", "ne") and kind in ("boolean", "binary"):
        # RFC 7644 §3.4.2.2: gt/ge/lt/le on boolean or binary attributes is invalidFilter.
        raise refuse(f"'{op}' cannot compare a {kind} attribute")
    if kind == "boolean":
        if not isinstance(value, bool):
            raise refuse("expected true or false")
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise refuse("expected an integer")
    elif kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise refuse("expected a number")
    elif kind == "dateTime":
        # RFC 7643 §2.3.5: compared as instants, not as text.
        moment = value if isinstance(value, datetime) else as_datetime(value)
        if moment is None:
            raise refuse("expected a date-time string such as \"2011-05-13T04:42:34Z\"")
        return moment
    elif not isinstance(value, str):
        raise refuse("expected a double-quoted string")
    return value


def as_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    # xsd:dateTime without a zone offset is read as UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
