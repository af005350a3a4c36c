"""The differential cases: our Python expression beside the Haskell one Tidal 1.7.10 reads.

Python expressions run with ``from oiduna_nb.pattern import *`` and ``F = Fraction``.
"""

from __future__ import annotations

import json

CASES: list[dict] = []


def case(python: str, haskell: str, cycles: int = 8, id: str | None = None) -> None:
    CASES.append({"id": id or python, "python": python, "haskell": haskell, "cycles": cycles})


# spans as (numerator, denominator) pairs: across cycles, fractional, zero-width
SPANS = [((0, 1), (2, 1)), ((1, 3), (7, 3)), ((1, 2), (3, 2)), ((5, 4), (5, 4)), ((3, 1), (7, 1)), ((7, 8), (9, 8))]


def span_case(python: str, haskell: str) -> None:
    CASES.append({"id": f"{python} @spans", "python": python, "haskell": haskell, "spans": SPANS})


def hs(text: str) -> str:
    return json.dumps(text)


# ---- mini-notation on sound names (Tidal's String patterns through `s`) ----------------------

S_MINI = [
    "bd", "bd sn", "bd ~ sn", "bd*2 sn", "bd sn*3", "[bd sn] cp", "[bd, sn cp]", "[bd, sn cp, hh hh hh]",
    "bd . sn sn . cp", ". bd", "bd _ sn", "bd _ _ sn", "bd@3 sn", "bd@1.5 sn", "bd@0.5 sn", "bd @3 sn",
    "bd!3 sn", "bd ! sn", "bd ! ! sn", "bd!", "bd!0 sn", "bd!1 sn", "<bd sn>", "<bd sn cp>", "<bd [sn sn]>",
    "<[a b]>", "<[a b] c>", "<a b>!2", "<a b>*2", "<a b>/2", "<a b>*3", "bd/2", "a b/2", "a b/3 c",
    "[a b]/3", "a*1.5", "[a b]*2.5", "[a b c]*1.5", "a/1.5", "{a b c}", "{a b c, d e}", "{a b c, d e, f g h i}",
    "{a b c}%4", "{a b c}%<4 8>", "{a b}%1.5", "{a b c}*2", "{a b c d e}%8", "{a b c}%4*1.5", "{a, b c}",
    "a(3,8)", "a(3,8,2)", "a(3,8,-1)", "a(5,8,<0 2>)", "a(<3 5>,8)", "a(3 5,8)", "[a b](3,8)", "a(-3,8)",
    "a(3,0)", "a(9,8)", "a(0,8)", "a(8,8)", "a(5,12)", "a(7,16,3)", "a(<3 5>,8,<0 2>)", "[a b c](3,8)",
    "<a b>(3,8)", "a(3,8)?", "a ( 3 , 8 )", "a(3,<8 16>)", "a(e,8)",
    "a*<2 3>", "a*[2 3]", "a/<2 3>", "a*<2 3 1.5>", "a*[2|3]", "bd*[2 <3 4>]", "bd/1.5", "a*{2 3}%4",
    "a*1%2", "a*0.5", "a*0.1", "a*h", "a*q", "a*0", "a*-1",
    "a?", "a*8?", "a? b?", "a?0.3 b?0.7", "[a b]?", "a b ?", "[a b c d]?0.2", "a*16?0.25", "a?*8",
    "a? b? c? d?", "bd*16?", "a? <b c>?", "[a|b|c]", "[a|b] [c|d]", "[a? | b?]", "[a|b|c]*4", "<[a|b] c>",
    "[a b | c d e]", "[a|b]?", "[a*2|b*3]", "[[a|b] c]!2",
    "a:3", "a:b:c", "bd:3:5", "bd:3.5", "bd:x", "~b", "~ b", "~~ a", "^b a", "a ^b", "0 .. 3", "a .. b",
    "0..3", "<c3@3 sn>", "<a@2 b>", "<a b@3>", "<a _ b>", "<a@1.5 b>", "bd*2 . hh*3", "[a b c]!2 d",
    "a [b c]@2", "bd sn:2 [~ cp]", "<a b , c d e>", "[[a b] [c [d e]]]", "a ~ ~ b", "[~ a]*4",
    "a*2 b*3 c*4", "[a,b,c]*2", "a _ b@2 _", "[a b]!", "a b c d e f g", "~ ~", "~", "", "a [~ b] . c",
    "<a!2 b>", "<a b c>(3,8)", "<a b>@3 c", "[a b]@3 c", "a . b . c d", "bd.sn", "bd-1 sn_2",
    "a b . ", "bd*2?", "<a ~ b>", "<~ a>", "[~ ~ a]", "a ~@3", "{~ a b}", "{a b c}%<2 ~>",
    "a*<2 ~>", "a!3?", "[a b]!2?", "a(3,8) b", "a(3,8,2) b(5,8)", "[a(3,8), b(5,8)]", "{a b}%4 c",
    "a@2!2", "bd?1", "[a b", "a ]", "a(3)", "bd *2", "a <b", "a{b", "a,b", "a | b", "a@",
]
for text in S_MINI:
    case(f"s({text!r})", f"s {hs(text)}")

# ---- mini-notation of numbers and notes (Tidal's Note patterns through `n`, `note`) ------------

N_MINI = [
    "0 1 2", "0 .. 3", "3 .. 0", "0 .. <3 5>", "<0 2> .. 4", "c e g", "e4 a5 c6", "cs ef bf", "c5 c6 c4",
    "-1 -2.5", "0.5 1.5", "1 ~ 2", "[0, 4, 7]", "0*2 1", "<0 3> 5", "0? 1?", "0(3,8)", "0 .. 2.5",
    "1e3", "-3 .. -1", "e", "q", "cs2", "1 .. 1", "0 1 . 2 3 4", "[0|4|7]*4", "0 [1 2]!2 <3 4>", "0*1.5 1",
    "0 1 2 3 4 5 6 7 8 9 10 11",
]
for text in N_MINI:
    case(f"n({text!r})", f"n {hs(text)}")
case("note('e4 a c6')", 'note "e4 a c6"')
case("note('0 .. 4')", 'note "0 .. 4"')

# ---- other param types: Double (gain, speed, ...) and Int (orbit) ----------------------------

case("gain('1 0.5')", 'gain "1 0.5"')
case("gain('e q')", 'gain "e q"')
case("speed('1%4 0.5')", 'speed "1%4 0.5"')
case("speed('0.25 .. 2')", 'speed "0.25 .. 2"')
case("speed('<1 0.8>*4')", 'speed "<1 0.8>*4"')
case("speed('1 -1 c e')", 'speed "1 -1 c e"')
case("pan('0 1')", 'pan "0 1"')
case("cutoff('<500 2000>')", 'cutoff "<500 2000>"')
case("room('0.3')", 'room "0.3"')
case("legato('0.5 1')", 'legato "0.5 1"')
case("orbit('0 1')", 'orbit "0 1"')
case("orbit('e')", 'orbit "e"')
case("orbit('1.0 2')", 'orbit "1.0 2"')
case("orbit('1.5')", 'orbit "1.5"')
case("s('a b') .speed(2)", 's "a b" # speed 2')

# ---- bare patterns: mini() ---------------------------------------------------------------------

for text in ["a b c", "a <b c>", "a*2 [b c]", "a b?", "[a|b] c"]:
    case(f"mini({text!r})", f"({hs(text)} :: Pattern String)")
for text in ["1 2.5 -3", "1 .. 4", "0 [1 2]*2", "<1 2> 3"]:
    case(f"mini({text!r})", f"({hs(text)} :: Pattern Double)")

