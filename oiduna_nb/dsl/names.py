"""Names a live coder types, so a mistake can say what was meant: the sample banks of
Dirt-Samples (what SuperDirt loads by default) and SuperDirt's synths, our own instruments,
the samples uploaded here, and the params Tidal knows. Facts, not code: lists of names."""

from __future__ import annotations

import difflib
from pathlib import Path

DIRT_SAMPLES = frozenset("""
    808 808bd 808cy 808hc 808ht 808lc 808lt 808mc 808mt 808oh 808sd 909 ab ade ades2 ades3 ades4
    alex alphabet amencutup armora arp arpy auto baa baa2 bass bass0 bass1 bass2 bass3 bassdm
    bassfoo battles bd bend bev bin birds birds3 bleep blip blue bottle breaks125 breaks152
    breaks157 breaks165 breath bubble can casio cb cc chin circus clak click clubkick co coins
    control cosmicg cp cr crow d db diphone diphone2 dist dork2 dorkbot dr dr2 dr55 dr_few drum
    drumtraks e east electro1 em2 erk f feel feelfx fest fire flick fm foo future gab gabba
    gabbaloud gabbalouder glasstap glitch glitch2 gretsch gtr h hand hardcore hardkick haw hc hh
    hh27 hit hmm ho hoover house ht if ifdrums incoming industrial insect invaders jazz jungbass
    jungle juno jvbass kicklinn koy kurt latibro led less lighter linnhats lt made made2 mash mash2
    metal miniyeah monsterb moog mouth mp3 msg mt mute newnotes noise noise2 notes num numbers oc
    odx off outdoor pad padlong pebbles perc peri pluck popkick print proc procshort psr rave rave2
    ravemono realclaps reverbkick rm rs sax sd seawolf sequential sf sheffield short sid simplesine
    sitar sn space speakspell speech speechless speedupdown stab stomp subroc3d sugar sundance tabla
    tabla2 tablex tacscan tech techno tink tok toys trump ul ulgab uxay v voodoo wind wobble world
    xmas yeah
""".split())

SUPERDIRT_SYNTHS = frozenset("""
    cyclo dirac gabor imp pmsin psin soshats soskick sossnare sostoms super808 superchip superclap
    supercomparator superfm superfork supergong supergrind superhammond superhat superhex
    superhoover superkick supermandolin supernoise superpiano superprimes superpwm superreese
    supersaw supersiren supersnare supersquare superstatic supertron supervibe superwavemechanics
    superzow
""".split())

TIDAL_PARAMS = frozenset("""
    accelerate amp att attack bandf bandq begin binshift bpf bpq button ccn ccv channel chdecay
    clhatdecay coarse comb control cps crush ctf ctfg ctlNum ctranspose cut cutoff cutoffegint decay
    degree delay delayfb delayfeedback delayt delaytime det detune dfb distort djf dry dt dur end
    enhance expression fadeInTime fadeOutTime fadeTime frameRate frames freeze freq from fshift
    fshiftnote fshiftphase gain gat gate harmonic hatgrain hbrick hcutoff hg hold hours hpf hpq
    hresonance imag kcutoff krush lag lagogo lbd lbrick lch lcl lclap lclaves lclhat lcp lcr lcrash
    legato leslie lfo lfoc lfocutoffint lfodelay lfoi lfoint lfop lfopitchint lfoshape lfosync
    lhitom lht lkick llotom llt lock loh loop lophat lpf lpq lrate lsize lsn lsnare metatune
    midibend midichan midicmd miditouch minutes modwheel mtranspose n note nudge number octave
    octaveR octer octersub octersubsub offset ohdecay ophatdecay orbit overgain overshape pan
    panorient panspan pansplay panwidth partials phasdp phaserdepth phaserrate phasr pit1 pit2 pit3
    pitch1 pitch2 pitch3 polyTouch por portamento progNum rate real rel release resonance ring
    ringdf ringf room s sag sagogo scl sclap sclaves scp scr scram scrash seconds semitone shape
    size sld slide slider smear songPtr speed squiz std stepsPerOctave stt stutterdepth stuttertime
    sus sustain sustainpedal sz tdecay timescale timescalewin to toArg tomdecay tremdp tremolodepth
    tremolorate tremr triode tsdelay uid unit up val vcf vcfegint vco vcoegint velocity voi voice
    vowel waveloss xsdelay
""".split())


def known_sounds(assets_dir: Path | None = None) -> set[str]:
    """Every sound name that plays somewhere: SuperDirt's defaults, ours, and uploads."""
    from ..sound.mapping import DRUM_SOUNDS, PITCHED_SOUNDS

    names = set(DIRT_SAMPLES) | set(SUPERDIRT_SYNTHS) | set(DRUM_SOUNDS) | set(PITCHED_SOUNDS)
    if assets_dir is not None and Path(assets_dir).is_dir():
        names |= {p.name for p in Path(assets_dir).iterdir() if p.is_dir() and p.name != "synthdefs"}
        names |= {p.stem for p in (Path(assets_dir) / "synthdefs").glob("*.scsyndef")}
    return names


def nearest(word: str, names: set[str] | frozenset[str]) -> list[str]:
    return difflib.get_close_matches(word, sorted(names), n=3, cutoff=0.6)


def unknown_names(sounds: set[str], params: set[str], assets_dir: Path | None = None) -> list[str]:
    """A warning for each sound or param nobody knows, with the nearest known names."""
    lines = []
    everything = known_sounds(assets_dir)
    for sound in sorted(sounds - everything):
        close = nearest(sound, everything)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        lines.append(f"unknown sound {sound!r}{hint}: SuperDirt would say 'no synth or sample named'")
    for param in sorted(params - TIDAL_PARAMS):
        close = nearest(param, TIDAL_PARAMS)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        lines.append(f"unknown param {param!r}{hint}: SuperDirt would ignore it")
    return lines
