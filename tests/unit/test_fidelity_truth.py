"""llmbench's fidelity figures against llama.cpp's own llama-perplexity, on the same file,
text, context and batch size: perplexity within 1 %, mean KLD within 5 %.

Needs llama-perplexity (`make llama-tools`; or LLMBENCH_LLAMA_TOOLS=DIR/bin). The ladder
is the demo SmolLM2 requantized by llama.cpp to Q8_0 (the reference) and Q4_0.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from gguf_quantize import quantize

from engines.fidelity.reference_text import bundled_text, read_text
from engines.types import ModelSettings, SamplingParams
from profiles.fidelity_run import run_fidelity
from profiles.plan import PanePlan

pytestmark = pytest.mark.real_model

N_CTX = 128
THREADS = 2
REPO = Path(__file__).resolve().parents[2]


def llama_tool(name: str) -> Path | None:
    """A llama.cpp tool from LLMBENCH_LLAMA_TOOLS (a bin folder) or <repo>/.llama-tools/bin."""
    folders = [os.environ.get("LLMBENCH_LLAMA_TOOLS"), str(REPO / ".llama-tools" / "bin")]
    for folder in filter(None, folders):
        path = Path(folder) / name
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def _llama_perplexity(*args: str) -> str:
    tool = llama_tool("llama-perplexity")
    if tool is None:
        pytest.skip("llama-perplexity not built: run `make llama-tools`")
    common = ("-c", str(N_CTX), "-b", str(N_CTX), "-t", str(THREADS), "--no-warmup")
    result = subprocess.run(
        [str(tool), *args, *common], capture_output=True, text=True, timeout=1200
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout + result.stderr


def _number(pattern: str, output: str) -> float:
    match = re.search(pattern, output)
    assert match, f"{pattern!r} not in llama-perplexity's output:\n{output[-3000:]}"
    return float(match.group(1))


def _plan(index: int, path: Path, label: str) -> PanePlan:
    settings = ModelSettings(path=str(path), n_ctx=512, n_threads=THREADS, label=label)
    return PanePlan(index, label, str(path), "local", settings, SamplingParams())


@pytest.mark.timeout(1800)
def test_perplexity_and_kld_agree_with_llama_perplexity(smollm2_path: Path, tmp_path: Path):
    if llama_tool("llama-perplexity") is None:
        pytest.skip("llama-perplexity not built: run `make llama-tools`")
    q8 = quantize(smollm2_path, tmp_path / "smollm2-q8_0.gguf", "Q8_0")
    q4 = quantize(smollm2_path, tmp_path / "smollm2-q4_0.gguf", "Q4_0")
    text_file = tmp_path / "text.txt"
    text_file.write_text(bundled_text()[:6000] + "\n", encoding="utf-8")
    base = tmp_path / "q8.kld"

    theirs_q8 = _llama_perplexity(
        "-m", str(q8), "-f", str(text_file), "--kl-divergence-base", str(base)
    )
    theirs = _llama_perplexity(
        "-m", str(q4), "-f", str(text_file), "--kl-divergence-base", str(base), "--kl-divergence"
    )
    ours = run_fidelity([_plan(0, q8, "Q8_0"), _plan(1, q4, "Q4_0")], read_text(text_file), N_CTX)
    ref, quant = ours.figures[0], ours.figures[1]
    assert ref.error is None and quant.error is None, (ref.error, quant.error)

    ppl_q8 = _number(r"Final estimate: PPL = ([0-9.]+)", theirs_q8)
    ppl_q4 = _number(r"Mean PPL\(Q\)\s*:\s*([0-9.]+)", theirs)
    kld = _number(r"Mean\s+KLD:\s*([0-9.]+)", theirs)
    same_top = _number(r"Same top p:\s*([0-9.]+)", theirs)
    print(
        f"PPL Q8_0 ours {ref.ppl:.4f} llama {ppl_q8:.4f}; PPL Q4_0 ours {quant.ppl:.4f} "
        f"llama {ppl_q4:.4f}; KLD ours {quant.kld:.6f} llama {kld:.6f}; "
        f"top-1 ours {quant.same_top_pct:.2f} llama {same_top:.2f}"
    )
    assert ref.ppl == pytest.approx(ppl_q8, rel=0.01)
    assert quant.ppl == pytest.approx(ppl_q4, rel=0.01)
    assert quant.kld == pytest.approx(kld, rel=0.05)
    assert quant.same_top_pct == pytest.approx(same_top, abs=1.0)
