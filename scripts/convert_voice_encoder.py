"""Convert Resemblyzer's GE2E voice-encoder weights (shipped in its PyPI wheel) to numpy.

oralhist runs the encoder with numpy alone (no torch), from
``oralhist/data/voice_encoder/ge2e.npz``. This script rebuilds that file from the wheel,
reading the legacy ``torch.save`` pickle without importing torch:

    pip download --no-deps resemblyzer==0.1.4 -d /tmp/rz
    python scripts/convert_voice_encoder.py /tmp/rz/Resemblyzer-0.1.4-py3-none-any.whl

Resemblyzer (c) Resemble AI, Apache License 2.0; the weights are the package's
``resemblyzer/pretrained.pt`` (GE2E speaker encoder, 3-layer LSTM, 40 mel bands).
"""

from __future__ import annotations

import collections
import hashlib
import io
import pickle
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "oralhist" / "data" / "voice_encoder" / "ge2e.npz"
_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64,
           "IntStorage": np.int32, "HalfStorage": np.float16}


class _StorageType:
    def __init__(self, name: str):
        self.name = name


class _Storage:
    def __init__(self, dtype, key: str, numel: int):
        self.dtype, self.key, self.numel = dtype, key, numel


def _rebuild_tensor(storage, offset, size, stride, *_):
    return ("tensor", storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module.startswith("torch"):
            if name.endswith("Storage"):
                return _StorageType(name)
            if name.startswith("_rebuild_tensor"):
                return _rebuild_tensor
        if name == "OrderedDict":
            return collections.OrderedDict
        return super().find_class(module, name)

    def persistent_load(self, pid):
        _, storage_type, key, _location, numel = pid[:5]
        return _Storage(_DTYPES[storage_type.name], key, numel)


def load_legacy_torch(raw: bytes) -> dict[str, np.ndarray]:
    """The ``model_state`` tensors of a legacy (pre-zip) torch checkpoint, as numpy arrays."""
    f = io.BytesIO(raw)
    for _ in range(3):  # magic number, protocol version, system info
        pickle.load(f)
    obj = _Unpickler(f).load()
    keys = pickle.load(f)
    where = {}
    storages = {}

    def collect(o):
        if isinstance(o, tuple) and o and o[0] == "tensor":
            storages[o[1].key] = o[1]
        elif isinstance(o, dict):
            for v in o.values():
                collect(v)
        elif isinstance(o, (list, tuple)):
            for v in o:
                collect(v)

    collect(obj)
    for k in keys:
        n = struct.unpack("<q", f.read(8))[0]
        itemsize = np.dtype(storages[k].dtype).itemsize if k in storages else 4
        where[k] = (f.tell(), n)
        f.seek(n * itemsize, 1)
    out = {}
    for name, t in obj["model_state"].items():
        _, st, off, size, stride = t
        pos, n = where[st.key]
        arr = np.frombuffer(raw, dtype=st.dtype, count=n, offset=pos)
        out[name] = np.lib.stride_tricks.as_strided(
            arr[off:], size, [s * arr.itemsize for s in stride]).copy()
    return out


def main(src: str) -> None:
    p = Path(src)
    if p.suffix == ".whl":
        with zipfile.ZipFile(p) as z:
            raw = z.read("resemblyzer/pretrained.pt")
    else:
        raw = p.read_bytes()
    state = load_legacy_torch(raw)
    keep = {k: v.astype(np.float32) for k, v in state.items() if k.startswith(("lstm.", "linear."))}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, source_sha256=np.array(hashlib.sha256(raw).hexdigest()), **keep)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes) from pretrained.pt sha256 {hashlib.sha256(raw).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv[1])
