#!/bin/sh
# guest-test.sh - runs inside the RDMA lab guests (copied to /lab by
# run.sh). Host B (LABHOST=b) only serves host A (hostb.sh). Host A runs,
# inside itself, the transport program over rxe on a veth pair, the sync
# engine with its page frames over rdma (and tcp) and the work counts of
# rdma and tcp; then, between the two hosts (topology_2host.sh): the log's
# integration test with every node on rdma, a sync of sim guests in
# verify mode over rdma, and `transport = auto` choosing rdma between the
# hosts and tcp to a witness without RDMA. Prints "LAB PASS name" /
# "LAB FAIL name" lines.
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
echo "LAB guest ${LABHOST:-a} up at $(up)s, kernel $(uname -r), $(nproc) cpus, $(free -m | awk '/Mem:/{print $2}') MiB"
mkdir -p /run/netns /var/run
if [ "${LABHOST:-a}" = b ]; then /lab/hostb.sh; exit 0; fi

ip link set lo up
ip link add va type veth peer name vb
ip addr add 192.168.77.1/24 dev va
ip addr add 192.168.77.2/24 dev vb
ip link set va up; ip link set vb up
rdma link add rxeva type rxe netdev va && rdma link add rxevb type rxe netdev vb
# host A on the two-host network: node 1 on 10.0.0.1 and the witness on
# 10.0.0.3 (both on rxe0), the auto test's witness on 10.0.9.3 (a veth
# without RDMA)
if [ "${LABHOST:-a}" = a ]; then
  ip addr add 10.0.0.1/24 dev eth0
  ip addr add 10.0.0.3/24 dev eth0
  ip addr add 10.0.8.1/24 dev eth0   # drives host B (lab_remote.sh)
  ip link set eth0 up
  rdma link add rxe0 type rxe netdev eth0
  ip link add wa type veth peer name wb
  ip addr add 10.0.9.3/32 dev wa
  ip link set wa up; ip link set wb up
  . /lab/lab_remote.sh
fi
rdma link show

TESTS=${LABTESTS:-xfer,sync,counts,log2,sync2,auto2}
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
# it2 NAME SCRIPT: a test between the two hosts (topology_2host.sh)
it2() {
  cd /lab || return
  VSMR_IT_TOPOLOGY=/lab/topology_2host.sh run "$1" 900 \
    sh -c "sh $2 > /tmp/$1.out 2>&1; rc=\$?; cat /tmp/$1.out; exit \$rc"
  cd /
}
case ",$TESTS," in *,log2,*|*,sync2,*|*,auto2,*)
  s=$(date +%s); n=0
  until rx true >/dev/null 2>&1 || [ $n -ge 600 ]; do usleep 100000; n=$((n + 1)); done
  rx true >/dev/null; result host-b-answers $? $(( $(date +%s) - s ))
  ;; esac
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
case ",$TESTS," in *,log2,*)
  it2 log-cluster-2hosts tests/integration/test_log_cluster.sh
  n=$(sed -n 's/^RDMA-CONNECTS //p' /tmp/log-cluster-2hosts.out)
  echo "LAB log-cluster-2hosts: ${n:-0} rdma connections logged"
  [ "${n:-0}" -gt 0 ]; result log-cluster-2hosts-used-rdma $? 0
  ;; esac
case ",$TESTS," in *,sync2,*)
  it2 sync-2hosts twohost_sync.sh
  ;; esac
case ",$TESTS," in *,auto2,*)
  it2 auto-2hosts twohost_auto.sh
  ;; esac
[ "${LABHOST:-a}" = a ] && rx "touch /tmp/lab-stop" >/dev/null 2>&1
rdma statistic show link rxeva/1 2>/dev/null | tr ' ' '\n' | paste - - |
  awk '$2 != 0' | tr '\n' ' '; echo
echo "LAB SUMMARY pass=$pass fail=$fail uptime=$(up)s"
if [ "$fail" = 0 ] && [ "$pass" -gt 0 ]; then echo "VSMRLAB-PASS"
else echo "VSMRLAB-FAIL"; fi
