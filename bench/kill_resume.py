"""Time saved by resuming a killed transcription (issue 15 item 10).

A ~60 s recording of FLEURS clips, 20 s blocks. Full run: `oralhist transcribe ID --block-seconds 20`
from scratch. Resume: the same command killed (SIGKILL) once 2 blocks are stored, then the
rerun timed alone. Median of 3 of each; prints the load average beside the figures.
Run: .venv/bin/python bench/kill_resume.py
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.test_kills import EXE, _kill_when, _long_interview  # noqa: E402

CORPUS = REPO / "tests" / "data" / "corpus"


def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return time.perf_counter() - t, json.loads(r.stdout)


def main():
    full, rerun, reused, dec_full, dec_rerun = [], [], [], [], []
    with tempfile.TemporaryDirectory() as d:
        for k in range(3):
            ws, iid = _long_interview(Path(d), CORPUS, f"full{k}")
            s, rep = timed([*EXE, "--workspace", str(ws.root), "transcribe", iid, "--block-seconds", "20", "--json"])
            full.append(s)
            dec_full.append(rep["details"]["interviews"][iid]["decode_s"])
            ws, iid = _long_interview(Path(d), CORPUS, f"kill{k}")
            ck = ws.derived_dir(iid) / "transcribe-blocks.json"
            cmd = [*EXE, "--workspace", str(ws.root), "transcribe", iid, "--block-seconds", "20", "--json"]

            def two(t):
                try:
                    return len(json.loads(ck.read_text())["blocks"]) >= 2
                except (OSError, ValueError):
                    return False
            assert _kill_when(cmd, two, deadline_s=300)
            s, rep = timed(cmd)
            rerun.append(s)
            reused.append(rep["details"]["interviews"][iid]["blocks_reused"])
            dec_rerun.append(rep["details"]["interviews"][iid]["decode_s"])
    print(f"full run     median {statistics.median(full):.1f} s  {[round(x, 1) for x in full]}")
    print(f"rerun after kill (2 blocks kept) median {statistics.median(rerun):.1f} s  {[round(x, 1) for x in rerun]}"
          f"  blocks reused {reused}")
    print(f"decoding only (report's decode_s): full {statistics.median(dec_full):.1f} s, rerun "
          f"{statistics.median(dec_rerun):.1f} s, ratio {statistics.median(dec_rerun) / statistics.median(dec_full):.2f}")
    print(f"rerun / full = {statistics.median(rerun) / statistics.median(full):.2f}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
