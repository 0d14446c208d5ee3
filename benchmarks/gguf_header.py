"""How fast llmbench reads a GGUF header, against the `gguf` package's GGUFReader.

For each demo model: the median time of `engines.models.gguf_info.read_gguf_metadata` over
several reads (the file is in the page cache after the first), the bytes it read, and one
`gguf.GGUFReader` open for comparison (it memory-maps the file and builds every field,
so Gemma 3's 262k-token vocabulary costs it seconds). The target is under 0.5 s for any
model; the headline is Gemma's median read time.

    .venv/bin/python benchmarks/gguf_header.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from engines.models.demo import demo_model_path
from engines.models.gguf_info import read_gguf_metadata


def median_read_s(path: Path, repeats: int) -> float:
    read_gguf_metadata(path)  # warm the page cache
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        read_gguf_metadata(path)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bytes_read(path: Path) -> int:
    """Bytes read from the file while its header is parsed (every read goes through Path.open)."""
    total = 0
    real_open = Path.open

    def counting_open(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        stream = real_open(self, *args, **kwargs)
        real_read = stream.read

        def read(n: int = -1) -> bytes:
            nonlocal total
            data = real_read(n)
            total += len(data)
            return data

        stream.read = read
        return stream

    Path.open = counting_open  # type: ignore[method-assign]
    try:
        read_gguf_metadata(path)
    finally:
        Path.open = real_open  # type: ignore[method-assign]
    return total


def gguf_reader_s(path: Path) -> float:
    import gguf

    started = time.perf_counter()
    gguf.GGUFReader(path)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    headline = 0.0
    for name in ("smollm2-135m", "gemma3-270m"):
        path = demo_model_path(name)
        median = median_read_s(path, args.repeats)
        print(f"{name}_file_mib: {path.stat().st_size / 2**20:.1f}")
        print(f"{name}_header_bytes_read_kib: {bytes_read(path) / 1024:.0f}")
        print(f"{name}_gguf_reader_s: {gguf_reader_s(path):.3f}")
        print(f"{name}_read_gguf_metadata_s: {median:.4f}")
        headline = median
    print(f"gemma3-270m_header_read_median_s: {headline:.4f}")


if __name__ == "__main__":
    main()
