"""French wording, at the web edge, of the library's (English) one-line errors.

The library and the CLI speak English; the workbench's users read French. Known reasons are
translated here by pattern; an unknown one is shown as it is after a French lead-in, so no
error is ever hidden. The file shown is the name the user uploaded, never a server path.
"""

from __future__ import annotations

import re

from oralhist.errors import BadInput


class Refused(BadInput):
    """A request the web layer refuses itself; its reason is already French."""

_KINDS = {"trade": "métier", "object": "objet", "place": "lieu", "subject": "sujet"}

PATTERNS: list[tuple[str, str]] = [
    # corrections (oralhist.editorial.corrections)
    (r"not a Word \.docx document.*", "ce n’est pas un document Word (.docx) lisible"),
    (r"unsupported file type (.*); use \.docx, \.txt or \.vtt", r"type de fichier non pris en charge (\1) : envoyez un .docx, un .txt ou un .vtt"),
    (r"not UTF-8 text \(byte (\d+)\); save it as UTF-8", r"texte qui n’est pas en UTF-8 (octet \1) : enregistrez-le en UTF-8"),
    (r"not a valid WebVTT file.*", "ce n’est pas un fichier de sous-titres WebVTT valide"),
    (r"no caption text found in the file", "aucun texte de sous-titre dans le fichier"),
    (r"no transcript text found in the file", "aucun texte de transcription dans le fichier"),
    (r"the edited transcript is empty; nothing saved", "la transcription corrigée est vide : rien n’a été enregistré"),
    (r"fewer than 20% of the words of version (\d+) of (\S+) are in.*",
     r"moins de 20 % des mots de la version \1 se retrouvent dans ce fichier : est-ce bien la transcription de cet entretien ? Rien n’a été enregistré"),
    (r"exported from version (\d+), but version (\d+) of \S+ \(by oralhist[^)]*\) is newer.*",
     r"document exporté depuis la version \1, mais la version \2 (reconnaissance automatique) est plus récente : "
     r"l’importer annulerait ses corrections. Téléchargez de nouveau le document, refaites les corrections, ou "
     r"cochez « importer quand même »"),
    (r"exported from version (\d+), but version (\d+) of \S+ \(by (.*?)\) is newer.*",
     r"document exporté depuis la version \1, mais la version \2 (de \3) est plus récente : l’importer annulerait ses "
     r"corrections. Téléchargez de nouveau le document, refaites les corrections, ou cochez « importer quand même »"),
    (r"another save of this transcript happened at the same time.*",
     "une autre modification de cette transcription a eu lieu en même temps : réessayez"),
    (r"no transcript yet.*", "pas encore de transcription pour cet entretien"),
    (r"too many words for one transcript \(more than ([\d ]+), about 20 hours of speech\); nothing saved",
     r"transcription trop longue : au plus \1 mots (environ 20 heures de parole) ; rien n’a été enregistré"),
    (r"document too large once uncompressed \((\d+) MB, at most (\d+) MB\); nothing imported",
     r"document trop volumineux une fois décompressé (\1 Mo, au plus \2 Mo) : rien n’a été importé"),
    (r"document compressed (\d+) times \(at most (\d+)\).*",
     r"document compressé \1 fois (au plus \2) : ce n’est pas un document Word ordinaire ; rien n’a été importé"),
    (r"more than (\d+) paragraphs; nothing imported", r"plus de \1 paragraphes : rien n’a été importé"),
    (r"more than (\d+) characters of text; nothing imported", r"plus de \1 caractères de texte : rien n’a été importé"),
    (r"file too large \((\d+) MB, at most (\d+) MB\); nothing imported",
     r"fichier trop volumineux (\1 Mo, au plus \2 Mo) : rien n’a été importé"),
    (r"unsafe XML: the file .*; nothing imported",
     "fichier XML refusé : ses déclarations d’entités (DTD) pourraient saturer le serveur (entités imbriquées, "
     "externes ou démesurées) ; rien n’a été importé"),
    # vocabularies (oralhist.editorial.vocab)
    (r"the file is empty; nothing imported", "le fichier est vide : rien n’a été importé"),
    (r"line 1: no label column \(found: (.*?); expected: .*", r"ligne 1 : pas de colonne « label » (trouvé : \1) : rien n’a été importé"),
    (r"no --kind given and the file has no kind column; nothing imported",
     "le fichier n’a pas de colonne « kind » : choisissez le type des termes ; rien n’a été importé"),
    (r"line (\d+): (\d+) cells for (\d+) columns.*", r"ligne \1 : \2 cellules pour \3 colonnes ; rien n’a été importé"),
    (r"line (\d+): unknown kind '(.*?)'.*", r"ligne \1 : type inconnu « \2 » (métier, objet, lieu ou sujet : trade, object, place, subject) ; rien n’a été importé"),
    (r"line (\d+): empty label; nothing imported", r"ligne \1 : libellé vide ; rien n’a été importé"),
    (r"line (\d+): duplicate label '(.*?)' \(first at line (\d+)\).*", r"ligne \1 : libellé « \2 » en double (déjà ligne \3) ; rien n’a été importé"),
    (r"line (\d+): duplicate URI (\S+) \(first at line (\d+)\).*", r"ligne \1 : URI \2 en double (déjà ligne \3) ; rien n’a été importé"),
    (r"no terms below the header; nothing imported", "aucun terme sous la ligne d’en-tête : rien n’a été importé"),
    # links (oralhist.links): http(s) only, issue 19 item 17
    (r"line (\d+): the URI '(.*)' is not an http:// or https:// address.*",
     r"ligne \1 : l’adresse « \2 » n’est pas une adresse web (http:// ou https://) ; seules celles-ci sont acceptées ; rien n’a été importé"),
    (r"concept '(.*?)': the URI '(.*)' is not an http:// or https:// address.*",
     r"concept « \1 » : l’adresse « \2 » n’est pas une adresse web (http:// ou https://) ; rien n’a été importé"),
    (r"line (\d+): the link '(.*)' is not an http:// or https:// address.*",
     r"ligne \1 : le lien « \2 » n’est pas une adresse web (http:// ou https://) ; seules celles-ci sont acceptées"),
    (r"unknown thesaurus format '(.*?)'.*", r"format de thésaurus inconnu (« \1 ») : utilisez .csv, .ttl, .rdf/.xml, .nt ou .jsonld"),
    (r"not UTF-8 \(byte (\d+)\); nothing imported", r"le fichier n’est pas en UTF-8 (octet \1) : rien n’a été importé"),
    (r"broken (\S+) syntax: (.*); nothing imported", r"syntaxe \1 incorrecte (\2) : rien n’a été importé"),
    (r"duplicate prefLabel '(.*?)'.*", r"libellé préféré « \1 » en double : rien n’a été importé"),
    (r"no skos:Concept with a skos:prefLabel found; nothing imported", "aucun skos:Concept avec un skos:prefLabel : rien n’a été importé"),
    (r"a SKOS thesaurus needs --kind.*", "un thésaurus SKOS demande le type des termes (métier, objet, lieu ou sujet)"),
    (r"unknown kind '(.*?)'.*", r"type inconnu « \1 » (métier, objet, lieu ou sujet)"),
    (r"cannot be read as (\S+).*", r"illisible avec l’encodage \1"),
    # ingest (oralhist.archive.ingest, oralhist.archive.probe): the import page and POST /api/interviews|imports
    (r"empty file \(0 bytes\)", "fichier vide (0 octet)"),
    (r"no such file", "fichier introuvable"),
    (r"not a file", "ce n’est pas un fichier"),
    (r"no such file or folder", "fichier ou dossier introuvable"),
    (r"not a regular file", "ce n’est pas un fichier ordinaire"),
    (r"not an audio file, or damaged \((.*)\)", "ce n’est pas un fichier audio, ou il est endommagé (illisible dès le début)"),
    (r"not an audio file \((.*)\)", "ce n’est pas un fichier audio"),
    (r"no audio could be decoded \(empty or damaged audio stream\)",
     "aucun son n’a pu être décodé (flux audio vide ou endommagé : fichier tronqué ?)"),
    (r"a video with no sound track; nothing to ingest", "une vidéo sans piste son ; rien à importer"),
    (r"no audio stream; nothing to ingest", "aucun flux audio ; rien à importer"),
    (r"impossible sample rate in its header \((\d+) Hz.*",
     r"fréquence d’échantillonnage impossible dans son en-tête (\1 Hz) ; en-tête endommagé"),
    (r"impossible channel count in its header \((\d+)\).*", r"nombre de canaux impossible dans son en-tête (\1) ; en-tête endommagé"),
    (r"its header announces ([\d.]+) h of audio in (\d+) bytes.*",
     r"son en-tête annonce \1 h d’audio dans \2 octets : en-tête endommagé ou falsifié"),
    (r"already in the archive \(interview (.*)\); nothing added", r"déjà dans l’archive (entretien \1) ; rien ajouté"),
    (r"the same file is given twice in this command; nothing added", "le même fichier est donné deux fois ; rien ajouté"),
    (r"not ingested: another part of interview was refused", "non importé : une autre partie de l’entretien a été refusée"),
    (r"not ingested: another part of interview (\S*) ?was refused",
     r"non importé : une autre partie de l’entretien \1 a été refusée"),
    (r"(?:\(.*\) )?consent form not found", "formulaire de consentement introuvable"),
    (r"(?:\(.*\) )?consent form is an empty file", "le formulaire de consentement est un fichier vide (0 octet)"),
    (r"bad date '(.*)'; write YYYY, YYYY-MM or YYYY-MM-DD.*",
     r"date invalide « \1 » ; écrire AAAA, AAAA-MM ou AAAA-MM-JJ (p. ex. 1998-06-14)"),
    (r"interview (.*) already has a different consent form \((.*)\); not replaced",
     r"l’entretien \1 a déjà un autre formulaire de consentement (\2) ; non remplacé"),
    (r"not a valid interview id.*", "identifiant d’entretien invalide (lettres minuscules, chiffres et tirets, p. ex. 1998-marcel-dupont)"),
    (r"could not copy into the archive \((.*)\)", r"copie impossible dans l’archive (\1)"),
    (r"not recorded in the database \((.*)\); nothing added", r"non enregistré dans la base (\1) ; rien ajouté"),
    (r"the copy in the archive differs from the file read \(disk error\?\)",
     "la copie dans l’archive diffère du fichier lu (erreur de disque ?)"),
    (r"nothing to ingest.*", "rien à importer"),
    # consent (oralhist.editorial.consent)
    (r"unknown consent scope.*", "diffusion inconnue : publique, sur place, recherche seulement ou aucune"),
    (r"embargo date must be YYYY-MM-DD", "date d’embargo invalide (attendu : AAAA-MM-JJ)"),
    (r"a redaction needs 0 <= start < end", "un passage retiré doit finir après son début"),
    (r"redaction starts after the end of the interview \((.*) s\)", r"le passage commence après la fin de l’enregistrement (\1 s)"),
    (r"the pseudonym is empty", "le pseudonyme est vide"),
    (r"the interview has no narrator to give a pseudonym to", "l’entretien n’a pas de narrateur à qui donner un pseudonyme"),
    (r"a withdrawal sets the scope to none.*", "un retrait du consentement met la diffusion à « aucune »"),
    (r"no redaction #(\d+) on .*", r"pas de passage retiré n° \1 pour cet entretien"),
    (r"no such interview.*", "entretien inconnu"),
    # issue 21: object pictures (oralhist.archive.images, oralhist.outputs.objects.set_picture), truncated audio
    (r"not an image Pillow can read", "ce n’est pas une image lisible : envoyez une photographie (JPEG, PNG, WebP ou TIFF)"),
    (r"image too large \((\d+)×(\d+), over (\d+) megapixels for \S+\): refused",
     r"image trop grande (\1 × \2 pixels, au plus \3 millions de pixels) : réduisez-la avant de l’envoyer ; rien n’a été enregistré"),
    (r"image too large \(over (\d+) megapixels\): refused",
     r"image trop grande (au plus \1 millions de pixels) : réduisez-la avant de l’envoyer ; rien n’a été enregistré"),
    (r"image format (\S+) not accepted.*", "format d’image non accepté : envoyez une photographie JPEG, PNG, WebP ou TIFF"),
    (r"damaged image \(.*\)", "image endommagée ou incomplète (copie interrompue ?) : rien n’a été enregistré"),
    (r"truncated \(incomplete copy\?\): only ([\d.]+) s could be read; the file announces ([\d.]+) s",
     r"fichier incomplet (copie interrompue ?) : seules \1 s ont pu être lues sur les \2 s annoncées"),
    (r"truncated \(incomplete copy\?\): only ([\d.]+) s could be read",
     r"fichier incomplet (copie interrompue ?) : seules \1 s ont pu être lues"),
    (r"consent form too large \((\d+) MB, at most (\d+) MB\)",
     r"formulaire trop volumineux (\1 Mo, au plus \2 Mo) : rien n’a été enregistré"),
    (r"consent form is neither a PDF nor a picture",
     "ce n’est ni un document PDF ni une photographie : envoyez le scan du formulaire signé ; rien n’a été enregistré"),
    (r"(\d+) line\(s\) before the first timestamp ignored \(title, metadata\)",
     r"lignes ignorées avant le premier minutage (titre, métadonnées) : \1"),
    # accounts (oralhist.editorial.accounts): /comptes, /moi and /api/users (issue 21)
    (r"empty login", "identifiant vide : donnez un identifiant (1 à 64 caractères)"),
    (r"login too long \((\d+) characters, at most (\d+)\)", r"identifiant trop long (\1 caractères, au plus \2)"),
    (r"a login has no spaces, no '/' and no '\\'", "un identifiant ne contient ni espace, ni « / », ni « \\ »"),
    (r"unknown role \(.*\)", "rôle inconnu : choisissez bénévole, éditeur, conservateur ou administrateur"),
    (r"unknown museum", "musée inconnu : choisissez un musée de la liste"),
    (r"museum must be a name", "le musée doit être un nom"),
    (r"weak password: at least (\d+) characters", r"mot de passe trop faible : au moins \1 caractères"),
    (r"weak password: too easy to guess.*",
     "mot de passe trop faible : trop facile à deviner (mot courant, suite de touches ou proche de l’identifiant) ; "
     "ajoutez un ou deux mots peu courants"),
    (r"password too long \(at most (\d+) characters\)", r"mot de passe trop long (au plus \1 caractères)"),
    (r"an account with this login exists already", "un compte porte déjà cet identifiant : rien n’a été créé"),
    (r"no such account", "compte inconnu"),
    (r"the last admin account cannot be removed, disabled or given another role",
     "c’est le dernier compte administrateur actif : il ne peut être ni supprimé, ni désactivé, ni changer de rôle"),
    (r"a museum's admin gives accounts of that museum only|an account of a museum's admin belongs to that museum",
     "un administrateur de musée ne gère que les comptes de son propre musée"),
    (r"the current password is wrong", "mot de passe actuel incorrect"),
    (r"the new password must differ from the current one", "le nouveau mot de passe doit être différent de l’actuel"),
    (r"no such session", "session inconnue"),
    (r"disabled must be true or false", "« disabled » doit valoir true ou false"),
    (r"(\w+) must be a text", r"« \1 » doit être un texte"),
    (r"unknown field: (.*)", r"champ inconnu : \1"),
    (r"a new account needs a password", "un nouveau compte a besoin d’un mot de passe"),
    # doubtful words and « remplacer partout » (oralhist.editorial.doubts, oralhist.editorial.replace; issue 23)
    (r"empty; give the word or phrase to find", "texte à chercher vide : indiquez un mot ou une expression ; rien n’a été remplacé"),
    (r"too long \((\d+) characters, at most (\d+)\); give a word or a phrase",
     r"texte trop long (\1 caractères, au plus \2) : indiquez un mot ou une expression ; rien n’a été remplacé"),
    (r"contains control characters", "le texte contient des caractères de contrôle ; rien n’a été remplacé"),
    (r"only spaces or punctuation; give a word or phrase.*",
     "seulement des espaces ou de la ponctuation : indiquez un mot ou une expression ; rien n’a été remplacé"),
    (r"the same as the text to find; nothing to change", "le remplacement est identique au texte cherché : rien à changer"),
    (r"version (\S+) of (\S+) is newer than version (\d+) that was previewed; nothing replaced.*",
     r"la version \1 de l’entretien \2, enregistrée depuis l’aperçu (version \3), est plus récente : rien n’a été "
     r"remplacé ; relancez l’aperçu"),
    (r"interview (\S+) is not in this scope; nothing replaced", r"l’entretien \1 n’est pas dans ce périmètre ; rien n’a été remplacé"),
    (r"already undone", "ce remplacement a déjà été annulé"),
    (r"version (\S+) was saved after the replace \(version (\d+)\); nothing undone.*",
     r"la version \1, enregistrée après le remplacement (version \2), serait perdue : rien n’a été annulé ; "
     r"corrigez à la main"),
    (r"no such replace", "remplacement inconnu"),
    (r"no such museum", "musée inconnu"),
    (r"no word to confirm", "aucun mot à confirmer"),
    (r"no recognised word at (\d+) ms in version (\d+); nothing confirmed",
     r"aucun mot reconnu à cet endroit dans la version \2 : rechargez la page ; rien n’a été confirmé"),
    (r"more than 10 000 words to confirm at once; nothing confirmed", "plus de 10 000 mots à confirmer d’un coup : rien n’a été confirmé"),
]
_COMPILED = [(re.compile(p, re.S), r) for p, r in PATTERNS]


