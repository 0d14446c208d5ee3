#!/usr/bin/env bash
# Builds llama.cpp's own tools (llama-bench, llama-perplexity, llama-server) from the
# llama-cpp-python sdist's vendor/llama.cpp, the same llama.cpp the binding runs. They are
# built once per llama-cpp-python version into the user's cache
# (${XDG_CACHE_HOME:-~/.cache}/llmbench/llama-tools/VERSION, or $LLMBENCH_LLAMA_TOOLS_CACHE)
# and linked as .llama-tools, so a fresh clone on the same machine finds them at once. They are the yardstick llmbench's figures are checked against; tests
# and benchmarks that need them skip with a clear reason when they are not built.
# Needs cmake and a C++ compiler; takes about 10 minutes on 2 cores. Usage:
#   make llama-tools          (or: bash benchmarks/build_llama_tools.sh [PYTHON])
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${1:-.venv/bin/python}"
VERSION="$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("llama_cpp_python"))')"
CACHE="${LLMBENCH_LLAMA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llmbench/llama-tools}"
DEST="$CACHE/$VERSION"
STAMP="$DEST/bin/.built-$VERSION"
link_here() {
  if [ -e .llama-tools ] && [ ! -L .llama-tools ]; then
    echo ".llama-tools is a folder, not a link: leaving it as it is"
  else
    ln -sfn "$DEST" .llama-tools
  fi
}
if [ -f "$STAMP" ]; then
  link_here
  echo "llama.cpp tools for llama-cpp-python $VERSION already built in $DEST/bin"
  exit 0
fi
command -v cmake >/dev/null || { echo "cmake not found: install it (apt-get install cmake)"; exit 1; }
mkdir -p "$DEST/src" "$DEST/bin"
if [ ! -d "$DEST/src/llama_cpp_python-$VERSION" ]; then
  "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: \
    "llama-cpp-python==$VERSION" -d "$DEST/src"
  tar -xzf "$DEST/src/llama_cpp_python-$VERSION.tar.gz" -C "$DEST/src"
fi
SRC="$DEST/src/llama_cpp_python-$VERSION/vendor/llama.cpp"
cmake -S "$SRC" -B "$DEST/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF >/dev/null
cmake --build "$DEST/build" -j "$(nproc)" --target llama-bench llama-perplexity llama-server
for tool in llama-bench llama-perplexity llama-server; do
  cp "$DEST/build/bin/$tool" "$DEST/bin/"
done
cp -r "$SRC/scripts" "$DEST/scripts"
touch "$STAMP"
link_here
echo "built llama-bench, llama-perplexity, llama-server for llama-cpp-python $VERSION in $DEST/bin"
