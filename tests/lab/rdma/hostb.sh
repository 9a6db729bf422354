#!/bin/sh
# hostb.sh - host B of the two-host RDMA lab (guest-test.sh runs it when
# the kernel command line says LABHOST=b): its NIC on the QEMU socket
# network as 10.0.0.2 with soft-RoCE (rxe0) and as 10.0.8.2 for host A's
# commands, a route to host A's witness address that has no RDMA device
# (10.0.9.3), and a command server for host A (rexec.sh on port 9000).
# Returns when host A touches /tmp/lab-stop or after LABTIMEOUT seconds.
ip() { /bin/ip "$@"; }
ip link set lo up
ip addr add 10.0.0.2/24 dev eth0
ip addr add 10.0.8.2/24 dev eth0   # host A drives host B on this subnet
ip link set eth0 up
rdma link add rxe0 type rxe netdev eth0 || echo "LAB hostB: rdma link add failed"
ip route add 10.0.9.3/32 via 10.0.0.1
nc -ll -p 9000 -e /lab/rexec.sh &
echo "LAB hostB ready at $(cut -d' ' -f1 /proc/uptime)s"
end=$(( $(date +%s) + ${LABTIMEOUT:-600} ))
while [ ! -e /tmp/lab-stop ] && [ "$(date +%s)" -lt "$end" ]; do
  sleep 1
done
echo "LAB hostB done ($( [ -e /tmp/lab-stop ] && echo stopped by host A || echo timed out))"
