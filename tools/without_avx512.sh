#!/bin/sh
# Run a command as on a CPU without AVX-512 or AVX-VNNI (an AVX2 laptop's vector instructions), on Linux x86-64
# with CPUID faulting (`grep -c cpuid_fault /proc/cpuinfo`), to measure speed there from a machine that has them:
#   tools/without_avx512.sh python -m bench.pipeline_speed --beside OTHER_SPEC
# Builds tools/without_avx512.c with cc into the cache ($AGEGENDER_CACHE, else ~/.cache/agegender) and preloads it
# (children inherit it).
set -e
here=$(cd "$(dirname "$0")" && pwd)
lib="${AGEGENDER_CACHE:-$HOME/.cache/agegender}/without_avx512.so"
grep -q cpuid_fault /proc/cpuinfo || { echo "this CPU cannot fault on CPUID: no way to hide AVX-512 here" >&2; exit 2; }
if [ ! -f "$lib" ] || [ "$here/without_avx512.c" -nt "$lib" ]; then
  mkdir -p "$(dirname "$lib")"
  cc -O2 -shared -fPIC -o "$lib" "$here/without_avx512.c"
fi
LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}" exec "$@"