# ---- signals and randomness --------------------------------------------------------------------

SIGNALS = {"sine": "sine", "saw": "saw", "tri": "tri", "square": "square", "rand": "rand", "perlin": "perlin"}
for name in SIGNALS:
    case(f"{name}.segment(4)", f"(segment 4 {name} :: Pattern Double)")
    case(f"{name}.segment(3).fast(1.5)", f"(fast 1.5 $ segment 3 {name} :: Pattern Double)")
case("sine.segment('<4 8>')", '(segment "<4 8>" sine :: Pattern Double)')
case("tri.segment(8)", "(segment 8 tri :: Pattern Double)")
case("perlin.slow(4).segment(8)", "(segment 8 $ slow 4 perlin :: Pattern Double)", cycles=16)
case("rand.segment(16)", "(segment 16 rand :: Pattern Double)")
case("irand(8).segment(4)", "(segment 4 $ irand 8 :: Pattern Double)")
case("irand('<4 16>').segment(4)", '(segment 4 $ irand "<4 16>" :: Pattern Double)')
case("saw.range(1, 5).segment(4)", "(segment 4 $ range 1 5 saw :: Pattern Double)")
case("sine.range('<1 2>', 5).segment(4)", '(segment 4 $ range "<1 2>" 5 sine :: Pattern Double)')
case("n(sine.range(0, 12).segment(8))", "n (segment 8 $ range 0 12 sine)")
case("s('hh*8').gain(sine)", 's "hh*8" # gain sine')
case("s('hh*8').pan(saw.range(0.2, 0.8))", 's "hh*8" # pan (range 0.2 0.8 saw)')
case("s('hh*4').speed(rand)", 's "hh*4" # speed rand')
case("s('hh*4').n(irand(8))", 's "hh*4" # n (irand 8)')
case("s('bd*8').gain(perlin)", 's "bd*8" # gain perlin', cycles=4)
for text in ["0.5", "0.2", "0.8", "'0.2 0.8'", "'<0.1 0.9>'"]:
    hs_arg = text if not text.startswith("'") else hs(text.strip("'"))
    case(f"s('bd*8').degrade_by({text})", f'degradeBy {hs_arg} $ s "bd*8"')
case("s('bd*8 sn*8').degrade()", 'degrade $ s "bd*8 sn*8"')
case("s('hh*16').undegrade_by(0.3)", 'unDegradeBy 0.3 $ s "hh*16"')
case("s('bd*8').sometimes_by(0.3, lambda p: p.speed(2))", 'sometimesBy 0.3 (# speed 2) $ s "bd*8"')
case("s('bd*8').sometimes_by('<0.2 0.8>', lambda p: p.speed(2))", 'sometimesBy "<0.2 0.8>" (# speed 2) $ s "bd*8"')
case("s('bd*8').sometimes(lambda p: p.fast(2))", 'sometimes (fast 2) $ s "bd*8"')
case("s('bd*8').sometimes(lambda p: p.n(3))", 'sometimes (# n 3) $ s "bd*8"')
case("s('bd*4').degrade_by(0.5).late(0.125)", '0.125 ~> (degradeBy 0.5 $ s "bd*4")')

# ---- time ---------------------------------------------------------------------------------------

P, PH = "s('a b c d')", 's "a b c d"'
case(f"{P}.fast(2)", f"fast 2 $ {PH}")
case(f"{P}.fast(1.5)", f"fast 1.5 $ {PH}")
case(f"{P}.fast('<1 2>')", f'fast "<1 2>" $ {PH}')
case(f"{P}.fast('1 2')", f'fast "1 2" $ {PH}')
case(f"{P}.fast(mini('<1 [2 4]>'))", f'fast "<1 [2 4]>" $ {PH}')
case(f"{P}.fast(0)", f"fast 0 $ {PH}")
case(f"{P}.fast(-1)", f"fast (-1) $ {PH}")
case(f"{P}.slow(2)", f"slow 2 $ {PH}")
case(f"{P}.slow(1.5)", f"slow 1.5 $ {PH}")
case(f"{P}.slow('<2 3>')", f'slow "<2 3>" $ {PH}')
case(f"{P}.hurry(2)", f"hurry 2 $ {PH}")
case(f"{P}.hurry('<1 2>')", f'hurry "<1 2>" $ {PH}')
case(f"{P}.speed(1.5).hurry(2)", f"hurry 2 $ {PH} # speed 1.5")
case(f"{P}.early(0.25)", f"0.25 <~ {PH}")
case(f"{P}.early('<0 0.25>')", f'"<0 0.25>" <~ {PH}')
case(f"{P}.late(0.25)", f"0.25 ~> {PH}")
case(f"{P}.late('0 0.25')", f'"0 0.25" ~> {PH}')
case(f"{P}.late(F(1, 3))", f"(1/3) ~> {PH}")
case(f"{P}.late('1%3')", f'"1%3" ~> {PH}')
case(f"{P}.late(0.1)", f"0.1 ~> {PH}")
case(f"{P}.rev()", f"rev $ {PH}")
case("s('<a b> c [d e]').rev()", 'rev $ s "<a b> c [d e]"')
case("s('a b@3').slow(2).rev()", 'rev $ slow 2 $ s "a b@3"')
case(f"{P}.palindrome()", f"palindrome $ {PH}")
case("s('<a b> c').palindrome()", 'palindrome $ s "<a b> c"')
case(f"{P}.iter(4)", f"iter 4 $ {PH}")
case(f"{P}.iter('<2 4>')", f'iter "<2 4>" $ {PH}')
case("s('<a b> c').iter(2)", 'iter 2 $ s "<a b> c"')
case(f"{P}.ply(2)", f"ply 2 $ {PH}")
case(f"{P}.ply('<2 3>')", f'ply "<2 3>" $ {PH}')
case(f"{P}.ply('2 3')", f'ply "2 3" $ {PH}')
case(f"{P}.ply(1.5)", f"ply 1.5 $ {PH}")
case(f"{P}.linger(0.25)", f"linger 0.25 $ {PH}")
case(f"{P}.linger('<0.25 0.5>')", f'linger "<0.25 0.5>" $ {PH}')
case(f"{P}.linger(-0.25)", f"linger (-0.25) $ {PH}")
case("n('0 1 2 3 4 5 6 7').linger(0.375)", 'linger 0.375 $ n "0 1 2 3 4 5 6 7"')
case("s('<a b c>').linger(0.5)", 'linger 0.5 $ s "<a b c>"')
case(f"{P}.segment(2)", f"segment 2 $ {PH}")
case("n('0 1').segment(3)", 'segment 3 $ n "0 1"')
case(f"{P}.brak()", f"brak $ {PH}")
case(f"{P}.inside(2, lambda p: p.rev())", f"inside 2 rev $ {PH}")
case(f"{P}.outside(2, lambda p: p.rev())", f"outside 2 rev $ {PH}")
case("s('<a b> c').outside(2, lambda p: p.rev())", 'outside 2 rev $ s "<a b> c"')
case(f"{P}.inside('<2 4>', lambda p: p.rev())", f'inside "<2 4>" rev $ {PH}')
case("s('hh*8').swing_by(F(1, 3), 4)", 'swingBy (1/3) 4 $ s "hh*8"')
case("s('hh*8').swing_by('<0 0.1>', 4)", 'swingBy "<0 0.1>" 4 $ s "hh*8"')
case("s('hh*8').swing_by(0.1, '<2 4>')", 'swingBy 0.1 "<2 4>" $ s "hh*8"')

