// The frames of `berth attach`, on the unix socket between a container's
// monitor (attach_point.h) and each attached client (container_attach.h):
// [kind: 1 byte][length: 4 bytes, little-endian][payload: at most 64 KiB].
//   client -> monitor: kStdin (bytes for the container's stdin),
//                      kWindow (rows, cols: 2 bytes each, little-endian)
//   monitor -> client: kStdout, kStderr (the container's output; with a
//                      terminal all of it is kStdout), kExit (the exit
//                      status, 4 bytes), after which the monitor closes
// A frame longer than 64 KiB or of a kind the reader does not take is a
// broken peer: the reader stops reading from it.
// Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace berth::attach {

enum class Kind : uint8_t { kStdin = 0, kStdout = 1, kStderr = 2, kWindow = 3, kExit = 5 };

constexpr size_t kHeader = 5;
constexpr size_t kMostPayload = size_t{64} * 1024;

// Appends one frame to `out`; a payload over kMostPayload is split in several.
void encode(Kind kind, const char* data, size_t n, std::string& out);

struct Frame {
  Kind kind;
  std::string payload;
};

// Frames out of a byte stream, however it was cut.
class Decoder {
 public:
  // Bytes already decoded are dropped here, once per feed, not per frame.
  void feed(const char* data, size_t n) {
    buf_.erase(0, at_);
    at_ = 0;
    buf_.append(data, n);
  }
  // The next whole frame, or none yet. `broken()` once a frame is too long
  // or of an unknown kind (nothing more is decoded).
  std::optional<Frame> next();
  bool broken() const { return broken_; }

 private:
  std::string buf_;
  size_t at_ = 0;  // where the next frame starts
  bool broken_ = false;
};

}  // namespace berth::attach
