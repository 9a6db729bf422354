# pair/common-dom0.sh - sourced by the two-host tests' dom0 scripts (after
# /vsmrlab/lib.sh): the cluster key from the host side (LAB_KEY, hex) at
# xl vsmr's default path, and the logs of whatever vsmrd runs here copied
# to the share now and then (a host may be killed at any moment).
mkdir -p -m 700 /etc/vsmr
printf "$(echo "$LAB_KEY" | sed 's/../\\x&/g')" > /etc/vsmr/cluster.key
chmod 600 /etc/vsmr/cluster.key
save_logs() {
  local f
  for f in /run/vsmr/*/*.log; do [ -f "$f" ] && cp "$f" /vsmrlab/out/; done 2>/dev/null
  xl list > /vsmrlab/out/xl-list.txt 2>&1
  timeout 10 xl-vsmr status > /vsmrlab/out/xlvsmr-status.tmp 2>&1 &&
    mv /vsmrlab/out/xlvsmr-status.tmp /vsmrlab/out/xlvsmr-status.txt
}
# wait_for WORD: until the host side writes /vsmrlab/WORD, saving logs
wait_for() { while [ ! -e "/vsmrlab/$1" ]; do save_logs; sleep 3; done; save_logs; }