# ---- conditions and parts ----------------------------------------------------------------------

case(f"{P}.every(3, lambda p: p.fast(2))", f"every 3 (fast 2) $ {PH}")
case(f"{P}.every('<2 3>', lambda p: p.rev())", f'every "<2 3>" rev $ {PH}', cycles=12)
case(f"{P}.every(0, lambda p: p.rev())", f"every 0 rev $ {PH}")
case(f"{P}.every(7, lambda p: p.rev())", f"every 7 rev $ {PH}", cycles=15)
case(f"{P}.every('2 3', lambda p: p.rev())", f'every "2 3" rev $ {PH}')
case(f"{P}.every(2, lambda p: p.late(0.25))", f"every 2 (0.25 ~>) $ {PH}")
case(f"{P}.whenmod(4, 2, lambda p: p.rev())", f"whenmod 4 2 rev $ {PH}")
case(f"{P}.whenmod(8, 6, lambda p: p.fast(2))", f"whenmod 8 6 (fast 2) $ {PH}", cycles=16)
case(f"{P}.whenmod('<4 2>', 1, lambda p: p.rev())", f'whenmod "<4 2>" 1 rev $ {PH}')
case(f"{P}.chunk(4, lambda p: p.hurry(2))", f"chunk 4 (hurry 2) $ {PH}")
case(f"{P}.chunk(4, lambda p: p.speed(2))", f"chunk 4 (# speed 2) $ {PH}")
case(f"{P}.chunk('<2 4>', lambda p: p.speed(2))", f'chunk "<2 4>" (# speed 2) $ {PH}')
case("s('<a b> c d e').chunk(4, lambda p: p.fast(2))", 'chunk 4 (fast 2) $ s "<a b> c d e"')
case(f"{P}.within((0, 0.5), lambda p: p.fast(2))", f"within (0, 0.5) (fast 2) $ {PH}")
case(f"{P}.superimpose(lambda p: p.fast(2))", f"superimpose (fast 2) $ {PH}")
case(f"{P}.superimpose(lambda p: p.speed(2).late(0.125))", f"superimpose ((0.125 ~>) . (# speed 2)) $ {PH}")
case(f"{P}.off(0.25, lambda p: p.speed(2))", f"off 0.25 (# speed 2) $ {PH}")
case("n('0 3 7').off(0.125, lambda p: p.add(n(12)))", 'off 0.125 (|+ n 12) $ n "0 3 7"')
case("n('0 3').off('<0.25 0.125>', lambda p: p.add(n(12)))", 'off "<0.25 0.125>" (|+ n 12) $ n "0 3"')
case("s('a b').slow(2).off(0.25, lambda p: p.speed(2))", 'off 0.25 (# speed 2) $ slow 2 $ s "a b"')

# ---- structure ----------------------------------------------------------------------------------

case(f"{P}.jux(lambda p: p.rev())", f"jux rev $ {PH}")
case(f"{P}.pan(0.3).jux(lambda p: p.fast(2))", f"jux (fast 2) $ {PH} # pan 0.3")
case("s('a').struct('t f t t')", 'struct "t f t t" $ s "a"')
case("s('a').struct('t(3,8)')", 'struct "t(3,8)" $ s "a"')
case("s('a').struct('t(3,8,2)')", 'struct "t(3,8,2)" $ s "a"')
case("s('a').struct('1 0 1 1')", 'struct "1 0 1 1" $ s "a"')
case("s('a').struct('t*2 [t f] <t f>')", 'struct "t*2 [t f] <t f>" $ s "a"')
case("s('a').struct('t ~ t t')", 'struct "t ~ t t" $ s "a"')
case("s('<a b>').struct('t? t t? t')", 'struct "t? t t? t" $ s "<a b>"')
case("n('0 1 2').struct('t*4')", 'struct "t*4" $ n "0 1 2"')
case("s('a').struct('tf t')", 'struct "tf t" $ s "a"')
case("s('a b c d').mask('1 0 1 1')", 'mask "1 0 1 1" $ s "a b c d"')
case("s('a b c d').mask('t f')", 'mask "t f" $ s "a b c d"')
case("s('a*8').mask('<t f> t*3')", 'mask "<t f> t*3" $ s "a*8"')
case("s('a').slow(2).mask('t f t f')", 'mask "t f t f" $ slow 2 $ s "a"')
case("s('a').euclid(3, 8)", 'euclid 3 8 $ s "a"')
case("s('a').euclid('<3 5>', 8)", 'euclid "<3 5>" 8 $ s "a"')
case("s('a b').euclid(3, 8)", 'euclid 3 8 $ s "a b"')
case("s('a').euclid(3, '8 16')", 'euclid 3 "8 16" $ s "a"')
case("s('a').euclid_rot(3, 8, 2)", 'euclidOff 3 8 2 $ s "a"')
case("s('a').euclid_rot('<3 5>', 8, '<0 2>')", 'euclidOff "<3 5>" 8 "<0 2>" $ s "a"')
case("s('a').euclid(-3, 8)", 'euclid (-3) 8 $ s "a"')
case("s('a b c d').rot(1)", 'rot 1 $ s "a b c d"')
case("s('a b c d').rot('<1 2>')", 'rot "<1 2>" $ s "a b c d"')
case("s('a b c d').rot(-1)", 'rot (-1) $ s "a b c d"')
case("s('a ~ b c').rot(1)", 'rot 1 $ s "a ~ b c"')
case("n('0 1 2').rot(5)", 'rot 5 $ n "0 1 2"')
case("n('0 1 2').rot(-5)", 'rot (-5) $ n "0 1 2"')

# ---- params and arithmetic -------------------------------------------------------------------------

case(f"{P}.speed(2)", f"{PH} # speed 2")
case(f"{P}.gain('1 0.8')", f'{PH} # gain "1 0.8"')
case(f"{P}.pan(sine)", f"{PH} # pan sine")
case(f"{P}.pan('0 1')", f'{PH} # pan "0 1"')
case(f"{P}.cutoff('<500 2000>')", f'{PH} # cutoff "<500 2000>"')
case(f"{P}.room(0.3).orbit(1).legato(0.5)", f"{PH} # room 0.3 # orbit 1 # legato 0.5")
case(f"{P}.n('1 2')", f'{PH} # n "1 2"')
case(f"{P}.note('c e g')", f'{PH} # note "c e g"')
case("s('a:3 b').n(5)", 's "a:3 b" # n 5')
case("n('0 .. 3').s('superpiano')", 'n "0 .. 3" # s "superpiano"')
case("s('a').n('0 1 2')", 's "a" # n "0 1 2"')
case("n('0 2').add(n(12))", 'n "0 2" |+ n 12')
case("n('0 2').add(n('<12 7>'))", 'n "0 2" |+ n "<12 7>"')
case("n('0 2 4').add(n('0 12'))", 'n "0 2 4" |+ n "0 12"')
case("n('0 2').sub(n(1))", 'n "0 2" |- n 1')
case("n('0 2').add(speed(2))", 'n "0 2" |+ speed 2')
case("s('a b').speed(1.5).mul(speed(2))", 's "a b" # speed 1.5 |* speed 2')
case("s('a b').gain('1 0.5').mul(gain(0.8))", 's "a b" # gain "1 0.5" |* gain 0.8')
case("s('a').add(s('b'))", 's "a" |+ s "b"')
case("s('a:1').add(n(2))", 's "a:1" |+ n 2')
case("mini('1 2').add(10)", '("1 2" :: Pattern Double) |+ 10')
case("mini('1 2').mul('2 3 4')", '("1 2" :: Pattern Double) |* "2 3 4"')
case("mini('1 2').sub(0.5)", '("1 2" :: Pattern Double) |- 0.5')

