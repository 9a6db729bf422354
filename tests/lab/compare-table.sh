#!/bin/sh
# compare-table.sh LOG - the table of `make compare` from compare.sh's
# COMPARE rows, with the VSMR/Remus ratios of throughput, latency, bytes
# on the replication link and the guest's stalls.
[ -f "$1" ] || { echo "no $1"; exit 1; }
echo "# emulated (QEMU TCG), one host; Remus is Debian's: no network buffering, checkpoints compressed (xl remus default)"
grep -h '^COMPARE-INVALID ' "$1" | sed 's/^COMPARE-INVALID /# INVALID: /'
grep -h '^COMPARE ' "$1" | cut -d' ' -f2- | awk '{ for (i = 1; i <= NF; i++) printf "%-16s", $i; print "" }'
grep -h '^COMPARE \(remus\|vsmr\) ' "$1" | awk '
  { for (i = 2; i <= NF; i++) v[$2, i] = $i }
  function r(i) { return (v["remus", i] + 0 > 0 && v["vsmr", i] != "-") ? sprintf("%.2f", v["vsmr", i] / v["remus", i]) : "-" }
  function per(m) { return v[m, 8] + 0 > 0 ? v[m, 7] / v[m, 8] : 0 }
  END { if (("remus", 3) in v && ("vsmr", 3) in v)
          printf "VSMR/Remus: throughput %s, p50 latency %s, link bytes %s (Remus/VSMR %s; per sync %s), stall p50 %s\n",
                 r(3), r(4), r(7), (v["vsmr", 7] + 0 > 0 ? sprintf("%.1f", v["remus", 7] / v["vsmr", 7]) : "-"),
                 (per("vsmr") > 0 ? sprintf("%.1f", per("remus") / per("vsmr")) : "-"), r(10) }'