# A reason already worded in French (the web layer's own, and the web-facing functions of
# oralhist.outputs.exhibit and oralhist.outputs.objects): French typography (" : ", « »), a French letter or
# apostrophe, or a French word the library's English reasons never use.
_FRENCH = re.compile(r" : |[«»’àâçéèêëîïôûùœ]|\b(?:invalide|inconnue?|requis|requise|illisible|introuvable|"
                     r"aucune?|et|de|du|des|le|la|les|une?|pas|cet|cette|trop|entretien|exposition|objet|terme)\b",
                     re.I)


def french(reason: str) -> str:
    """The French wording of one library reason: a known English one translated, one already in
    French kept, an unknown one kept after a French lead-in (never hidden)."""
    text = str(reason or "").strip()
    for rx, repl in _COMPILED:
        m = rx.fullmatch(text)
        if m:
            return m.expand(repl)
    if _FRENCH.search(text):
        return text
    return f"refusé : {text}" if text else "refusé"


def message(exc, shown_name: str | None = None) -> str:
    """``<fichier> : <raison en français>`` for an ``OralhistError`` (without a file: the reason,
    capitalised when worded here)."""
    raw = getattr(exc, "reason", str(exc))
    reason = raw if isinstance(exc, Refused) else french(raw)
    if isinstance(exc, Refused) and shown_name is None:
        shown_name = exc.path  # the web layer names the user's file itself
    if shown_name:
        return f"{shown_name} : {reason}"
    if not isinstance(exc, Refused) and reason == str(raw or "").strip():
        return reason  # a reason already in French is shown as it was written
    return reason[:1].upper() + reason[1:]