# ---- control functions ---------------------------------------------------------------------------------

case(f"{P}.stut(3, 0.5, 0.125)", f"stut 3 0.5 0.125 $ {PH}")
case(f"{P}.stut('<3 2>', 0.5, 0.125)", f'stut "<3 2>" 0.5 0.125 $ {PH}')
case(f"{P}.gain(0.9).stut(4, 0.25, F(1, 3))", f"stut 4 0.25 (1/3) $ {PH} # gain 0.9")
case(f"{P}.echo_with(3, F(1, 8), lambda p: p.speed(2))", f"stutWith 3 (1/8) (# speed 2) $ {PH}")
case("n('0 4').echo_with(3, 0.25, lambda p: p.add(n(12)))", 'stutWith 3 0.25 (|+ n 12) $ n "0 4"')
case("n('0 4').echo_with('<2 3>', 0.25, lambda p: p.add(n(12)))", 'stutWith "<2 3>" 0.25 (|+ n 12) $ n "0 4"')
case(f"{P}.echo(3, 0.2, 0.8)", f"stutWith 3 0.2 (|* gain 0.8) $ {PH}")
case(f"{P}.chop(2)", f"chop 2 $ {PH}")
case(f"{P}.chop('<2 4>')", f'chop "<2 4>" $ {PH}')
case("s('a b').slow(2).chop(3)", 'chop 3 $ slow 2 $ s "a b"')
case("s('a b').chop(2).chop(2)", 'chop 2 $ chop 2 $ s "a b"')
case(f"{P}.striate(2)", f"striate 2 $ {PH}")
case(f"{P}.striate('<2 3>')", f'striate "<2 3>" $ {PH}')
case("s('a b').striate(2).striate(2)", 'striate 2 $ striate 2 $ s "a b"')

# ---- constructors ---------------------------------------------------------------------------------------

case("stack(s('a b'), s('c d e'))", 'stack [s "a b", s "c d e"]')
case("cat(s('a b'), s('c'), s('<d e>'))", 'cat [s "a b", s "c", s "<d e>"]')
case("slowcat(s('<a b c>'), s('d'))", 'slowcat [s "<a b c>", s "d"]')
case("fastcat(s('a'), s('b c'))", 'fastcat [s "a", s "b c"]')
case("fastcat(s('<a b>'), s('c'))", 'fastcat [s "<a b>", s "c"]')
case("cat(s('a').slow(2), s('b'))", 'cat [slow 2 $ s "a", s "b"]')
case("stack(s('a*2'), n('0 1 2').s('b'))", 'stack [s "a*2", n "0 1 2" # s "b"]')

# ---- chains, as a live coder writes them --------------------------------------------------------------

case("n('0 3 7').off(0.25, lambda p: p.add(n(12))).every(2, lambda p: p.fast(2))",
     'every 2 (fast 2) $ off 0.25 (|+ n 12) $ n "0 3 7"')
case("s('a b').chop(2).jux(lambda p: p.rev())", 'jux rev $ chop 2 $ s "a b"')
case("s('bd*8').sometimes_by(0.3, lambda p: p.jux(lambda q: q.rev()))", 'sometimesBy 0.3 (jux rev) $ s "bd*8"')
case("s('hh*4').fast(2).degrade_by(0.3)", 'degradeBy 0.3 $ fast 2 $ s "hh*4"')
case("s('bd(3,8) sn').every(3, lambda p: p.late(0.25)).speed('<1 2>')",
     'every 3 (0.25 ~>) (s "bd(3,8) sn") # speed "<1 2>"')
case("n('0 .. 7').iter(4).s('superpiano').legato(0.5)", 'iter 4 (n "0 .. 7") # s "superpiano" # legato 0.5')
case("s('bd*2 [~ sn]').whenmod(4, 3, lambda p: p.stut(3, 0.5, 0.125))",
     'whenmod 4 3 (stut 3 0.5 0.125) $ s "bd*2 [~ sn]"')
case("s('a b c').palindrome().ply(2).gain(0.9)", 'palindrome (ply 2 $ s "a b c") # gain 0.9')
case("s('a b c d').chunk(4, lambda p: p.rev()).slow(2)", 'slow 2 $ chunk 4 rev $ s "a b c d"')
case("s('drum*4').n(irand(8)).degrade()", 'degrade $ s "drum*4" # n (irand 8)')
case("s('[a b]*2 c').rev().fast('<1 2>').late(0.125)", '0.125 ~> (fast "<1 2>" $ rev $ s "[a b]*2 c")')
case("s('hh*8').gain(sine.range(0.5, 1)).swing_by(0.05, 4)", 'swingBy 0.05 4 $ s "hh*8" # gain (range 0.5 1 sine)')
case("s('bd*2 sn').jux(lambda p: p.hurry(2)).every(4, lambda p: p.brak())",
     'every 4 brak $ jux (hurry 2) $ s "bd*2 sn"')
case("s('a b c d').linger('<0.25 0.5>').struct('t(5,8)')", 'struct "t(5,8)" $ linger "<0.25 0.5>" $ s "a b c d"')
case("s('arpy*4').chop(2).striate(2).speed('1 2')", 'striate 2 (chop 2 $ s "arpy*4") # speed "1 2"')
case("n('<0 3> 7').add(n('<12 0 5>')).segment(4)", 'segment 4 $ n "<0 3> 7" |+ n "<12 0 5>"')
case("n('c a f e').note('0').euclid_rot(3, 8, 1).room(0.2)", 'euclidOff 3 8 1 (n "c a f e" # note "0") # room 0.2')
case("s('a').euclid(3, 8).rot(1).n('0 1 2')", 'rot 1 (euclid 3 8 $ s "a") # n "0 1 2"')
case("s('a b').off(0.125, lambda p: p.off(0.25, lambda q: q.speed(2)))", 'off 0.125 (off 0.25 (# speed 2)) $ s "a b"')
case("s('a*4').every(2, lambda p: p.sometimes(lambda q: q.speed(2)))", 'every 2 (sometimes (# speed 2)) $ s "a*4"')
case("s('a b').inside(2, lambda p: p.every(2, lambda q: q.fast(2)))", 'inside 2 (every 2 (fast 2)) $ s "a b"')
case("s('a b c').echo(3, 0.125, 0.5).mask('t f t t')", 'mask "t f t t" $ stutWith 3 0.125 (|* gain 0.5) $ s "a b c"')
case("s('<a b>*2 c').segment(8).degrade_by('0.1 0.9')", 'degradeBy "0.1 0.9" $ segment 8 $ s "<a b>*2 c"')

# ---- more mini-notation corners -------------------------------------------------------------------

