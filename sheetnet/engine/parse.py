"""Formula text -> expression nodes: the inverse of ``Expr.render``.

Excel, LibreOffice, Gnumeric and sheetnet all save formulas in the same A1 syntax.
openpyxl's tokenizer (a port of the well-known E. W. Bachtal grammar, kept with
openpyxl) splits the text into operands, operators and function calls; this
module gives the tokens Excel's precedence and builds the engine's nodes, so
a parsed formula evaluates exactly as the one sheetnet would have built.

What the engine cannot evaluate is refused by name, one line: a function it does
not have, an array constant, a defined name, an external or whole-column
reference, the intersection and union operators.
"""

from __future__ import annotations

import functools
import math
import re

from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError

from . import address
from .errors import REF, ExcelError
from .expr import BinOp, Call, Const, Expr, If, Neg, Paren, Percent, Range, Ref
from .functions import FUNCTIONS
from .offset import Offset

_INFIX = {"+": 3, "-": 3, "*": 4, "/": 4, "^": 5, "&": 2}
_INFIX.update({op: 1 for op in ("=", "<>", "<", ">", "<=", ">=")})
_PREFIXES = ("_XLFN.", "_XLWS.")  # how Excel marks functions newer than 2007
_CELL = re.compile(r"\$?[A-Za-z]{1,3}\$?[0-9]+")
_SHEET = re.compile(r"('(?:[^']|'')*'|[^'!:]+)!")
_WHOLE = re.compile(r"\$?([A-Za-z]{1,3}|[0-9]+):\$?([A-Za-z]{1,3}|[0-9]+)")
# functions whose value is the moment's (or a random draw): their cached value is kept
VOLATILE = frozenset({"RAND", "RANDBETWEEN", "RANDARRAY", "NOW", "TODAY", "INDIRECT", "INFO",
                      "CELL"})  # fmt: skip
MAX_FORMULA = 8192  # characters: Excel's own limit for a formula's text
MAX_DEPTH = 200  # levels of a formula's tree the engine evaluates (Excel nests 64 functions)
_TOO_DEEP = f"a formula nested more than {MAX_DEPTH} levels deep is not supported"
MAX_RANGE = 10_000_000  # cells in one range: a whole sheet is not a teaching workbook's


class FormulaNotSupported(ValueError):
    """A formula the engine cannot evaluate; the message names what (one line)."""

    def __init__(self, message: str, function: str | None = None) -> None:
        super().__init__(message)
        self.function = function


class VolatileFunction(FormulaNotSupported):
    """RAND, NOW and the like: their value is the moment's, so it is kept, not recomputed."""


@functools.lru_cache(maxsize=4096)
def parse_formula(text: str, host: str) -> Expr:
    """The expression of formula `text` (with or without '=') in a cell of sheet `host`.

    Raises FormulaNotSupported with a one-line reason."""
    if len(text) > MAX_FORMULA:
        raise FormulaNotSupported(f"a formula of {len(text):,} characters is too long")
    body = text[1:] if text.startswith("=") else text
    try:
        tokens = Tokenizer("=" + body).items
    except (TokenizerError, ValueError, IndexError) as exc:
        raise FormulaNotSupported(f"cannot read the formula ({exc})") from None
    parser = _Parser(_significant(tokens), host)
    expr = parser.expr(0)
    if parser.pos != len(parser.tokens):
        raise FormulaNotSupported(f"unexpected {parser.tokens[parser.pos].value!r}")
    if _depth(expr) > MAX_DEPTH:
        raise FormulaNotSupported(_TOO_DEEP)
    return expr


def _depth(expr: Expr) -> int:
    """How deep the tree goes (without recursion: a hostile formula may be deep)."""
    deepest, stack = 0, [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children())
    return deepest


# a formula's "shape": its text with each relative row and column written as an offset
# from the cell holding it, so a column of filled formulas is parsed once, then shifted
_SHAPE_TOKEN = re.compile(
    r'"(?:[^"]|"")*"'  # a text constant: left alone
    r"|'(?:[^']|'')*'!"  # a quoted sheet name: left alone
    r"|(?<![A-Za-z0-9_.$])(\$?)([A-Za-z]{1,3})(\$?)([0-9]{1,7})(?![A-Za-z0-9_.(!])"
)
_SHAPES: dict[tuple[str, str], tuple[Expr, int, int]] = {}
MAX_SHAPES = 1 << 16


def parse_formula_at(text: str, host: str, row: int, col: int) -> Expr:
    """parse_formula for the cell (row, col) of `host`, from a cache of shapes: the
    formulas of a filled column differ only in their relative references, so all but
    the first are the first one shifted (Excel's fill, the engine's Expr.shift)."""
    key = (_SHAPE_TOKEN.sub(lambda m: _relative(m, row, col), text), host)
    found = _SHAPES.get(key)
    if found is not None:
        expr, r0, c0 = found
        return expr.shift(row - r0, col - c0)
    expr = parse_formula(text, host)
    if len(_SHAPES) >= MAX_SHAPES:
        _SHAPES.clear()
    _SHAPES[key] = (expr, row, col)
    return expr


