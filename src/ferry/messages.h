// Ferry's messages as structs, with encode() to a payload and decode() from
// one. Decoding validates lengths and enum values; it does not judge paths
// (peer_path.h does). The free text a peer sends (ERROR, FILE_END and RESULT
// messages) is decoded printable: control bytes escaped, at most 1000 bytes.
// Layouts are specified in docs/PROTOCOL.md.
// Thread-safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"

namespace ferry {

using Nonce = std::array<uint8_t, 32>;
using Mac = std::array<uint8_t, 32>;

struct Hello {
  uint16_t version = 0;
  Nonce nonce{};
};
struct Challenge {
  uint16_t version = 0;
  Nonce nonce{};
};
struct Auth {
  Mac mac{};
};
struct Welcome {
  Mac mac{};
  bool read_only = false;
};
struct ErrorMsg {
  uint16_t code = 0;
  std::string message;
};

// Request flags.
inline constexpr uint32_t kFlagRecursive = 1;
inline constexpr uint32_t kFlagResume = 2;  // skip files already whole (same size and mtime)
inline constexpr uint32_t kFlagFsync = 4;   // fsync each file before its rename
// `ferry sync` (rsync's semantics; docs/PROTOCOL.md, "Sync"). A server that
// honours them says so in its ACCEPT; any other bit is refused.
inline constexpr uint32_t kFlagSync = 1u << 3;    // make the target identical: skip, delta, replace
inline constexpr uint32_t kFlagDelete = 1u << 4;  // delete what the sender did not announce
inline constexpr uint32_t kFlagChecksum = 1u << 5;  // unchanged means same content (SUM frames)
inline constexpr uint32_t kFlagDryRun = 1u << 6;    // change nothing; report what would be done
inline constexpr uint32_t kFlagItemize = 1u << 7;   // the receiver reports each change (ITEM)
inline constexpr uint32_t kFlagContents = 1u << 8;  // the one source's contents are the target
inline constexpr uint32_t kFlagFilter = 1u << 9;    // a FILTER frame follows the request
inline constexpr uint32_t kFlagDeleteExcluded = 1u << 10;  // excluded files are not protected
inline constexpr uint32_t kFlagCompress = 1u << 11;        // data may travel zstd-compressed (-z)
// With kFlagCompress: the sender compresses only while the network is the
// limit (CompressionPolicy, kAuto); without this bit, always.
inline constexpr uint32_t kFlagCompressAuto = 1u << 12;
// An upload's receiver keeps what it replaces or deletes (--backup); a
// BACKUP frame follows the request (and its FILTER).
inline constexpr uint32_t kFlagBackup = 1u << 13;
// -H: a file's further names come as HARDLINK entries (EntryKind::kHardLink).
inline constexpr uint32_t kFlagHardLinks = 1u << 14;
// -X: XATTRS frames carry files' and directories' extended attributes.
inline constexpr uint32_t kFlagXattrs = 1u << 15;
inline constexpr uint32_t kSyncFlags = kFlagSync | kFlagDelete | kFlagChecksum | kFlagDryRun |
                                       kFlagItemize | kFlagContents | kFlagFilter |
                                       kFlagDeleteExcluded | kFlagCompress | kFlagCompressAuto |
                                       kFlagBackup | kFlagHardLinks | kFlagXattrs;
inline constexpr uint32_t kKnownFlags = kFlagRecursive | kFlagResume | kFlagFsync | kSyncFlags;

// PUT: the client sends `source_count` top-level entries into `target`.
struct Put {
  uint32_t flags = 0;
  uint8_t streams = 1;  // TCP connections for this transfer, 1..kMaxStreams
  uint16_t source_count = 0;
  std::string target;
};
// GET: the client asks for `sources` (paths in the served directory).
struct Get {
  uint32_t flags = 0;
  uint8_t streams = 1;
  std::vector<std::string> sources;
};

using SessionId = std::array<uint8_t, 16>;

// ACCEPT: the request is accepted; with streams > 1, `session` is what the
// extra connections quote in JOIN.
struct Accept {
  SessionId session{};
  // A sync request's answer: the request's flags, which the server honours
  // (a server too old to sync sends none, and the client stops).
  std::optional<uint32_t> flags;
};

// JOIN: instead of a request, an extra connection joins a session's streams.
struct Join {
  SessionId session{};
  uint8_t index = 0;  // 1..streams-1
};

// kHardLink (sync with -H only): another name of the file entry whose path
// is `link_target`, announced earlier with kEntryHasLinks; no data follows.
enum class EntryKind : uint8_t { kFile = 1, kDir = 2, kSymlink = 3, kHardLink = 4 };

inline constexpr uint8_t kEntrySparse = 1;  // the file has holes; don't preallocate
inline constexpr uint8_t kEntryOwner = 2;   // uid/gid are meaningful (sender ran as root)
// The size is not known in advance (a pipe): `size` is 0, data may run to
// 2^62, and the file ends where the data ends.
inline constexpr uint8_t kEntryGrowing = 4;
// (-H) More names of this file follow, as kHardLink entries naming it.
inline constexpr uint8_t kEntryHasLinks = 8;

// The longest symlink target Linux stores (PATH_MAX less its NUL).
inline constexpr size_t kMaxLinkTarget = 4095;

struct Entry {
  uint32_t id = 0;
  EntryKind kind = EntryKind::kFile;
  uint8_t flags = 0;
  uint32_t mode = 0;  // permission bits only (07777)
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  uint64_t size = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string path;         // relative, '/'-separated, first component is the source's name
  std::string link_target;  // symlinks: 1 to kMaxLinkTarget bytes, no NUL; hard links: a path
};

// kDelta (sync only): SIGNATURE frames of the receiver's old file follow; the
// sender answers with DELTA frames instead of DATA.
enum class WantHow : uint8_t { kSkip = 0, kAll = 1, kBlocks = 2, kDelta = 3 };

// WANT: what the receiver needs of file `id`. For kBlocks, `have` lists the
// XXH3 of each kChunkSize block the receiver already holds (from offset 0);
// the sender sends only blocks whose hash differs, and all blocks after.
struct Want {
  uint32_t id = 0;
  WantHow how = WantHow::kAll;
  std::vector<uint64_t> have;
};

// DATA payload prefix (the bytes follow in the same frame).
struct DataHeader {
  uint32_t id = 0;
  uint64_t offset = 0;
  uint64_t hash = 0;
};

enum class FileEndStatus : uint8_t { kOk = 0, kChanged = 1, kReadError = 2 };
struct FileEnd {
  uint32_t id = 0;
  FileEndStatus status = FileEndStatus::kOk;
  std::string message;
  // How many streams carry this FILE_END (1, or all of them when the file's
  // data was spread over all streams). The file is complete once that many
  // have arrived: each stream is in order, so its data came first. 0 marks
  // the end of a re-send after RETRY, which does not count toward that.
  uint8_t streams = 1;
};

struct Retry {
  uint32_t id = 0;
  uint64_t offset = 0;
  uint32_t length = 0;
};

struct ResultMsg {
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint32_t failed = 0;
  std::string first_error;
};

std::string encode(const Hello& m);
std::string encode(const Challenge& m);
std::string encode(const Auth& m);
std::string encode(const Welcome& m);
std::string encode(const ErrorMsg& m);
std::string encode(const Put& m);
std::string encode(const Get& m);
std::string encode(const Entry& m);
std::string encode(const Want& m);
std::string encode(const FileEnd& m);
std::string encode(const Accept& m);
std::string encode(const Join& m);
std::string encode(const Retry& m);
std::string encode(const ResultMsg& m);

base::Result<Hello> decode_hello(std::span<const uint8_t> p);
base::Result<Challenge> decode_challenge(std::span<const uint8_t> p);
base::Result<Auth> decode_auth(std::span<const uint8_t> p);
base::Result<Welcome> decode_welcome(std::span<const uint8_t> p);
base::Result<ErrorMsg> decode_error(std::span<const uint8_t> p);
base::Result<Put> decode_put(std::span<const uint8_t> p);
base::Result<Get> decode_get(std::span<const uint8_t> p);
base::Result<Entry> decode_entry(std::span<const uint8_t> p);
base::Result<Want> decode_want(std::span<const uint8_t> p);
// Returns the header; the data is the rest of the payload after kDataPrefixSize.
base::Result<DataHeader> decode_data_header(std::span<const uint8_t> p);
void encode_data_header(uint8_t* prefix, const DataHeader& h);
base::Result<FileEnd> decode_file_end(std::span<const uint8_t> p);
base::Result<Accept> decode_accept(std::span<const uint8_t> p);
base::Result<Join> decode_join(std::span<const uint8_t> p);
base::Result<Retry> decode_retry(std::span<const uint8_t> p);
base::Result<ResultMsg> decode_result(std::span<const uint8_t> p);

}  // namespace ferry