MORE_S_MINI = [
    "bd*2 . sn*3 . [hh hh]", "[bd sn]*<2 3>", "<bd*2 sn>/2", "<a b c>/1.5", "{a b c}/2", "{a b c}%4/2",
    "a? [b c]?0.2", "[a b](<3 5>,8,<0 1>)", "[a|b](3,8)", "<a b>? c", "a [b|c|d] e?", "[a? b?]*2",
    "[a . b c]", "[a, b . c]", "a!2 . b", "a@2 . b", "<a . b c>", "<a b . c>", "{a . b c}", "~ a@2",
    "a ~!2 b", "a*2!2", "[a b]*2!2", "a(3,8)!2", "a(3,8)@2 b", "<a(3,8) b>", "a(<3 5 2>,<8 16>)",
    "a([3 5],8)", "a(3,8,[0 2])", "a*<2 [3 4]>", "a*2.5", "a/0.5", "a*<0.5 1.5>", "[a b c]/<1 2 3>",
    "<a b>!3", "<a b>@2 c", "<[a a] b>", "<a <b c>>", "<a [b <c d>]>", "<<a b> <c d e>>", "{a b}%<3 5>",
    "{<a b> c d}", "{a b c}%[2 4]", "[a b c d]?0.9", "a?0.0", "a*4?0.5", "[a*4]?", "a??", "bd:3?",
    "bd:3*2", "bd:3(3,8)", "a:1 a:2 a:3", "superpiano:0.5", "x:-1", "a-b c_d", "a.b c", "808:3 909",
    "1 2 3", "1.5 2", "a1 b2", "-1 a", "[[[a]]]", "[a [b [c [d]]]]", "[]", "a [] b", "<>", "{}",
    "a _ _ _ b _", "_ a", "a __", "a@3@2", "a!!", "a ! b !", "a . . b", "a b ? c", "a*[2 3]?",
    "<a b>*[1 2]", "a? b?0.5 [c? d?]", "<a | b>", "[a | b , c]", "[a , b | c]", "[a|b|c|d|e]*8",
    "<[a|b] [c|d]>*2", "[a? | b? | c?]*4", "a*3?0.3 b*3?0.6", "{a b c}%4?", "<a b>(<3 5>,8)?",
    "bd(3,8,<0 1 2>) sn(5,8)", "[bd(3,8), hh*8?]", "[bd sn]!3 cp", "a b . c d e . f", "a@1.5 b@2.5",
    "a _ . b", "<a!3 b@2>", "{a@2 b c}", "{a b!2 c}%5", "a*1%3", "a*3%2", "a/3%2", "a*w", "a*e b",
]
for text in MORE_S_MINI:
    case(f"s({text!r})", f"s {hs(text)}")

MORE_N_MINI = [
    "c e g . a", "0 .. 7", "7 .. 0", "0 .. 3 5", "<0 .. 3>", "[0 .. 3]*2", "0 .. 3?", "c4 .. e4",
    "0.5 .. 3", "0 .. -3", "-3 .. 3", "cs4 df ff", "bn", "as5", "0x10", "1e2", "2.5e-1", "+3", "1%2",
    "0 [1 .. 3]", "<0 2> .. <4 8>", "e3 e4 e5 e6", "c0 c9", "0(<3 5>,8,2)", "[0, 3, 7](3,8)",
    "<[0, 4] [2, 5]>", "0 ~ . 2 ~ ~", "0? 1? 2? 3?", "[0|1|2]*4", "0 .. 3 . 4",
]
for text in MORE_N_MINI:
    case(f"n({text!r})", f"n {hs(text)}")

case("gain('1 .. 3')", 'gain "1 .. 3"')
case("speed('1.5 .. 3.5')", 'speed "1.5 .. 3.5"')
case("speed('-1 .. 1')", 'speed "-1 .. 1"')
case("pan('0 0.25 .. 1')", 'pan "0 0.25 .. 1"')
case("speed('q h w')", 'speed "q h w"')
case("speed('1 ~ -1')", 'speed "1 ~ -1"')
case("cutoff('1e3 2e3')", 'cutoff "1e3 2e3"')
case("speed('1%3 2%3')", 'speed "1%3 2%3"')
case("gain('<1 0.8>(3,8)')", 'gain "<1 0.8>(3,8)"')
case("orbit('0 .. 3')", 'orbit "0 .. 3"')
case("orbit('3 .. 0')", 'orbit "3 .. 0"')
case("orbit('<0 1>(3,8)')", 'orbit "<0 1>(3,8)"')
for text in ["t . f t", "t(<3 5>,8)", "1(3,8,2)", "t*3 f", "[t f]!2", "t _ f", "{t f t}%4", "t(3,8)?",
             "<t f>*4", "t [f t]?", "t(3,8,<0 2>)", "f(3,8)"]:
    case(f"s('a b').struct({text!r})", f'struct {hs(text)} $ s "a b"')
    case(f"s('a b c').mask({text!r})", f'mask {hs(text)} $ s "a b c"')

# ---- more patterned arguments ---------------------------------------------------------------------

