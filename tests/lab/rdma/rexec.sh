#!/bin/sh
# rexec.sh - one command from host A, run on host B of the two-host RDMA
# lab: `nc -ll -e` (hostb.sh) runs this once per connection with the
# socket as stdin/stdout. Reads one line, runs it with sh, sends its output
# and then "RC=<exit code>" as the last line (lab_remote.sh's rx reads it).
read -r line
sh -c "$line" </dev/null 2>&1
echo "RC=$?"
