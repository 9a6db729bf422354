#!/bin/sh
# compare-table.sh LOG - the table of `make compare` from compare.sh's
# COMPARE rows, and for each VSMR row its ratios of throughput, latency,
# bytes on the replication link and stalls against Debian's `xl remus`
# (unbuffered) and against vsmrd's Remus mode (buffered), when present.
[ -f "$1" ] || { echo "no $1"; exit 1; }
echo "# emulated (QEMU TCG), one host; remus = Debian's xl remus: no network buffering, checkpoints compressed (its default); vsmr-remus = Remus's algorithm in vsmrd: outputs buffered"
grep -h '^COMPARE-INVALID ' "$1" | sed 's/^COMPARE-INVALID /# INVALID: /'
grep -h '^COMPARE ' "$1" | cut -d' ' -f2- | awk '{ for (i = 1; i <= NF; i++) printf "%-16s", $i; print "" }'
grep -h '^COMPARE \(remus\|vsmr\|vsmr-nowait\|vsmr-remus\) ' "$1" | awk '
  { seen[$2] = 1; for (i = 2; i <= NF; i++) v[$2, i] = $i }
  function ok(m, i) { return (m in seen) && v[m, i] != "-" }
  function r(m, b, i) { return (ok(m, i) && ok(b, i) && v[b, i] + 0 > 0) ? sprintf("%.2f", v[m, i] / v[b, i]) : "-" }
  function per(m) { return v[m, 8] + 0 > 0 ? v[m, 7] / v[m, 8] : 0 }
  function inv(m, b) { return (per(m) > 0 && per(b) > 0) ? sprintf("%.1f", per(b) / per(m)) : "-" }
  function line(m, b, name) {
    if (!(m in seen) || !(b in seen)) return
    printf "%s/%s: throughput %s, p50 latency %s, link bytes %s, bytes per sync %s/%s = %s, syncs %s, stall p50 %s\n",
           m, name, r(m, b, 3), r(m, b, 4), r(m, b, 7), name, m, inv(m, b), r(m, b, 8), r(m, b, 10)
  }
  END { split("vsmr vsmr-nowait", ms, " ")
        for (k = 1; k <= 2; k++) { line(ms[k], "remus", "Remus"); line(ms[k], "vsmr-remus", "buffered-Remus") } }'