case(f"{P}.every('<2 3 4>', lambda p: p.fast(2))", f'every "<2 3 4>" (fast 2) $ {PH}', cycles=16)
case(f"{P}.every(7, lambda p: p.speed(2))", f"every 7 (# speed 2) $ {PH}", cycles=16)
case(f"{P}.iter('<4 2 3>')", f'iter "<4 2 3>" $ {PH}', cycles=12)
case(f"{P}.ply('2 <3 4>')", f'ply "2 <3 4>" $ {PH}')
case(f"{P}.linger('<0.25 0.5 -0.25>')", f'linger "<0.25 0.5 -0.25>" $ {PH}')
case("sine.segment('4 8')", '(segment "4 8" sine :: Pattern Double)')
case("saw.range('0 <1 2>', 10).segment(4)", '(segment 4 $ range "0 <1 2>" 10 saw :: Pattern Double)')
case(f"{P}.chunk('<4 2>', lambda p: p.rev())", f'chunk "<4 2>" rev $ {PH}')
case("n('0 3').off('0.125 0.25', lambda p: p.add(n(12)))", 'off "0.125 0.25" (|+ n 12) $ n "0 3"')
case("s('a').euclid('<3 5 7>', '<8 16>')", 'euclid "<3 5 7>" "<8 16>" $ s "a"')
case("s('a').euclid_rot(3, 8, '<0 1 2 3>')", 'euclidOff 3 8 "<0 1 2 3>" $ s "a"')
case("s('a b c d').rot('1 2')", 'rot "1 2" $ s "a b c d"')
case("s('a*8').sometimes_by('0.1 0.9', lambda p: p.speed(2))", 'sometimesBy "0.1 0.9" (# speed 2) $ s "a*8"')
case(f"{P}.stut(3, '<0.5 0.8>', '<0.125 0.25>')", f'stut 3 "<0.5 0.8>" "<0.125 0.25>" $ {PH}')
case(f"{P}.echo_with(3, '<0.125 0.25>', lambda p: p.speed(2))", f'stutWith 3 "<0.125 0.25>" (# speed 2) $ {PH}')
case(f"{P}.chop('<1 2 3>')", f'chop "<1 2 3>" $ {PH}')
case(f"{P}.striate('2 4')", f'striate "2 4" $ {PH}')
case(f"{P}.hurry('1 2')", f'hurry "1 2" $ {PH}')
case(f"{P}.fast('1.5 <2 0.5>')", f'fast "1.5 <2 0.5>" $ {PH}')
case(f"{P}.slow('0.5 1')", f'slow "0.5 1" $ {PH}')
case(f"{P}.early('<0 0.25 0.5>')", f'"<0 0.25 0.5>" <~ {PH}')
case("s('hh*8').swing_by('<0 0.125>', '<4 8>')", 'swingBy "<0 0.125>" "<4 8>" $ s "hh*8"')
case(f"{P}.inside('<2 3>', lambda p: p.iter(4))", f'inside "<2 3>" (iter 4) $ {PH}')
case(f"{P}.outside('2 <1 4>', lambda p: p.rev())", f'outside "2 <1 4>" rev $ {PH}')
case(f"{P}.whenmod(8, '<4 6>', lambda p: p.fast(2))", f'whenmod 8 "<4 6>" (fast 2) $ {PH}', cycles=16)
case("irand('<2 4 8>').segment(8)", '(segment 8 $ irand "<2 4 8>" :: Pattern Double)')
case("perlin.fast(2).segment(4)", "(segment 4 $ fast 2 perlin :: Pattern Double)")
case("perlin.range(1, 5).segment(4)", "(segment 4 $ range 1 5 perlin :: Pattern Double)")
case("rand.range(1, 5).segment(8)", "(segment 8 $ range 1 5 rand :: Pattern Double)")
case("rand.late(0.5).segment(4)", "(segment 4 $ 0.5 ~> rand :: Pattern Double)")
case("rand.fast(3).segment(4)", "(segment 4 $ fast 3 rand :: Pattern Double)")
case("sine.late(0.25).segment(4)", "(segment 4 $ 0.25 ~> sine :: Pattern Double)")
case("square.segment(3)", "(segment 3 square :: Pattern Double)")
case("tri.fast(2).segment(8)", "(segment 8 $ fast 2 tri :: Pattern Double)")
case("saw.slow(2).segment(4)", "(segment 4 $ slow 2 saw :: Pattern Double)", cycles=4)
case("s('a*4').pan(rand.range(0.25, 0.75))", 's "a*4" # pan (range 0.25 0.75 rand)')
case("s('bd*8?').degrade_by(0.3)", 'degradeBy 0.3 $ s "bd*8?"')
case("s('a b').slow(3).sometimes_by(0.5, lambda p: p.speed(2))", 'sometimesBy 0.5 (# speed 2) $ slow 3 $ s "a b"')
case("s('a*16').degrade_by(sine)", 'degradeBy sine $ s "a*16"')
case("n('0*8').add(n(irand(8)))", 'n "0*8" |+ n (irand 8)')
case("s('a*8').speed(perlin.range(1, 2))", 's "a*8" # speed (range 1 2 perlin)')
case("s('a b').jux(lambda p: p.degrade())", 'jux degrade $ s "a b"')
case("s('a? b? c? d?').jux(lambda p: p.rev())", 'jux rev $ s "a? b? c? d?"')
case("s('<a b>(3,8)').chop(2).sometimes(lambda p: p.speed(2))", 'sometimes (# speed 2) $ chop 2 $ s "<a b>(3,8)"')
case("s('a b').early(F(1, 3)).rev().ply(2)", 'ply 2 $ rev $ (1/3) <~ s "a b"')
case("s('a b c').iter(3).palindrome()", 'palindrome $ iter 3 $ s "a b c"', cycles=12)
case("s('a b').linger(0.25).fast(2).striate(2)", 'striate 2 $ fast 2 $ linger 0.25 $ s "a b"')
case("n('0 .. 3').segment(2).add(n('<0 12>'))", 'segment 2 (n "0 .. 3") |+ n "<0 12>"')
case("s('a').euclid(3, 8).swing_by(0.1, 2)", 'swingBy 0.1 2 $ euclid 3 8 $ s "a"')
case("stack(s('a*2'), s('b*3')).every(2, lambda p: p.rev()).rot(1)", 'rot 1 $ every 2 rev $ stack [s "a*2", s "b*3"]')
case("cat(s('a b'), s('c d e').fast(2)).brak()", 'brak $ cat [s "a b", fast 2 $ s "c d e"]')
case("fastcat(s('a'), s('<b c>'), silence).chunk(3, lambda p: p.speed(2))",
     'chunk 3 (# speed 2) $ fastcat [s "a", s "<b c>", silence]')
case("s('a b c d').mask('<1 0> 1').struct('t*3')", 'struct "t*3" $ mask "<1 0> 1" $ s "a b c d"')
case("s('x*4').n('<0 2> 4').add(n('0 12')).note('c e')", 's "x*4" # n "<0 2> 4" |+ n "0 12" # note "c e"')
case("s('bd').stut(4, 0.5, '<0.125 -0.125>')", 'stut 4 0.5 "<0.125 -0.125>" $ s "bd"')
case("s('a').echo(4, 0.25, '<0.5 0.9>')", 'stutWith 4 0.25 (|* gain "<0.5 0.9>") $ s "a"')

# ---- randomness before time 0 (Tidal truncates toward zero there) ---------------------------------

case("rand.late(3).segment(4)", "(segment 4 $ 3 ~> rand :: Pattern Double)")
case("s('a*8').degrade_by(0.5).late(5)", '5 ~> (degradeBy 0.5 $ s "a*8")')
case("perlin.late(2.5).segment(4)", "(segment 4 $ 2.5 ~> perlin :: Pattern Double)")
case("irand(8).late(1).segment(4)", "(segment 4 $ 1 ~> irand 8 :: Pattern Double)")
case("s('[a|b|c] d?').late(7)", '7 ~> s "[a|b|c] d?"')
case("s('a*4').sometimes_by(0.5, lambda p: p.speed(2)).late(301)", '301 ~> (sometimesBy 0.5 (# speed 2) $ s "a*4")')
case("rand.segment(4).late(F(1, 3))", "((1/3) ~> segment 4 rand :: Pattern Double)")
case("s('a b').fast(sine.segment(2).range(1, 2))", 'fast (segment 2 $ range 1 2 sine) $ s "a b"')
case("s('a b').fast(mini('1.5 0.1'))", 'fast "1.5 0.1" $ s "a b"')

# ---- queries across cycles, of fractional and zero width --------------------------------------------

span_case("s('bd*2 [~ sn] <hh oh>')", 's "bd*2 [~ sn] <hh oh>"')
span_case("s('a b').slow(3)", 'slow 3 $ s "a b"')
span_case("s('a b c').fast(1.5)", 'fast 1.5 $ s "a b c"')
span_case("n('0 .. 3').every(2, lambda p: p.rev())", 'every 2 rev $ n "0 .. 3"')
span_case("s('a b').off(0.25, lambda p: p.speed(2))", 'off 0.25 (# speed 2) $ s "a b"')
span_case("s('a*4').degrade_by(0.5)", 'degradeBy 0.5 $ s "a*4"')
span_case("s('<a b>(3,8,<0 2>)')", 's "<a b>(3,8,<0 2>)"')
span_case("s('a b c d').iter(4)", 'iter 4 $ s "a b c d"')
span_case("s('hh*4').gain(sine)", 's "hh*4" # gain sine')
span_case("sine.segment(4)", "(segment 4 sine :: Pattern Double)")
span_case("saw", "(saw :: Pattern Double)")
span_case("rand", "(rand :: Pattern Double)")
span_case("s('a b').jux(lambda p: p.rev()).chop(2)", 'chop 2 $ jux rev $ s "a b"')
span_case("s('a b').ply(2).linger(0.5)", 'linger 0.5 $ ply 2 $ s "a b"')
span_case("s('a b').stut(3, 0.5, 0.125)", 'stut 3 0.5 0.125 $ s "a b"')
span_case("s('[a|b] c?').palindrome()", 'palindrome $ s "[a|b] c?"')
span_case("s('a b').swing_by(F(1, 3), 2)", 'swingBy (1/3) 2 $ s "a b"')
span_case("s('a b c').chunk(3, lambda p: p.hurry(2))", 'chunk 3 (hurry 2) $ s "a b c"')
span_case("s('{a b c}%4').struct('t*2 t(3,8)')", 'struct "t*2 t(3,8)" $ s "{a b c}%4"')
span_case("s('a b').whenmod(4, 2, lambda p: p.fast(2)).rot(1)", 'rot 1 $ whenmod 4 2 (fast 2) $ s "a b"')

