#!/bin/bash
# pair/client.sh - the two-host tests' client, run in the lab's network
# namespace: one TCP connection to vsmr-guestd (10.10.0.2:7777) that it
# keeps as long as the connection lives, reconnecting only when it breaks.
#   client.sh write LOG STOPFILE: SET k<i mod 16> v<i> for i = 1, 2, ...
#     until STOPFILE exists; LOG gets "ACK i key value ms" per answered
#     write, "SENT i key value" before each, "RECONNECT ms reason" and
#     "GAP ms" (a wait of 2 s or more for an answer)
#   client.sh verify LOG: reads every key back on a new connection; each
#     must hold its last acknowledged value, or the value of the one write
#     in flight when the writer stopped. Prints VERIFY lines; exit 0 if all hold.
G=${GUEST:-10.10.0.2}; P=7777
now() { date +%s%3N; }
connect() {
  exec 3<&- 2>/dev/null
  # The probe's bound: a protected guest's SYN-ACK waits for the sync
  # after the SYN (≈ 6 s apart on two emulated hosts, up to 12 s with a
  # slow one); a 10 s bound made a CI run probe for 4.5 min.
  timeout 60 bash -c "exec 3<>/dev/tcp/$G/$P" 2>/dev/null || return 1   # probe
  exec 3<>"/dev/tcp/$G/$P"
}
ask() {   # ask LINE: reply in $REPLY; 1 if the connection broke
  echo "$1" >&3 2>/dev/null || return 1
  local t0; t0=$(now)
  while :; do
    local rc=0
    read -t 2 -r REPLY <&3 || rc=$?
    if [ $rc = 0 ]; then
      REPLY=${REPLY%$'\r'}
      local d=$(( $(now) - t0 )); [ $d -ge 2000 ] && echo "GAP $d $1" >> "$LOG"
      return 0
    fi
    [ $rc -gt 128 ] || return 1                # EOF or error: broken
    [ $(( $(now) - t0 )) -gt 120000 ] && return 1   # 2 min: give up on it
    [ -e "${STOP:-/nonexistent}" ] && [ $(( $(now) - t0 )) -gt 30000 ] && return 1
  done
}
write() {
  LOG=$1; STOP=$2; local i=1 k v
  until connect; do echo "RECONNECT $(now) connect-failed" >> "$LOG"; sleep 1; [ -e "$STOP" ] && return 0; done
  while [ ! -e "$STOP" ]; do
    k=k$((i % 16)); v=v$i
    echo "SENT $i $k $v" >> "$LOG"
    if ask "SET $k $v" && [ "$REPLY" = OK ]; then
      echo "ACK $i $k $v $(now)" >> "$LOG"; i=$((i + 1))
    else
      echo "RECONNECT $(now) ${REPLY:-broken}" >> "$LOG"
      until connect; do sleep 1; [ -e "$STOP" ] && return 0; done
    fi
  done
}
verify() {
  LOG=$1; local ok=0 bad=0 k want alt
  connect || { echo "VERIFY cannot-connect"; return 1; }
  for n in $(seq 0 15); do
    k=k$n
    want=$(awk -v k=$k '$1 == "ACK" && $3 == k { v = $4 } END { print v }' "$LOG")
    alt=$(awk '$1 == "SENT" { s = $3 " " $4 } $1 == "ACK" { s = "" } END { print s }' "$LOG")
    [ -z "$want" ] && continue
    ask "GET $k" || { echo "VERIFY broken-at $k"; return 1; }
    if [ "$REPLY" = "VAL $want" ] || [ "$REPLY" = "VAL ${alt#"$k "}" -a "${alt%% *}" = "$k" ]; then
      ok=$((ok + 1))
    else
      echo "VERIFY LOST $k acknowledged=$want found=\"$REPLY\""; bad=$((bad + 1))
    fi
  done
  echo "VERIFY keys_ok=$ok lost=$bad"
  [ $bad = 0 ] && [ $ok -gt 0 ]
}
"$@"
