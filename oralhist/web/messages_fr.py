"""French wording of the ingest messages, for the workbench (one code path: ``oralhist ingest``'s
validation raises them in English for the terminal; the web layer shows the same message in French).

A reason that matches no pattern is shown as it is (never lost, only untranslated).
"""

from __future__ import annotations

import re

NNBSP = "\u202f"  # narrow no-break space before ; : ! ? and inside « »


def _q(s: str) -> str:
    return f"«{NNBSP}{s}{NNBSP}»"


_RULES: list[tuple[re.Pattern, object]] = [(re.compile(p + r"\Z", re.S), r) for p, r in [
    (r"empty file \(0 bytes\)", "fichier vide (0 octet)"),
    (r"no such file", "fichier introuvable"),
    (r"not a file", "ce n’est pas un fichier"),
    (r"no such file or folder", "fichier ou dossier introuvable"),
    (r"not a regular file", "ce n’est pas un fichier ordinaire"),
    (r"not an audio file, or damaged \((.*)\)", lambda m: f"ce n’est pas un fichier audio, ou il est endommagé ({m[1]})"),
    (r"not an audio file \((.*)\)", lambda m: f"ce n’est pas un fichier audio ({m[1]})"),
    (r"no audio could be decoded \(empty or damaged audio stream\)",
     "aucun son n’a pu être décodé (flux audio vide ou endommagé : fichier tronqué ?)"),
    (r"a video with no sound track; nothing to ingest", f"une vidéo sans piste son{NNBSP}; rien à importer"),
    (r"no audio stream; nothing to ingest", f"aucun flux audio{NNBSP}; rien à importer"),
    (r"impossible sample rate in its header \((\d+) Hz.*",
     lambda m: f"fréquence d’échantillonnage impossible dans son en-tête ({m[1]} Hz){NNBSP}; en-tête endommagé"),
    (r"impossible channel count in its header \((\d+)\).*",
     lambda m: f"nombre de canaux impossible dans son en-tête ({m[1]}){NNBSP}; en-tête endommagé"),
    (r"its header announces ([\d.]+) h of audio in (\d+) bytes.*",
     lambda m: f"son en-tête annonce {m[1].replace('.', ',')} h d’audio dans {m[2]} octets{NNBSP}: en-tête endommagé ou falsifié"),
    (r"already in the archive \(interview (.*)\); nothing added",
     lambda m: f"déjà dans l’archive (entretien {m[1]}){NNBSP}; rien ajouté"),
    (r"the same file is given twice in this command; nothing added", f"le même fichier est donné deux fois{NNBSP}; rien ajouté"),
    (r"not ingested: another part of interview ?(.*) was refused",
     lambda m: f"non importé{NNBSP}: une autre partie de l’entretien {m[1]} a été refusée".replace("  ", " ")),
    (r"(\(.*\) )?consent form not found", "formulaire de consentement introuvable"),
    (r"(\(.*\) )?consent form is an empty file", "le formulaire de consentement est un fichier vide (0 octet)"),
    (r"bad date '(.*)'; write YYYY, YYYY-MM or YYYY-MM-DD.*",
     lambda m: f"date invalide {_q(m[1])}{NNBSP}; écrire AAAA, AAAA-MM ou AAAA-MM-JJ (p. ex. 1998-06-14)"),
    (r"unknown consent scope '(.*)'; choose one of (.*)",
     lambda m: f"portée du consentement inconnue {_q(m[1])}{NNBSP}; choisir parmi {m[2]}"),
    (r"interview (.*) already has a different consent form \((.*)\); not replaced",
     lambda m: f"l’entretien {m[1]} a déjà un autre formulaire de consentement ({m[2]}){NNBSP}; non remplacé"),
    (r"not a valid interview id.*",
     "identifiant d’entretien invalide (lettres minuscules, chiffres et «\u202f-\u202f», p. ex. 1998-marcel-dupont)"),
    (r"could not copy into the archive \((.*)\)", lambda m: f"copie impossible dans l’archive ({m[1]})"),
    (r"not recorded in the database \((.*)\); nothing added",
     lambda m: f"non enregistré dans la base ({m[1]}){NNBSP}; rien ajouté"),
    (r"the copy in the archive differs from the file read \(disk error\?\)",
     "la copie dans l’archive diffère du fichier lu (erreur de disque ?)"),
    (r"nothing to ingest.*", "rien à importer"),
]]


def fr(reason: str | None) -> str:
    """The French form of one ingest reason (the reason itself when no rule knows it)."""
    text = (reason or "").strip()
    for pat, rep in _RULES:
        m = pat.match(text)
        if m:
            return rep(m) if callable(rep) else rep
    return text
