#!/bin/bash
# wip_xlvsmr_protect.sh - runs in the lab's dom0 (VSMR_LAB_TESTS=
# xlvsmr_protect): `xl vsmr` protecting a real PVH domU end to end on one
# host (backup host "localhost" through a stand-in for ssh, a witness vsmrd
# on 127.0.0.1): it returns only once the first sync committed; `status`
# shows the replicas; a client's connection works through the log; `stop`
# leaves the guest running, unprotected, answering. Not in the default set
# until the running-backup sync is dependable on the emulator.
. /vsmrlab/lib.sh
W=127.0.0.1:7003
KEY=/etc/vsmr/cluster.key
trap 'cp /run/vsmr/*/*.log /tmp/w/*.log /vsmrlab/out/ 2>/dev/null' EXIT
cat > /tmp/fakessh <<'EOF'
#!/bin/sh
shift; exec sh -c "$*"
EOF
chmod +x /tmp/fakessh
mkdir -p /etc/vsmr /tmp/w
head -c 32 /dev/urandom > $KEY; chmod 600 $KEY
printf 'id = 3\npeer.1 = 127.0.0.1:7001 primary\npeer.2 = 127.0.0.1:7002 backup\npeer.3 = %s witness\nkey_file = %s\ncontrol = /tmp/w/witness.sock\ndata_dir = /tmp/w/data\nlog_file = /tmp/w/witness.log\nelection_ticks = 1000\nidle_timeout_ms = 20000\n' "$W" "$KEY" > /tmp/w/witness.conf
vsmrd --config /tmp/w/witness.conf --bootstrap & WP=$!
guest_fine() {
  case "$(xl list guest1 2>/dev/null | awk 'NR==2{print $5}')" in *p*|"") return 1;; esac
  for _ in $(seq 1 20); do ask PING | grep -q '^PONG' && return 0; sleep 1; done; return 1
}
lab_check guest-created timeout 120 xl create /etc/xen/guest1.cfg
lab_check guest-service-up wait_console guest1 "VSMR-GUESTD listening" 240
lab_check guest-answers guest_fine

echo "$(el) xl-vsmr -s /tmp/fakessh -w $W guest1 localhost"
timeout 600 xl-vsmr -s /tmp/fakessh -w $W --timeout 300 --election-ms 10000 guest1 localhost > /tmp/p.out 2> /tmp/p.err; rc=$?
grep -v 'copy \[' /tmp/p.out | tail -12; cat /tmp/p.err
lab_check protect-exit-0 [ "$rc" = 0 ]
lab_check says-protected grep -q "is protected" /tmp/p.out
xl-vsmr status guest1 > /tmp/s.out 2>&1; src=$?
cat /tmp/s.out
lab_check status-exit-0 [ "$src" = 0 ]
lab_check status-shows-epoch grep -q "epoch" /tmp/s.out
answers50() {
  exec 3<>/dev/tcp/10.10.0.2/7777 || return 1
  local prev="" v
  for i in $(seq 1 50); do
    echo INC >&3; read -t 30 -r v <&3 || { echo "no answer to $i"; return 1; }
    v=${v%$'\r'}; [ -n "$prev" ] && [ "$v" != $((prev + 1)) ] && { echo "$v after $prev"; return 1; }
    prev=$v
  done
  exec 3<&-
}
lab_check client-50-answers-protected answers50
xl-vsmr stop guest1 > /tmp/x.out 2>&1; xrc=$?
cat /tmp/x.out
lab_check stop-exit-0 [ "$xrc" = 0 ]
lab_check guest-fine-after-stop guest_fine
lab_check backup-copy-gone bash -c "! xl list guest1--vsmr-backup >/dev/null 2>&1"
kill $WP; wait $WP 2>/dev/null
[ "$fails" = 0 ]
