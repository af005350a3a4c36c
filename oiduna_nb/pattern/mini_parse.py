"""Mini-notation text → a small syntax tree, by Tidal 1.7.10's grammar (``Sound.Tidal.ParseBP``).

The grammar is Tidal's, corners included: numbers swallow the spaces after them (so
``"1 *2"`` is ``"1*2"`` but ``"bd *2"`` is an error), ``~b`` is ``~ b``, ``?`` after a whole
sequence degrades it, ``?1`` is an error (Tidal wants ``?1.0``), ``.`` splits feet, and the
seeds of ``?`` and ``|`` count up in the order Tidal's parser finishes them.

What an atom is depends on the kind of pattern, as the Haskell type does in Tidal:
``word`` (String: ``s``), ``note`` (Note: ``n``, ``note``: note names from c5), ``float``
(Double: ``gain``...), ``int`` (Int: ``every``, euclid arguments), ``time`` (Rational:
``fast``, ``*``, ``%``), ``bool`` (``struct``, ``mask``), and ``auto`` for ``mini()``: numbers
where a number is written, words elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .errors import caret_error
from .mini_tree import Atom, CycleChoose, DegradeBy, Euclid, EnumFromTo, Fast, Polymeter, Seq, Silence, Slow, Stack, Var

KINDS = ("word", "note", "float", "int", "time", "bool", "auto")
EXPECTED = {"word": "a word", "note": "a number or a note name", "float": "a number", "int": "a whole number",
            "time": "a number", "bool": "t, f, 1, 0 or ~", "auto": "a word or a number"}


@dataclass
class _Raw:  # a sequence item before sizes are resolved
    node: object
    weight: Fraction = Fraction(1)
    repeats: int = 1
    foot: bool = False


# ---- the parser -------------------------------------------------------------------------

RATIO_CHARS = {"w": Fraction(1), "h": Fraction(1, 2), "q": Fraction(1, 4), "e": Fraction(1, 8),
               "s": Fraction(1, 16), "t": Fraction(1, 3), "f": Fraction(1, 5), "x": Fraction(1, 6)}
NOTE_LETTERS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
NOTE_MODIFIERS = {"s": 1, "f": -1, "n": 0}
WORD_CHARS = ":.-_"


class _Fail(Exception):
    """A parse alternative failed; ``consumed`` says whether it ate input (then no other is tried)."""

    def __init__(self, pos: int, expected: str, consumed: bool) -> None:
        self.pos, self.expected, self.consumed = pos, expected, consumed


def parse_tree(text: str, kind: str):
    parser = _Parser(text, kind)
    try:
        tree = parser.sequence(parser.term_atom)
        if parser.pos < len(text):
            c = text[parser.pos]
            hint = ""
            if c in "*/!@?(:" and parser.pos > 0 and text[parser.pos - 1].isspace():
                hint = f" (write {c} right after its step, without a space)"
            elif c not in "[]<>{}(),|.*/!@?%_~":
                hint = f" (expected {EXPECTED[kind]})"
            parser.fail(f"unexpected {c!r}{hint}")
    except _Fail as err:
        raise caret_error(f"mini-notation: {err.expected}", text, err.pos + 1) from None
    return tree


class _Parser:
    def __init__(self, text: str, kind: str) -> None:
        self.text = text
        self.kind = kind
        self.pos = 0
        self.seed = 0

    # -- basics --

    def peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.text[i] if i < len(self.text) else ""

    def fail(self, expected: str, consumed: bool = True, pos: int | None = None):
        raise _Fail(self.pos if pos is None else pos, expected, consumed)

    def spaces(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos].isspace():
            self.pos += 1

    def white(self) -> None:
        """Parsec's lexeme whitespace (Haskell's): spaces, ``-- line`` and ``{- nested -}`` comments.

        Tidal's brackets, commas, ``~``, ``.`` and numbers take it after them (``"{-1 2}"`` opens a
        comment there: an error in Tidal, and here); steps and suffixes take plain spaces."""
        text, n = self.text, len(self.text)
        while self.pos < n:
            if text[self.pos].isspace():
                self.pos += 1
            elif text.startswith("--", self.pos):
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end
            elif text.startswith("{-", self.pos):
                depth, i = 0, self.pos
                while True:
                    if text.startswith("{-", i):
                        depth, i = depth + 1, i + 2
                    elif text.startswith("-}", i):
                        depth, i = depth - 1, i + 2
                        if depth == 0:
                            break
                    elif i >= n:
                        self.pos = n
                        self.fail("expected the end of a {- comment -} (Tidal reads {- as one)")
                    else:
                        i += 1
                self.pos = i
            else:
                return

    def symbol(self, s: str) -> bool:
        """Parsec ``symbol``: the string and the spaces after it; False (nothing eaten) if absent."""
        if self.text.startswith(s, self.pos):
            self.pos += len(s)
            self.white()
            return True
        return False

    def expect(self, s: str) -> None:
        if not self.symbol(s):
            self.fail(f"expected {s!r}")

    def new_seed(self) -> int:
        seed = self.seed
        self.seed += 1
        return seed

    def attempt(self, parse):
        """Parsec ``<|>``: run ``parse``; if it fails without eating input, return None."""
        start = self.pos
        try:
            return parse()
        except _Fail as err:
            if err.consumed:
                raise
            self.pos = start
            return None

    def backtrack(self, parse):
        """Parsec ``try``: run ``parse``; on any failure restore and return None."""
        start = self.pos
        try:
            return parse()
        except _Fail:
            self.pos = start
            return None

    # -- sequences --

    def sequence(self, atom):
        """Tidal ``pSequence``: terms with their suffixes, feet split by '.', a trailing '?'."""
        self.spaces()
        raws: list[_Raw] = []
        while True:
            start = self.pos
            node = self.attempt(lambda: self.part(atom))
            if node is None:
                if self.peek() == ".":
                    self.symbol(".")
                    raws.append(_Raw(None, foot=True))
                    continue
                self.pos = start
                break
            self.spaces()
            if self.text.startswith("..", self.pos):
                self.symbol("..")
                last = self.part(atom)
                raws.append(_Raw(EnumFromTo(node, last)))
            elif self.peek() in ("@", "_"):
                raws.append(_Raw(node, weight=self.elongation()))
            elif self.peek() == "!":
                raws.append(_Raw(node, repeats=self.repetition()))
            else:
                raws.append(_Raw(node))
        feet = _split_feet(raws)
        if len(feet) > 1:
            tree = Seq([(Fraction(1), _resolve(foot, self)) for foot in feet])
        else:
            tree = _resolve(raws, self)
        return self.rand(tree)

    def elongation(self) -> Fraction:
        total = Fraction(1)
        while self.peek() in ("@", "_") and self.peek() != "":
            self.pos += 1
            ratio = self.attempt(self.ratio)
            total += (ratio - 1) if ratio is not None else 1
            self.spaces()
        return total

    def repetition(self) -> int:
        total = 1
        while self.peek() == "!":
            self.pos += 1
            digits = self._digits()
            total += int(digits) - 1 if digits else 1
            self.spaces()
        return total

    # -- terms --

    def part(self, atom):
        """Tidal ``pPart``: a single term, [..], {..}, <..> or ^var; then (k,n,r); then '?'."""
        c = self.peek()
        if c == "{" and self.text.startswith("{-", self.pos) and self._atom_reads_integer_first(atom):
            # Tidal tries the atom first, and its integer parser skips Haskell whitespace (comments
            # included) before the digits: a step that starts with "{-" is a comment, then a number
            node = self.mult(self.rand(atom()))
        elif c == "[":
            node = self.poly_in(atom)
        elif c in ("{", "<"):
            node = self.poly_out(atom)
        elif c == "^":
            node = self.var()
        else:
            node = self.mult(self.rand(atom()))
        node = self.euclid(node)
        return self.rand(node)

    def _atom_reads_integer_first(self, atom) -> bool:
        kind = "int" if atom == self.int_atom else "time" if atom == self.time_atom else self.kind
        return kind in ("note", "int")

    def term_atom(self):
        """An atom of this pattern's kind, or '~'."""
        if self.peek() == "~":
            self.symbol("~")
            return Silence()
        return self.atom(self.kind)

    def poly_in(self, atom):
        self.expect("[")
        first = self.sequence(atom)
        if self.symbol(","):
            items = [first] + self._sep_by(lambda: self.sequence(atom), ",")
            node = Stack(items)
        elif self.symbol("|"):
            options = [first] + self._sep_by(lambda: self.sequence(atom), "|")
            node = CycleChoose(self.new_seed(), options)
        else:
            node = first
        self.expect("]")
        return self.mult(node)

    def poly_out(self, atom):
        opening = self.pos
        if self.symbol("{"):
            seqs = self._sep_by(lambda: self.sequence(atom), ",")
            self.expect("}")
            self._check_steps(seqs, opening)
            steps = None
            if self.peek() == "%":
                self.pos += 1
                steps = self.sequence(self.time_atom)
            return self.mult(Polymeter(steps, seqs))
        self.expect("<")
        seqs = self._sep_by(lambda: self.sequence(atom), ",")
        self.expect(">")
        self._check_steps(seqs, opening)
        return self.mult(Polymeter(Atom(Fraction(1)), seqs))

    def _check_steps(self, seqs: list, opening: int) -> None:
        """Tidal divides by each layer's step count here: an empty layer fails when played."""
        for seq in seqs:
            if isinstance(seq, Seq) and sum(w for w, _ in seq.steps) == 0:
                closing = ">" if self.text[opening] == "<" else "}"
                self.fail(f"an empty {self.text[opening]}...{closing} layer has no steps",
                          pos=opening)

    def _sep_by(self, parse, sep: str) -> list:
        items = [parse()]
        while self.symbol(sep):
            items.append(parse())
        return items

    def var(self):
        self.pos += 1
        start = self.pos
        while self.peek() and (self.peek().isalpha() or self.peek() in "0123456789:.-_"):
            self.pos += 1
        return Var(self.text[start:self.pos])

    def mult(self, node):
        c = self.peek()
        if c not in ("*", "/"):
            return node
        self.pos += 1
        self.spaces()
        if self.peek() == "[":
            rate = self.poly_in(self.time_atom)
        elif self.peek() in ("{", "<"):
            rate = self.poly_out(self.time_atom)
        else:
            rate = self.time_atom()
        return Fast(rate, node) if c == "*" else Slow(rate, node)

    def rand(self, node):
        if self.peek() != "?":
            return node
        self.pos += 1
        amount = 0.5
        if self.peek().isdigit():
            amount = self.float_literal()
        self.spaces()
        return DegradeBy(self.new_seed(), amount, node)

    def euclid(self, node):
        if self.peek() != "(":
            return node
        self.symbol("(")
        hits = self.sequence(self.int_atom)
        self.spaces()
        self.expect(",")
        self.spaces()
        steps = self.sequence(self.int_atom)
        rotation = Atom(0)
        if self.symbol(","):
            self.spaces()
            rotation = self.sequence(self.int_atom)
        self.expect(")")
        return Euclid(hits, steps, rotation, node)

    # -- atoms --

    def time_atom(self):
        return self.atom("time")

    def int_atom(self):
        return self.atom("int")

    def atom(self, kind: str):
        """An atom with where it was written (Tidal's ``wrapPos``: from its first character to
        where the parser stopped, the spaces a number swallows included)."""
        start = self.pos
        atom = self._atom(kind)
        atom.position = (self._column_line(start), self._column_line(self.pos))
        return atom

    def _column_line(self, pos: int) -> tuple[int, int]:
        line_start = self.text.rfind("\n", 0, pos) + 1
        return (pos - line_start + 1, self.text.count("\n", 0, pos) + 1)

    def _atom(self, kind: str):
        start = self.pos
        c = self.peek()
        if c == "'":
            self.fail("chords (c'maj) are not supported; write the notes, e.g. \"[c,e,g]\"")
        if kind == "word":
            return Atom(self.word())
        if kind == "bool":
            if c in ("t", "1"):
                self.pos += 1
                return Atom(True)
            if c in ("f", "0"):
                self.pos += 1
                return Atom(False)
            self.fail("expected t, f, 1, 0 or ~", consumed=False)
        if kind == "time":
            return Atom(self.ratio())
        if kind == "auto":
            return self.auto_atom()
        sign = self.sign()
        if kind == "float":
            value = self.attempt(lambda: float(self.ratio()))
            if value is None:
                value = self.attempt(self.note_name)
            if value is None:
                self.fail("expected a number", consumed=self.pos != start)
            return Atom(sign * float(value))
        value = self.attempt(self.int_or_float)
        if value is None:
            value = self.attempt(self.note_name)
        if kind == "note":
            if value is None:
                if self.pos != start:
                    self.fail("expected a number or a note name")
                return Atom(float(self.ratio()))
            return Atom(sign * float(value))
        # int
        if value is None:
            self.fail("expected a whole number", consumed=self.pos != start)
        if value != round(value):
            self.fail(f"expected a whole number, not {value:g}", pos=start)
        return Atom(sign * int(round(value)))

    def auto_atom(self):
        """For ``mini()``: a number where one is written (a float), else a word."""
        start = self.pos
        sign = self.sign()
        if self.peek().isdigit():
            value = self.int_or_float()
            end = len(self.text[:self.pos].rstrip())
            after = self.text[end:end + 1]
            if not (after.isalnum() or after in (":", "-")) or after == "":
                return Atom(sign * float(value))
        self.pos = start
        return Atom(self.word())

    def sign(self) -> int:
        c = self.peek()
        if c == "-":
            self.pos += 1
            return -1
        if c == "+":
            self.pos += 1
        return 1

    def word(self) -> str:
        c = self.peek()
        if not (c.isalpha() or c.isdigit()):
            self.fail("expected a word, a rest ~, or one of [ < {", consumed=False)
        start = self.pos
        self.pos += 1
        while self.peek() and (self.peek().isalpha() or self.peek().isdigit() or self.peek() in WORD_CHARS):
            self.pos += 1
        return self.text[start:self.pos]

    def _digits(self) -> str:
        start = self.pos
        while self.peek().isdigit():
            self.pos += 1
        return self.text[start:self.pos]

    def float_literal(self) -> float:
        """Parsec ``float``: digits, then a fraction and/or an exponent (required); spaces after."""
        start = self.pos
        if not self._digits():
            self.fail("expected a number", consumed=False)
        ok = False
        if self.peek() == "." and self.peek(1).isdigit():
            self.pos += 1
            self._digits()
            ok = True
        if self.peek() in ("e", "E"):
            self.pos += 1
            if self.peek() in ("+", "-"):
                self.pos += 1
            if not self._digits():
                self.fail("expected digits of an exponent", pos=self.pos)
            ok = True
        if not ok:
            self.fail("expected a decimal number such as 0.7", pos=self.pos)
        value = float(self.text[start:self.pos])
        self.white()
        return value

    def natural(self) -> int:
        """Parsec ``natural``: decimal, 0x hex or 0o octal digits; spaces after."""
        if self.peek() == "0" and self.peek(1) in ("x", "X", "o", "O"):
            base = 16 if self.peek(1) in "xX" else 8
            digits = "0123456789abcdefABCDEF"[: 22 if base == 16 else 8]
            self.pos += 2
            start = self.pos
            while self.peek() and self.peek() in digits:
                self.pos += 1
            if start == self.pos:
                self.fail("expected digits")
            value = int(self.text[start:self.pos], base)
        else:
            digits = self._digits()
            if not digits:
                self.fail("expected a number", consumed=False)
            value = int(digits)
        self.white()
        return value

    def integer(self) -> int:
        """Parsec ``integer``: an optional sign (spaces allowed after it), a natural."""
        start = self.pos
        sign = self.sign()
        self.white()
        if not self.peek().isdigit():
            self.fail("expected a number", consumed=self.pos != start)
        return sign * self.natural()

    def int_or_float(self):
        """Tidal ``intOrFloat``: ``try float <|> integer``."""
        value = self.backtrack(self.float_literal)
        return value if value is not None else self.integer()

    def ratio(self) -> Fraction:
        """Tidal ``pRatio``: a number (exact value of the double), ``n%d``, times a ratio letter."""
        start = self.pos
        sign = self.sign()
        number = self.backtrack(self.int_or_float)
        if number is not None:
            value = Fraction(number)
            if self.peek() == "%":
                self.pos += 1
                if number != int(number):
                    self.fail("fractions need int numerator and denominator")
                value = Fraction(int(number), self.integer())
            letter = self.ratio_char()
            if letter is not None:
                value *= letter
        else:
            value = self.ratio_char()
            if value is None:
                self.fail("expected a number", consumed=self.pos != start)
        return sign * value

    def ratio_char(self) -> Fraction | None:
        c = self.peek()
        if c in RATIO_CHARS and not self.peek(1).isalpha():
            self.pos += 1
            return RATIO_CHARS[c]
        return None

    def note_name(self) -> float:
        """Tidal ``parseNote``: c d e f g a b, then s/f/n modifiers, then an octave (default 5)."""
        c = self.peek()
        if c not in NOTE_LETTERS:
            self.fail("expected a number or a note name", consumed=False)
        self.pos += 1
        value = NOTE_LETTERS[c]
        while self.peek() in NOTE_MODIFIERS and self.peek():
            value += NOTE_MODIFIERS[self.peek()]
            self.pos += 1
        octave = 5
        if self.peek().isdigit():
            octave = self.natural()
        return float(value + (octave - 5) * 12)


def _split_feet(raws: list[_Raw]) -> list[list[_Raw]]:
    feet, current = [], []
    for raw in raws:
        if raw.foot:
            feet.append(current)
            current = []
        else:
            current.append(raw)
    if current:
        feet.append(current)
    return feet


def _resolve(raws: list[_Raw], parser: _Parser) -> Seq:
    steps = []
    for raw in raws:
        if raw.foot:  # a '.' that does not split feet (Tidal fails on it when the pattern is used)
            parser.fail("a '.' needs steps on both sides", pos=parser.pos)
        steps.extend([(raw.weight, raw.node)] * raw.repeats)
    return Seq(steps)