# ---- rot: Tidal orders a cycle's events by where their values were written -----------------------

ROT_CASES = [
    ("s('[a b]*2').rot(1)", 'rot 1 $ s "[a b]*2"'),
    ("n('[0 1]*2').rot(1)", 'rot 1 $ n "[0 1]*2"'),
    ("s('a*2 b').rot(1)", 'rot 1 $ s "a*2 b"'),
    ("s('<a b> [c a]').rot(1)", 'rot 1 $ s "<a b> [c a]"'),
    ("s('a b c').n('1 2').rot(1)", 'rot 1 $ s "a b c" # n "1 2"'),
    ("s('a b').n('<1 2> 3').rot('<1 2 3>')", 'rot "<1 2 3>" $ s "a b" # n "<1 2> 3"'),
    ("s('a(3,8) b').rot(1)", 'rot 1 $ s "a(3,8) b"'),
    ("s('[a b](3,8)').rot(2)", 'rot 2 $ s "[a b](3,8)"'),
    ("s('a b').ply(2).rot(1)", 'rot 1 $ ply 2 $ s "a b"'),
    ("s('a b').ply('<2 3>').rot(1)", 'rot 1 $ ply "<2 3>" $ s "a b"'),
    ("s('a b c').fast('<1 2>').rot(1)", 'rot 1 $ fast "<1 2>" $ s "a b c"'),
    ("s('c a b').every(2, lambda p: p.fast(2)).rot(1)", 'rot 1 $ every 2 (fast 2) $ s "c a b"'),
    ("s('a b').off(0.25, lambda p: p.speed(2)).rot(1)", 'rot 1 $ off 0.25 (# speed 2) $ s "a b"'),
    ("stack(s('b a'), s('c*2')).rot(1)", 'rot 1 $ stack [s "b a", s "c*2"]'),
    ("n('0 .. 3').rot(1)", 'rot 1 $ n "0 .. 3"'),
    ("n('[0|1] 2 3').rot(1)", 'rot 1 $ n "[0|1] 2 3"'),
    ("s('a? b c d').rot(1)", 'rot 1 $ s "a? b c d"'),
    ("s('a').struct('t t*2 t').n('0 1 2').rot(1)", 'rot 1 $ struct "t t*2 t" (s "a") # n "0 1 2"'),
    ("s('b!3 a').rot(1)", 'rot 1 $ s "b!3 a"'),
    ("s('{a b c}%4').rot(1)", 'rot 1 $ s "{a b c}%4"'),
    ("s('a b c d').iter(4).rot(1)", 'rot 1 $ iter 4 $ s "a b c d"'),
    ("s('b a').jux(lambda p: p.rev()).rot(1)", 'rot 1 $ jux rev $ s "b a"'),
    ("s('b a').chop(2).rot(1)", 'rot 1 $ chop 2 $ s "b a"'),
    ("s('a b').slow(2).rot(1)", 'rot 1 $ slow 2 $ s "a b"'),
    ("n('0 1').add(n('10 20 30')).rot(1)", 'rot 1 $ n "0 1" |+ n "10 20 30"'),
    ("n('3 1 2').segment(6).rot(2)", 'rot 2 $ segment 6 $ n "3 1 2"'),
    ("s('a*2 b*2').sometimes(lambda p: p.speed(2)).rot(1)", 'rot 1 $ sometimes (# speed 2) $ s "a*2 b*2"'),
    ("s('bd*2 [~ sn] hh*3').rot('1 2')", 'rot "1 2" $ s "bd*2 [~ sn] hh*3"'),
    ("n('0 .. 7').struct('t(3,8)').rot(1)", 'rot 1 $ struct "t(3,8)" $ n "0 .. 7"'),
    ("s('a b').stut(3, 0.5, 0.125).rot(1)", 'rot 1 $ stut 3 0.5 0.125 $ s "a b"'),
]
for python, haskell in ROT_CASES:
    case(python, haskell)

case("n('bd')", 'n "bd"')
case("n('c2e')", 'n "c2e"')
case("s('bd').n(mini('c e g'))", 's "bd" # n "c e g"')

# ---- the benchmark's 16 tracks (bench/patterns.py), over 16 cycles ----------------------------------

BENCH_TRACKS = [
    ("s('bd(<3 5>,8)').every(4, lambda p: p.fast(2)).gain(0.9)", 'every 4 (fast 2) (s "bd(<3 5>,8)") # gain 0.9'),
    ("s('~ sn').sometimes_by(0.3, lambda p: p.speed(2)).room(0.2)", 'sometimesBy 0.3 (# speed 2) (s "~ sn") # room 0.2'),
    ("s('hh*16').degrade_by(0.3).gain(sine.range(0.6, 1)).pan(saw)",
     'degradeBy 0.3 (s "hh*16") # gain (range 0.6 1 sine) # pan saw'),
    ("s('~ oh').off(0.125, lambda p: p.speed(1.5)).jux(lambda p: p.rev())", 'jux rev $ off 0.125 (# speed 1.5) $ s "~ oh"'),
    ("n('<0 3> [7 5] . 0 ~ 12').add(n('<0 -5>')).s('bass').legato(0.8).cutoff('<500 2000>')",
     'n "<0 3> [7 5] . 0 ~ 12" |+ n "<0 -5>" # s "bass" # legato 0.8 # cutoff "<500 2000>"'),
    ("n('<0 2 4 5 7>*4').s('superpiano').orbit(1)", 'n "<0 2 4 5 7>*4" # s "superpiano" # orbit 1'),
    ("s('rim*12').mask('1 0 1 1 0 1 1 0 1 1 0 1').pan(rand)", 'mask "1 0 1 1 0 1 1 0 1 1 0 1" (s "rim*12") # pan rand'),
    ("s('[cp cp cp]').euclid_rot(3, 8, 2).stut(3, 0.5, 0.125)", 'stut 3 0.5 0.125 $ euclidOff 3 8 2 $ s "[cp cp cp]"'),
    ("s('break:3').chop(8).rev()", 'rev $ chop 8 $ s "break:3"'),
    ("s('arpy*2').striate('<2 4>').legato(1)", 'striate "<2 4>" (s "arpy*2") # legato 1'),
    ("n('0 4 7').s('pluck').echo(3, 0.125, 0.6).iter(4)", 'iter 4 $ stutWith 3 0.125 (|* gain 0.6) $ n "0 4 7" # s "pluck"'),
    ("note('[0,4,7] [2,5,9]').s('pad').slow(2).palindrome()", 'palindrome $ slow 2 $ note "[0,4,7] [2,5,9]" # s "pad"'),
    ("n('0 .. 7').ply('<1 2>').s('arp').whenmod(8, 6, lambda p: p.rev())",
     'whenmod 8 6 rev $ ply "<1 2>" (n "0 .. 7") # s "arp"'),
    ("s('perc*8').n(irand(8)).degrade().swing_by(F(1, 24), 4)", 'swingBy (1/24) 4 $ degrade $ s "perc*8" # n (irand 8)'),
    ("s('{lt mt ht}%8').chunk(4, lambda p: p.hurry(2))", 'chunk 4 (hurry 2) $ s "{lt mt ht}%8"'),
    ("s('[~ noise]*2').linger('<0.25 0.5>').gain(perlin)", 'linger "<0.25 0.5>" (s "[~ noise]*2") # gain perlin'),
]
for python, haskell in BENCH_TRACKS:
    case(python, haskell, cycles=16, id=f"bench: {python}")

