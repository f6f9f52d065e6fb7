#include "net/tcp_stats.h"

#include <linux/sockios.h>
#include <linux/tcp.h>  // the full struct tcp_info; glibc's is older
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <limits>

#include "base/sys.h"

namespace net {

base::Result<TcpStats> read_tcp_stats(int fd) {
  struct tcp_info info {};
  socklen_t len = sizeof info;
  TRY_STATUS(base::sys::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len, "TCP_INFO"));
  TcpStats s;
  s.busy_us = info.tcpi_busy_time;
  s.rwnd_limited_us = info.tcpi_rwnd_limited;
  s.sndbuf_limited_us = info.tcpi_sndbuf_limited;
  s.delivery_rate = info.tcpi_delivery_rate;
  s.bytes_acked = info.tcpi_bytes_acked;
  s.bytes_received = info.tcpi_bytes_received;
  s.snd_cwnd = info.tcpi_snd_cwnd;
  s.snd_mss = info.tcpi_snd_mss;
  s.rtt_us = info.tcpi_rtt;
  s.min_rtt_us = info.tcpi_min_rtt;
  s.snd_wnd = info.tcpi_snd_wnd;
  s.rcv_space = info.tcpi_rcv_space;
  s.notsent_bytes = info.tcpi_notsent_bytes;
  s.total_retrans = info.tcpi_total_retrans;
  // Queue sizes and buffer sizes: each call is independent; a failure of one
  // leaves its field 0 rather than losing the whole reading.
  (void)base::sys::ioctl(fd, SIOCINQ, &s.inq, "SIOCINQ");
  (void)base::sys::ioctl(fd, SIOCOUTQ, &s.outq, "SIOCOUTQ");
  (void)base::sys::ioctl(fd, SIOCOUTQNSD, &s.outq_unsent, "SIOCOUTQNSD");
  socklen_t il = sizeof(int);
  (void)base::sys::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &s.sndbuf, &il);
  il = sizeof(int);
  (void)base::sys::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &s.rcvbuf, &il);
  return s;
}

namespace {
// Several streams' 32-bit windows added up: at most the type's largest
// value, never a wrap that would read as a tiny window.
template <typename T>
T saturating_add(T a, T b) {
  T sum;
  return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<T>::max() : sum;
}
}  // namespace

TcpStats combine(const TcpStats& a, const TcpStats& b) {
  TcpStats s;
  s.busy_us = a.busy_us + b.busy_us;
  s.rwnd_limited_us = a.rwnd_limited_us + b.rwnd_limited_us;
  s.sndbuf_limited_us = a.sndbuf_limited_us + b.sndbuf_limited_us;
  s.delivery_rate = a.delivery_rate + b.delivery_rate;
  s.bytes_acked = a.bytes_acked + b.bytes_acked;
  s.bytes_received = a.bytes_received + b.bytes_received;
  s.snd_cwnd = saturating_add(a.snd_cwnd, b.snd_cwnd);
  s.snd_mss = std::max(a.snd_mss, b.snd_mss);
  s.rtt_us = std::max(a.rtt_us, b.rtt_us);
  s.min_rtt_us = a.min_rtt_us == 0   ? b.min_rtt_us
                 : b.min_rtt_us == 0 ? a.min_rtt_us
                                     : std::min(a.min_rtt_us, b.min_rtt_us);
  s.snd_wnd = saturating_add(a.snd_wnd, b.snd_wnd);
  s.rcv_space = saturating_add(a.rcv_space, b.rcv_space);
  s.notsent_bytes = saturating_add(a.notsent_bytes, b.notsent_bytes);
  s.total_retrans = a.total_retrans + b.total_retrans;
  s.inq = saturating_add(a.inq, b.inq);
  s.outq = saturating_add(a.outq, b.outq);
  s.outq_unsent = saturating_add(a.outq_unsent, b.outq_unsent);
  s.sndbuf = saturating_add(a.sndbuf, b.sndbuf);
  s.rcvbuf = saturating_add(a.rcvbuf, b.rcvbuf);
  return s;
}

int64_t unsent_bytes(int fd) {
  int unsent = 0;
  if (!base::sys::ioctl(fd, SIOCOUTQNSD, &unsent, "SIOCOUTQNSD")) return 0;
  return unsent;
}

}  // namespace net
