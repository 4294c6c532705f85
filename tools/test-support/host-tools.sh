#!/usr/bin/env bash
# What the oracle tests read from this machine besides the repository, printed for Nx to hash (the
# `oracles` runtime input in nx.json): which oracle tools are on PATH and their versions, the
# kernel, the installed packages (the live readelf sample reads /usr/bin and /usr/lib), and the
# git-ignored large fixtures. A cached test result is reused only when all of this is unchanged.
cd "$(dirname "$0")/../.." || exit 0
uname -srm
for t in readelf gcc setarch env bash llvm-objdump llvm-objdump-14 llvm-readobj llvm-readobj-14 chromium; do
  p="$(command -v "$t" 2>/dev/null)" || { echo "$t: missing"; continue; }
  echo "$t: $p $("$p" --version 2>/dev/null | head -n 1)"
done
for t in llvm-objdump- llvm-readobj-; do compgen -c "$t"; done 2>/dev/null | sort -u
gcc -print-file-name=libc.a 2>/dev/null
cksum /var/lib/dpkg/status 2>/dev/null
ls -l --time-style=+ packages/formats/*/test/fixtures-large 2>/dev/null
exit 0