def _relative(m: re.Match, row: int, col: int) -> str:
    if m.group(2) is None:
        return m.group(0)
    col_abs, letters, row_abs, digits = m.groups()
    c = letters if col_abs else f"C{address.col_number(letters) - col}"
    r = digits if row_abs else f"R{int(digits) - 1 - row}"
    return f"\0{col_abs}{c}{row_abs}{r}\0"


def bare(expr: Expr) -> Expr:
    """The expression without the brackets its text was written with: two formulas that
    differ only there compute alike (the tree, not the text, fixes the order)."""
    while type(expr) is Paren:
        expr = expr.inner
    t = type(expr)
    if t is BinOp:
        return BinOp(expr.op, bare(expr.left), bare(expr.right))  # type: ignore[attr-defined]
    if t is Neg:
        return Neg(bare(expr.operand))  # type: ignore[attr-defined]
    if t is Percent:
        return Percent(bare(expr.operand))  # type: ignore[attr-defined]
    if t is Call:
        return Call(expr.name, *(bare(a) for a in expr.args))  # type: ignore[attr-defined]
    if t is If:
        return If(bare(expr.cond), bare(expr.then), bare(expr.other))  # type: ignore[attr-defined]
    if t is Offset:
        return Offset(expr.base, *(bare(m) for m in expr.moves))  # type: ignore[attr-defined]
    return expr


def _significant(tokens: list[Token]) -> list[Token]:
    """Tokens without white space; a space between two operands is Excel's
    intersection operator, which is refused."""
    out: list[Token] = []
    for k, tok in enumerate(tokens):
        if tok.type != Token.WSPACE:
            out.append(tok)
            continue
        after = tokens[k + 1] if k + 1 < len(tokens) else None
        if out and after is not None and _ends_operand(out[-1]) and _starts_operand(after):
            raise FormulaNotSupported("the intersection operator (a space) is not supported")
    return out


def _ends_operand(tok: Token) -> bool:
    return tok.type == Token.OPERAND or tok.subtype == Token.CLOSE


def _starts_operand(tok: Token) -> bool:
    return tok.type == Token.OPERAND or (
        tok.type in (Token.FUNC, Token.PAREN) and tok.subtype == Token.OPEN
    )


class _Parser:
    """Precedence climbing over the significant tokens."""

    def __init__(self, tokens: list[Token], host: str) -> None:
        self.tokens, self.host, self.pos, self.level = tokens, host, 0, 0

    def deeper(self) -> None:
        """One level further in (a bracket, an operand, a sign): bounded, so a hostile
        formula is refused in one line before Python's recursion limit is near."""
        self.level += 1
        if self.level > MAX_DEPTH:
            raise FormulaNotSupported(_TOO_DEEP)

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise FormulaNotSupported("the formula ends too early")
        self.pos += 1
        return tok

    def expr(self, min_prec: int) -> Expr:
        self.deeper()
        try:
            return self._expr(min_prec)
        finally:
            self.level -= 1

    def _expr(self, min_prec: int) -> Expr:
        left = self.unary()
        while (tok := self.peek()) is not None and tok.type == Token.OP_IN:
            if tok.value not in _INFIX:
                raise FormulaNotSupported(_operator_refusal(tok.value))
            prec = _INFIX[tok.value]
            if prec < min_prec:
                break
            self.pos += 1
            left = BinOp(tok.value, left, self.expr(prec + 1))  # all left-associative
        return left

    def unary(self) -> Expr:
        tok = self.peek()
        if tok is not None and tok.type == Token.OP_PRE:
            self.pos += 1
            self.deeper()
            operand = self.unary()
            self.level -= 1
            return Neg(operand) if tok.value == "-" else operand  # unary + changes nothing
        return self.postfix(self.primary())

    def postfix(self, e: Expr) -> Expr:
        while (tok := self.peek()) is not None and tok.type == Token.OP_POST:
            self.pos += 1
            e = Percent(e)
        return e

    def primary(self) -> Expr:
        tok = self.take()
        if tok.type == Token.OPERAND:
            return self.operand(tok)
        if tok.type == Token.PAREN and tok.subtype == Token.OPEN:
            inner = self.expr(0)
            self.close(Token.PAREN)
            return Paren(inner)
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            return self.call(tok.value[:-1])
        if tok.type == Token.ARRAY:
            raise FormulaNotSupported("array constants {...} are not supported")
        raise FormulaNotSupported(f"unexpected {tok.value!r}")

    def close(self, kind: str) -> None:
        tok = self.take()
        if tok.type != kind or tok.subtype != Token.CLOSE:
            raise FormulaNotSupported(f"expected ')', found {tok.value!r}")

    def call(self, written: str) -> Expr:
        name = written.upper()
        for prefix in _PREFIXES:
            name = name.removeprefix(prefix)
        args: list[Expr] = []
        tok = self.peek()
        if tok is not None and tok.type == Token.FUNC and tok.subtype == Token.CLOSE:
            self.pos += 1
        else:
            while True:
                nxt = self.peek()
                if nxt is not None and (nxt.type == Token.SEP or nxt.subtype == Token.CLOSE):
                    raise FormulaNotSupported(f"an empty argument of {name} is not supported")
                args.append(self.expr(0))
                tok = self.take()
                if tok.type == Token.SEP and tok.subtype == Token.ARG:
                    continue
                if tok.type == Token.FUNC and tok.subtype == Token.CLOSE:
                    break
                raise FormulaNotSupported(f"unexpected {tok.value!r} in {name}(...)")
        return _function(name, args)

    def operand(self, tok: Token) -> Expr:
        text, kind = tok.value, tok.subtype
        if kind == Token.NUMBER:
            try:
                number = float(text)
            except ValueError:
                number = math.inf
            if number - number != 0.0:
                raise FormulaNotSupported(f"not a number Excel can hold: {text[:40]}")
            return Const(number)
        if kind == Token.TEXT:
            return Const(text[1:-1].replace('""', '"'))
        if kind == Token.LOGICAL:
            return Const(text.upper() == "TRUE")
        if kind == Token.ERROR:
            return Const(ExcelError(text.upper()))
        return reference(text, self.host)


