#!/bin/sh
# Re-record the real strace logs and lackey trace in this directory (the importers' fixtures).
# Needs strace (5.x or 6.x), valgrind, gcc, python3 and gzip; run it from anywhere:
#   sh examples/real/record.sh
# The logs name this host's paths, pids and addresses; tests check structure, not exact values.
set -eu
cd "$(dirname "$0")"
# A fixed place: the tests rebuild forker there (forker.strace execs it) when it is missing.
out=/tmp/polykernel-real
mkdir -p "$out"
gcc -O1 -o "$out/forker" forker.c
gcc -O1 -pthread -o "$out/threads" threads.c
printf 'int main(void) { return 0; }\n' > "$out/hello.c"
# -f with pid prefixes, -tt wall clock, -T time spent, -y file names of descriptors.
strace -f -tt -T -y -o true.strace /bin/true
strace -f -tt -T -y -o ls.strace ls -l /usr > /dev/null
strace -f -tt -T -y -o dd.strace dd if=/dev/zero of=/dev/null bs=1M count=4 2> /dev/null
strace -f -ttt -T -yy -o forker.strace "$out/forker"
strace -f -tt -T -y -o threads.strace "$out/threads"
strace -f -tt -T -y -o pipeline.strace sh -c 'ls /usr | wc -l' > /dev/null
strace -f -tt -T -y -o python3.strace /usr/bin/python3 -S -c 'pass'
strace -f -o gcc.strace gcc -c -o "$out/hello.o" "$out/hello.c"
# -ff: one file per pid, named forker-ff.strace.<pid>
rm -f forker-ff.strace.*
strace -ff -tt -o forker-ff.strace "$out/forker"
# lackey: every instruction fetch, load, store and modify of /bin/true, compressed.
valgrind --tool=lackey --trace-mem=yes --log-file="$out/true.lackey" /bin/true
gzip -9 -c "$out/true.lackey" > true.lackey.gz
