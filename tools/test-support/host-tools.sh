#!/usr/bin/env bash
# What the oracle tests read from this machine besides the repository, printed for Nx to hash (the
# `oracles` runtime input in nx.json): which oracle tools are on PATH and their versions, the
# kernel and its vm settings, memory sizes, the installed packages (the live readelf sample reads
# /usr/bin and /usr/lib), ld.so's cache, and the git-ignored large fixtures. A cached test result
# is reused only when all of this is unchanged.
cd "$(dirname "$0")/../.." || exit 0
uname -srm
for t in readelf gcc setarch env bash ldd strace gdb xz mkfifo llvm-objdump llvm-objdump-14 llvm-readobj llvm-readobj-14 chromium chromium-browser; do
  p="$(command -v "$t" 2>/dev/null)" || { echo "$t: missing"; continue; }
  echo "$t: $p $("$p" --version 2>/dev/null | head -n 1)"
done
for t in llvm-objdump- llvm-readobj-; do compgen -c "$t"; done 2>/dev/null | sort -u
echo "CHROMIUM_PATH=${CHROMIUM_PATH:-}"
gcc -print-file-name=libc.a 2>/dev/null
# The host-kernel oracles read the kernel's settings and memory sizes; the live ld.so oracles, the cache.
cat /proc/sys/vm/overcommit_memory /proc/sys/vm/overcommit_ratio /proc/sys/vm/mmap_min_addr /proc/sys/vm/max_map_count 2>/dev/null
grep -E '^(MemTotal|SwapTotal):' /proc/meminfo 2>/dev/null
cksum /etc/ld.so.cache 2>/dev/null
cksum /var/lib/dpkg/status 2>/dev/null
ls -l --time-style=+ packages/formats/*/test/fixtures-large 2>/dev/null
exit 0
