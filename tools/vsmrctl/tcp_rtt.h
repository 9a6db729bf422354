/*
 * tcp_rtt.h - the baseline of the log benchmark: plain TCP ping-pong
 * round-trip time between two processes over loopback.
 */
#ifndef VSMRCTL_TCP_RTT_H
#define VSMRCTL_TCP_RTT_H

int tcp_rtt_main(int argc, char **argv);

#endif
