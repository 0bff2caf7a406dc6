"""A multipart/form-data body streamed straight to files (POST /api/interviews).

Starlette's ``request.form()`` spools each file part to a temporary file through one thread
hop per network chunk (~37 MB/s here) and the route then copied it again. This parser is
python-multipart's own streaming ``MultipartParser`` fed with the request's chunks; file
parts are written by a large-buffered file object in the staging folder, in place, once.
Memory stays bounded: fields are capped, file data is never accumulated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from oralhist.errors import BadInput

FIELD_MAX = 64 * 1024  # a metadata field (narrator, title ...) is short
WRITE_BUFFER = 4 * 1024 * 1024


@dataclass
class FilePart:
    field: str
    filename: str
    path: Path
    size: int = 0


@dataclass
class Form:
    fields: dict = field(default_factory=dict)  # name -> first value
    files: list = field(default_factory=list)   # FilePart, in the body's order

    def get(self, name, default=None):
        return self.fields.get(name, default)

    def files_of(self, name) -> list:
        return [f for f in self.files if f.field == name]


# Over 80 lines on purpose: the parser's callbacks are closures over the part being written; they read best
# side by side.
async def stream_form(request, dest: Path, name_for, *, max_files: int = 50, max_fields: int = 50) -> Form:
    """Parse the body of ``request`` into ``dest``; ``name_for(field, filename, index)`` -> file name.

    Raises BadInput on a malformed body, too many parts or an oversized field; the caller
    removes ``dest`` in every case.
    """
    from python_multipart.multipart import MultipartParser, parse_options_header

    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise BadInput(None, "le corps n’est pas un formulaire multipart/form-data (boundary manquant)")
    form = Form()
    state = {"hname": b"", "hvalue": b"", "headers": {}, "out": None, "part": None, "buf": None, "nfields": 0}

    def on_part_begin():
        state["headers"] = {}
        state["out"] = state["part"] = state["buf"] = None

    def on_header_field(data, start, end):
        state["hname"] += data[start:end]

    def on_header_value(data, start, end):
        state["hvalue"] += data[start:end]

    def on_header_end():
        state["headers"][state["hname"].lower()] = state["hvalue"]
        state["hname"] = state["hvalue"] = b""

    def on_headers_finished():
        disp, opts = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = opts.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in opts:
            if len(form.files) >= max_files:
                raise BadInput(None, f"trop de fichiers (au plus {max_files})")
            filename = opts[b"filename"].decode("utf-8", "replace")
            path = dest / name_for(name, filename, len(form.files))
            path.parent.mkdir(parents=True, exist_ok=True)
            part = FilePart(name, filename, path)
            form.files.append(part)
            state["part"] = part
            state["out"] = open(path, "xb", buffering=WRITE_BUFFER)  # noqa: SIM115 (closed at part end)
        else:
            state["nfields"] += 1
            if state["nfields"] > max_fields:
                raise BadInput(None, f"trop de champs (au plus {max_fields})")
            state["fname"] = name
            state["buf"] = bytearray()

    def on_part_data(data, start, end):
        if state["out"] is not None:
            state["out"].write(data[start:end])
            state["part"].size += end - start
        elif state["buf"] is not None:
            state["buf"] += data[start:end]
            if len(state["buf"]) > FIELD_MAX:
                raise BadInput(state["fname"], f"champ trop long (au plus {FIELD_MAX // 1024} Ko)")

    def on_part_end():
        if state["out"] is not None:
            state["out"].close()
            state["out"] = None
        elif state["buf"] is not None:
            form.fields.setdefault(state["fname"], bytes(state["buf"]).decode("utf-8", "replace"))
            state["buf"] = None

    def on_end():
        state["ended"] = True

    parser = MultipartParser(boundary, {
        "on_end": on_end,
        "on_part_begin": on_part_begin, "on_part_data": on_part_data, "on_part_end": on_part_end,
        "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished,
    })
    try:
        async for chunk in request.stream():
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except BadInput:
        raise
    except Exception as exc:  # python-multipart's MultipartParseError, a cut body
        if type(exc).__name__ in ("BodyTooLarge", "ClientDisconnect"):
            raise
        raise BadInput(None, f"formulaire illisible : {exc}") from None
    finally:
        if state["out"] is not None:
            state["out"].close()
    if not state.get("ended"):
        raise BadInput(None, "formulaire incomplet : le corps s’arrête avant sa fin (envoi coupé ?)")
    return form