# ---- Haskell comments: Tidal's parser skips them where it skips spaces after a token -------------

for text in ["{-2?}", "{- hi -} 3 4", "{-1 2 -} 5", "1 -- 2", "[0 1] -- 2 3", "<0 {- 1 -} 2>", "0 .. {- -} 3"]:
    case(f"n({text!r})", f"n {hs(text)}")
for text in ["a {- b -} c", "[a --b]", "{a b}", "{-a b}", "<a, b>--"]:
    case(f"s({text!r})", f"s {hs(text)}")
case("gain('{-2 1}')", 'gain "{-2 1}"')


# ---- random mini-notation (a seeded generator: the same strings every time) --------------------------


def random_mini(rng, words: list[str], depth: int = 0) -> str:
    def term(d: int) -> str:
        r = rng.random()
        if d > 1 or r < 0.45:
            t = rng.choice(words)
        elif r < 0.6:
            t = "[" + sequence(d + 1) + "]"
        elif r < 0.7:
            t = "<" + sequence(d + 1) + ">"
        elif r < 0.78:
            t = "{" + sequence(d + 1) + ", " + sequence(d + 1) + "}" + rng.choice(["", "%4", "%<2 3>"])
        elif r < 0.85:
            t = "[" + sequence(d + 1) + " | " + sequence(d + 1) + "]"
        else:
            t = "[" + sequence(d + 1) + ", " + sequence(d + 1) + "]"
        if t == "~":
            return t
        r = rng.random()
        if r < 0.15:
            t += "*" + rng.choice(["2", "3", "1.5", "<2 3>", "[2 1]"])
        elif r < 0.22:
            t += "/" + rng.choice(["2", "3", "1.5", "<2 3>"])
        elif r < 0.3:
            t += "(" + rng.choice(["3,8", "<3 5>,8", "3,8,2", "2,5,<0 1>", "5,8,-1"]) + ")"
        r = rng.random()
        t += "?" if r < 0.12 else "?0.3" if r < 0.16 else ""
        r = rng.random()
        t += ("@" + rng.choice(["2", "1.5", "3"])) if r < 0.08 else ("!" + rng.choice(["", "2", "3"])) if r < 0.14 else ""
        return t

    def sequence(d: int) -> str:
        count = rng.randint(1, 4)
        parts = [term(d) for _ in range(count)]
        if rng.random() < 0.1 and count > 1:
            parts.insert(rng.randint(1, count - 1), ".")
        if rng.random() < 0.08:
            parts.append("_")
        return " ".join(parts)

    return sequence(depth)


def _random_cases() -> None:
    import random

    rng = random.Random(20261122)
    for fn, words in [("s", ["a", "b", "c", "bd", "sn:2", "~"]), ("n", ["0", "1", "-2", "3.5", "e", "c4", "~", "7"])]:
        seen: set[str] = set()
        while len(seen) < 100:
            text = random_mini(rng, words)
            if text in seen:
                continue
            seen.add(text)
            case(f"{fn}({text!r})", f"{fn} {hs(text)}", cycles=4, id=f"random {fn}({text!r})")


_random_cases()

# ---- parts outside their wholes: Tidal's fastGap maps a whole and its part from different cycles ------

case("s('<a b>/2 c').hurry(2)", 'hurry 2 $ s "<a b>/2 c"')
case("s('<a b>/2 c').fast(2)", 'fast 2 $ s "<a b>/2 c"')
case("s('<a b>/2 c').iter(3).jux(lambda q: q.rev()).brak()", 'brak $ jux rev $ iter 3 $ s "<a b>/2 c"')
case("s('<a b>/2 c').early(0.25).stut(3, 0.5, '<0 0.25>')", 'stut 3 0.5 "<0 0.25>" $ 0.25 <~ s "<a b>/2 c"')
case("s('<a b>/2 c').every(3, lambda q: q.speed(2)).every('<2 3>', lambda q: q.speed(2))",
     'every "<2 3>" (# speed 2) $ every 3 (# speed 2) $ s "<a b>/2 c"')
span_case("s('<a b>/2 c')", 's "<a b>/2 c"')
span_case("s('a b/3').gain(0.5)", 's "a b/3" # gain 0.5')


# ---- random chains of functions (seeded) ------------------------------------------------------------------


def _random_chains() -> None:
    import random

    rng = random.Random(11)
    bases = [("s('a b c')", 's "a b c"'), ("s('a*2 [b c]')", 's "a*2 [b c]"'), ("n('0 <1 2> [3 4]')", 'n "0 <1 2> [3 4]"'),
             ("s('a(3,8) b?')", 's "a(3,8) b?"'), ("s('<a b>/2 c')", 's "<a b>/2 c"')]
    times = [("2", "2"), ("'<1 2>'", '"<1 2>"'), ("1.5", "1.5"), ("'1 2'", '"1 2"')]
    shifts = [("0.25", "0.25"), ("'<0 0.25>'", '"<0 0.25>"'), ("F(1, 3)", "(1/3)")]
    ints = [("2", "2"), ("3", "3"), ("'<2 3>'", '"<2 3>"')]
    floats = [("0.3", "0.3"), ("'<0.2 0.8>'", '"<0.2 0.8>"')]
    functions = [("lambda q: q.rev()", "rev"), ("lambda q: q.fast(2)", "(fast 2)"),
                 ("lambda q: q.speed(2)", "(# speed 2)"), ("lambda q: q.late(0.125)", "(0.125 ~>)")]

    def step():
        t, sh, i, f, g = (rng.choice(x) for x in (times, shifts, ints, floats, functions))
        return rng.choice([
            (f".fast({t[0]})", f"fast {t[1]}"), (f".slow({t[0]})", f"slow {t[1]}"), (f".hurry({t[0]})", f"hurry {t[1]}"),
            (f".early({sh[0]})", f"({sh[1]} <~)"), (f".late({sh[0]})", f"({sh[1]} ~>)"), (".rev()", "rev"),
            (".palindrome()", "palindrome"), (f".iter({i[0]})", f"iter {i[1]}"), (f".ply({i[0]})", f"ply {i[1]}"),
            (".linger(0.25)", "linger 0.25"), (f".every({i[0]}, {g[0]})", f"every {i[1]} {g[1]}"),
            (f".whenmod(4, 2, {g[0]})", f"whenmod 4 2 {g[1]}"), (f".chunk({i[0]}, {g[0]})", f"chunk {i[1]} {g[1]}"),
            (f".off({sh[0]}, {g[0]})", f"off {sh[1]} {g[1]}"), (f".jux({g[0]})", f"jux {g[1]}"),
            (f".degrade_by({f[0]})", f"degradeBy {f[1]}"), (f".sometimes_by({f[0]}, {g[0]})", f"sometimesBy {f[1]} {g[1]}"),
            (f".euclid({i[0]}, 8)", f"euclid {i[1]} 8"), (f".rot({i[0]})", f"rot {i[1]}"), (".brak()", "brak"),
            (f".chop({i[0]})", f"chop {i[1]}"), (f".stut(3, 0.5, {sh[0]})", f"stut 3 0.5 {sh[1]}"),
        ])

    made: set[str] = set()
    while len(made) < 100:
        python, haskell = rng.choice(bases)
        for _ in range(rng.randint(1, 3)):
            p, h = step()
            python, haskell = python + p, f"{h} $ {haskell}"
        if python not in made:
            made.add(python)
            case(python, haskell, id=f"random chain {python}")


_random_chains()
