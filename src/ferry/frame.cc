#include "ferry/frame.h"

#include "ferry/codec.h"
#include "ferry/xattrs.h"

namespace ferry {

void encode_frame_header(uint8_t* out, FrameType type, uint32_t payload_len) {
  out[0] = static_cast<uint8_t>(type);
  out[1] = out[2] = out[3] = 0;
  store_be32(out + 4, payload_len);
}

uint32_t max_payload(uint8_t type) {
  switch (static_cast<FrameType>(type)) {
    case FrameType::kHello:
    case FrameType::kChallenge:
    case FrameType::kAuth:
    case FrameType::kWelcome:
      return 64;
    case FrameType::kError:
      return 4096;
    case FrameType::kPut:
    case FrameType::kGet:
      return 1u << 20;  // up to 15 source paths of 64 KiB
    case FrameType::kAccept:
      return 20;  // 16 for a copy; a sync's ACCEPT adds the flags the server honours
    case FrameType::kFilter:
      return 1u << 20;
    case FrameType::kBackup:
      return 4 + 255 + 4096;
    case FrameType::kSignature:
      return kSignatureHeaderSize + kChunkSize;
    case FrameType::kDelta:
      return 4 + kChunkSize + 64;
    case FrameType::kSum:
      return 20;
    case FrameType::kItem:
      return 2 + 4096 + 16;
    case FrameType::kPacked:
      return 2u << 20;
    case FrameType::kXattrs:
      return kMaxXattrsPayload;
    case FrameType::kDataZ:
      return kDataZPrefixSize + kChunkSize + (64u << 10);  // incompressible chunks go as DATA
    case FrameType::kJoin:
      return 17;
    case FrameType::kDone:
      return 1;  // a sync's: 1 when the sender could not read every entry
    case FrameType::kEntry:
      return 32 + 2 * 65536;
    case FrameType::kWant:
      return 16u << 20;  // block hashes of a resumed file of up to 2 TiB
    case FrameType::kData:
      return kDataPrefixSize + kChunkSize;
    case FrameType::kFileEnd:
      return 8 + 4096;
    case FrameType::kRetry:
      return 16;
    case FrameType::kResult:
      return 64 + 4096;
    case FrameType::kStats:
      return 64 * 1024;
  }
  return 0;
}

const char* frame_name(FrameType type) {
  switch (type) {
    case FrameType::kHello:
      return "HELLO";
    case FrameType::kChallenge:
      return "CHALLENGE";
    case FrameType::kAuth:
      return "AUTH";
    case FrameType::kWelcome:
      return "WELCOME";
    case FrameType::kError:
      return "ERROR";
    case FrameType::kPut:
      return "PUT";
    case FrameType::kGet:
      return "GET";
    case FrameType::kAccept:
      return "ACCEPT";
    case FrameType::kJoin:
      return "JOIN";
    case FrameType::kFilter:
      return "FILTER";
    case FrameType::kBackup:
      return "BACKUP";
    case FrameType::kSignature:
      return "SIGNATURE";
    case FrameType::kDelta:
      return "DELTA";
    case FrameType::kSum:
      return "SUM";
    case FrameType::kItem:
      return "ITEM";
    case FrameType::kPacked:
      return "PACKED";
    case FrameType::kDataZ:
      return "DATA_Z";
    case FrameType::kXattrs:
      return "XATTRS";
    case FrameType::kEntry:
      return "ENTRY";
    case FrameType::kWant:
      return "WANT";
    case FrameType::kData:
      return "DATA";
    case FrameType::kFileEnd:
      return "FILE_END";
    case FrameType::kRetry:
      return "RETRY";
    case FrameType::kDone:
      return "DONE";
    case FrameType::kResult:
      return "RESULT";
    case FrameType::kStats:
      return "STATS";
  }
  return "?";
}

}  // namespace ferry
