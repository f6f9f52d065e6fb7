// What a download asked for, and the check of every entry the server then
// announces against it. A client trusts no server (scp's CVE-2019-6111): the
// first component of an entry path must be the name of a requested source,
// each requested name may be announced at the top once, without RECURSIVE
// only top-level files and symlinks may come, and an entry below the top must
// lie in a directory announced before it. Anything else ends the transfer
// with an error naming the entry. Afterwards, missing() lists the requested
// sources the server sent nothing for, so a download of a missing path is
// never reported as a success.
// Thread-safety: none; the receiver calls it under its own lock.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "ferry/messages.h"

namespace ferry {

class RequestedTree {
 public:
  // `paths` as sent in GET; `shown` the same sources as the user typed them.
  static base::Result<RequestedTree> from_request(const std::vector<std::string>& paths,
                                                  const std::vector<std::string>& shown,
                                                  bool recursive);
  // The name a server sends a requested path under: its last component, or
  // "served" for the served directory itself.
  static base::Result<std::string> announced_name(const std::string& request_path);

  base::Status admit(const Entry& e);
  // Sources (as shown) that no top-level entry answered.
  std::vector<std::string> missing() const;

 private:
  bool recursive_ = false;
  std::map<std::string, std::string> wanted_;  // announced name -> shown source
  std::set<std::string> arrived_;              // top-level names announced
  std::set<std::string> dirs_;                 // directory paths announced
};

}  // namespace ferry
