#include "ferry/content_hash.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/sys.h"
#include "ferry/frame.h"

namespace ferry {

base::Result<ContentHasher> ContentHasher::make() {
  XXH3_state_t* s = XXH3_createState();
  if (!s) return base::fail_msg("out of memory for a content hash");
  XXH3_128bits_reset(s);
  return ContentHasher(s);
}

void ContentHasher::update(const uint8_t* p, size_t n) {
  XXH3_128bits_update(state_.get(), p, n);
}

ContentHash ContentHasher::digest() const {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits_digest(state_.get()));
  ContentHash h;
  std::memcpy(h.data(), c.digest, h.size());
  return h;
}

base::Result<ContentHash> hash_file(int fd, uint64_t limit, const std::string& shown) {
  ContentHasher hasher = TRY(ContentHasher::make());
  std::vector<uint8_t> buf(kChunkSize);
  uint64_t done = 0;
  while (done < limit) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), limit - done));
    size_t n = TRY(base::sys::pread(fd, buf.data(), want, static_cast<off_t>(done), shown));
    if (n == 0) break;
    hasher.update(buf.data(), n);
    done += n;
  }
  return hasher.digest();
}

}  // namespace ferry