def _operator_refusal(op: str) -> str:
    if op == ",":
        return "the union operator (a comma outside a function) is not supported"
    if op == ":":
        return "a range built by ':' from a function's result is not supported"
    return f"the operator {op!r} is not supported"


def _function(name: str, args: list[Expr]) -> Expr:
    if name in VOLATILE:
        raise VolatileFunction(f"{name} is volatile: its value is the moment's", name)
    if name == "IF":
        if not 2 <= len(args) <= 3:
            raise FormulaNotSupported(f"IF takes 2 or 3 arguments, not {len(args)}", name)
        return If(*args)
    if name == "OFFSET":
        return _offset(args)
    if name not in FUNCTIONS:
        raise FormulaNotSupported(f"{name} is not supported", name)
    try:
        return Call(name, *args)
    except ValueError as exc:
        raise FormulaNotSupported(str(exc), name) from None


def _offset(args: list[Expr]) -> Expr:
    if not 3 <= len(args) <= 5 or type(args[0]) not in (Ref, Range):
        raise FormulaNotSupported("OFFSET needs a reference and 2 to 4 numbers", "OFFSET")
    sizes = [a.value for a in args[3:] if type(a) is Const and type(a.value) is float]
    if len(sizes) == 2 and sizes[0] * sizes[1] > MAX_RANGE:
        raise FormulaNotSupported(f"an OFFSET range of {sizes[0] * sizes[1]:,.0f} cells is "
                                  "too large", "OFFSET")  # fmt: skip
    return Offset(args[0], *args[1:])  # type: ignore[arg-type]


def reference(text: str, host: str) -> Expr:
    """A reference operand: 'B3', '$B$3', 'B3:C7', 'data'!B3, 'it''s'!A1:A2."""
    if "[" in text:
        raise FormulaNotSupported(f"the external reference {text[:60]} is not supported")
    sheet, rest = host, text
    if _SHEET.match(text):
        sheet, rest = _split_sheet(text)
    if rest.upper().endswith("#REF!"):
        return Const(REF)
    first, colon, last = rest.partition(":")
    if colon and "!" in last:
        other, last = _split_sheet(last)
        if other != sheet:
            raise FormulaNotSupported(f"the 3-D reference {text[:60]} is not supported")
    if not _CELL.fullmatch(first) or (colon and not _CELL.fullmatch(last)):
        if _WHOLE.fullmatch(rest):
            raise FormulaNotSupported(f"the whole-row or -column reference {text[:60]} "
                                      "is not supported")  # fmt: skip
        raise FormulaNotSupported(f"the defined name {text[:60]} is not supported")
    try:
        a = address.parse(first.upper())
        head = Ref(sheet, a.row, a.col, a.abs_row, a.abs_col)
        if not colon:
            return head
        b = address.parse(last.upper())
    except ValueError:
        raise FormulaNotSupported(f"{text[:60]} lies outside Excel's grid") from None
    rng = Range(head, Ref(sheet, b.row, b.col, b.abs_row, b.abs_col))
    rows, cols = rng.shape
    if rows * cols > MAX_RANGE:
        raise FormulaNotSupported(f"a range of {rows * cols:,} cells ({text[:40]}) is too large")
    return rng


def _split_sheet(text: str) -> tuple[str, str]:
    """'it''s'!A1 -> ("it's", "A1"); data!A1:data!B2 -> ("data", "A1:data!B2")."""
    if text.startswith("'"):
        end = re.match(r"'((?:[^']|'')*)'!", text)
        if end is None:
            raise FormulaNotSupported(f"cannot read the sheet name in {text[:60]}")
        return end.group(1).replace("''", "'"), text[end.end() :]
    sheet, _, rest = text.partition("!")
    if not sheet:
        raise FormulaNotSupported(f"no sheet name in {text[:60]}")
    return sheet, rest
