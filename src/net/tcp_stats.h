// TcpStats: one reading of the kernel's own view of a TCP connection.
//   TCP_INFO  — congestion window, RTT, delivery rate, retransmits, and the
//               "chrono" accounting of why the sender was not sending:
//               busy_time (total time with data to send), rwnd_limited
//               (stalled by the peer's receive window), sndbuf_limited
//               (stalled by our send buffer). Times are cumulative, in µs.
//   SIOCINQ   — bytes received by the kernel that the program has not read.
//   SIOCOUTQ  — bytes in the send queue (not yet acknowledged);
//   SIOCOUTQNSD — of those, bytes not yet sent.
//   SO_SNDBUF / SO_RCVBUF — the buffer sizes in force.
// Thread-safety: read_tcp_stats() only reads socket state; any thread.
#pragma once

#include <cstdint>

#include "base/error.h"

namespace net {

struct TcpStats {
  uint64_t busy_us = 0;
  uint64_t rwnd_limited_us = 0;
  uint64_t sndbuf_limited_us = 0;
  uint64_t delivery_rate = 0;  // bytes per second, the kernel's estimate
  uint64_t bytes_acked = 0;
  uint64_t bytes_received = 0;
  uint32_t snd_cwnd = 0;  // segments
  uint32_t snd_mss = 0;
  uint32_t rtt_us = 0;
  uint32_t min_rtt_us = 0;
  uint32_t snd_wnd = 0;  // the peer's advertised window, bytes
  uint32_t rcv_space = 0;
  uint32_t notsent_bytes = 0;
  uint32_t total_retrans = 0;
  int inq = 0;
  int outq = 0;
  int outq_unsent = 0;
  int sndbuf = 0;
  int rcvbuf = 0;
};

base::Result<TcpStats> read_tcp_stats(int fd);

// Bytes written to the socket that TCP has not yet sent (SIOCOUTQNSD): a
// stream that can take more now has none. One system call, cheap enough to
// ask before every large write; 0 when it cannot be read.
int64_t unsent_bytes(int fd);

// Sums counters and queues of several streams of one transfer; takes the
// largest RTT and the smallest minimum RTT.
TcpStats combine(const TcpStats& a, const TcpStats& b);

}  // namespace net
