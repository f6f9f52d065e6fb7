// Transport: the byte pipe under a ferry Channel. PlainTransport is a bare TCP
// socket; tls.h has the encrypted one. The protocol code is the same over both. Reads and writes
// may run on two different threads at once (one reader, one writer); nothing else is shared.
#pragma once

#include <chrono>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace ferry {

class Transport {
 public:
  virtual ~Transport() = default;
  // Reads up to `len` bytes; 0 means the peer closed the connection.
  virtual base::Result<size_t> read_some(void* buf, size_t len) = 0;
  virtual base::Status write_all(const void* buf, size_t len) = 0;
  // A hint before read_some: the peer has committed to `bytes` more (the
  // rest of a frame it is sending), so a read may wait for that many rather
  // than wake for every packet. A transport may ignore it.
  virtual void expect(size_t bytes) { (void)bytes; }
  // The socket underneath, for kernel statistics (TCP_INFO, SIOCINQ).
  virtual int socket_fd() const = 0;
  virtual const std::string& peer() const = 0;
  // How the bytes are protected on the wire, for reports: "plaintext", or
  // the TLS version, cipher, key exchange mode and group.
  virtual std::string protection() const = 0;
};

// The error for a peer that made no progress for `idle` (ETIMEDOUT, so a
// reconnect may follow), worded the same for every transport.
base::Error stalled_error(const std::string& peer, std::chrono::milliseconds idle, bool reading);

class PlainTransport final : public Transport {
 public:
  PlainTransport(base::UniqueFd fd, std::string peer, std::chrono::milliseconds idle_timeout);
  base::Result<size_t> read_some(void* buf, size_t len) override;
  base::Status write_all(const void* buf, size_t len) override;
  // Sets SO_RCVLOWAT to `bytes` (at most 256 KiB), when that changes it.
  // (TlsTransport keeps the default: its reads are records, not bytes.)
  void expect(size_t bytes) override;
  int socket_fd() const override { return fd_.get(); }
  const std::string& peer() const override { return peer_; }
  std::string protection() const override { return "plaintext"; }

 private:
  base::UniqueFd fd_;
  std::string peer_;
  std::chrono::milliseconds idle_timeout_;
  int low_water_ = 1;
};

}  // namespace ferry
