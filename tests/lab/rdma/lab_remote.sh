# lab_remote.sh - sourced on host A of the two-host RDMA lab: rx runs one
# shell command line on host B (its rexec.sh server, port 9000) and
# returns its exit code; push copies a small file to the same path there.
HOSTB=${HOSTB:-10.0.8.2}   # a control subnet of its own: link cuts leave it up

rx() {  # rx COMMAND-LINE: output on stdout, exit code as B's command's
  _o=$(printf '%s\n' "$*" | nc -w 5 "$HOSTB" 9000) || return 255
  _rc=$(printf '%s\n' "$_o" | tail -n 1 | sed -n 's/^RC=//p')
  printf '%s\n' "$_o" | sed '$d'
  return "${_rc:-255}"
}

push() {  # push FILE: same path on host B (small files: one line)
  rx "mkdir -p $(dirname "$1") && echo $(base64 -w 0 < "$1") | base64 -d > $1"
}
