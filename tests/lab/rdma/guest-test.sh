#!/bin/sh
# guest-test.sh - runs inside the RDMA lab guest (copied to /lab by run.sh):
# the transport program over rxe on a veth pair, the log's integration
# test with three vsmrd on rdma, the sync engine with its page frames over
# rdma (and tcp), then work counts of rdma and tcp. Prints "LAB PASS name" / "LAB FAIL name" lines.
export PATH=/opt/vsmr/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=/opt/vsmr/lib
export VSMR_BIN=/opt/vsmr/bin
ip() { /bin/ip "$@"; }
up() { cut -d' ' -f1 /proc/uptime; }
pass=0; fail=0
result() {  # result NAME RC SECONDS
  if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "LAB PASS $1 (${3}s)"
  else fail=$((fail + 1)); echo "LAB FAIL $1 rc=$2 (${3}s)"; fi
}
run() {  # run NAME TIMEOUT CMD...
  n=$1 t=$2; shift 2
  s=$(date +%s); echo "LAB RUN $n: $*"
  timeout "$t" "$@"; rc=$?
  result "$n" "$rc" $(( $(date +%s) - s ))
}
echo "LAB guest up at $(up)s, kernel $(uname -r), $(nproc) cpus"
mkdir -p /run/netns /var/run

ip link set lo up
ip link add va type veth peer name vb
ip addr add 192.168.77.1/24 dev va
ip addr add 192.168.77.2/24 dev vb
ip link set va up; ip link set vb up
rdma link add rxeva type rxe netdev va && rdma link add rxevb type rxe netdev vb
rdma link show

TESTS=${LABTESTS:-xfer,log,sync,counts}
# it NAME SCRIPT: one of the project's integration tests, with every node on
# transport = rdma (topology_rxe.sh), and proof that rdma connections formed
it() {
  cd /lab || return
  VSMR_IT_TOPOLOGY=/lab/topology_rxe.sh run "$1-rdma" 900 \
    sh -c "sh tests/integration/$2 > /tmp/$1.out 2>&1; rc=\$?; cat /tmp/$1.out; exit \$rc"
  n=$(sed -n 's/^RDMA-CONNECTS //p' "/tmp/$1.out")
  echo "LAB $1-rdma: ${n:-0} rdma connections logged"
  [ "${n:-0}" -gt 0 ]; result "$1-used-rdma" $? 0
  cd /
}
case ",$TESTS," in *,xfer,*)
  run xfer-rdma 300 rdma_xfer rdma 192.168.77.1:7001 192.168.77.2:7001
  ;; esac
case ",$TESTS," in *,log,*)
  it log-cluster test_log_cluster.sh
  ;; esac
case ",$TESTS," in *,sync,*)   # the sync engine's frames over the transports
  run sync-rdma 600 rdma_sync rdma 192.168.77.1:7004 192.168.77.2:7004
  run sync-tcp 600 rdma_sync tcp 192.168.77.1:7005 192.168.77.2:7005
  ;; esac
case ",$TESTS," in *,counts,*)
  run counts-rdma 600 rdma_xfer rdma 192.168.77.1:7002 192.168.77.2:7002 counts
  run counts-tcp 600 rdma_xfer tcp 192.168.77.1:7003 192.168.77.2:7003 counts
  ;; esac
rdma statistic show link rxeva/1 2>/dev/null | tr ' ' '\n' | paste - - |
  awk '$2 != 0' | tr '\n' ' '; echo
echo "LAB SUMMARY pass=$pass fail=$fail uptime=$(up)s"
if [ "$fail" = 0 ] && [ "$pass" -gt 0 ]; then echo "VSMRLAB-PASS"
else echo "VSMRLAB-FAIL"; fi
