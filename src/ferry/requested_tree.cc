#include "ferry/requested_tree.h"

#include <fmt/format.h>

#include "ferry/peer_path.h"

namespace ferry {
namespace {

base::Error refused(const Entry& e, const std::string& why) {
  return base::Error::msg(
      fmt::format("the server sent '{}', which was not asked for ({}); transfer refused",
                  printable(e.path), why));
}

}  // namespace

base::Result<std::string> RequestedTree::announced_name(const std::string& request_path) {
  if (request_path.size() > kMaxPathBytes || request_path.find('\0') != std::string::npos)
    return base::fail_msg(fmt::format("'{}' is not a path to ask for", printable(request_path)));
  return ferry::announced_name(request_path);
}

base::Result<RequestedTree> RequestedTree::from_request(const std::vector<std::string>& paths,
                                                        const std::vector<std::string>& shown,
                                                        bool recursive) {
  RequestedTree t;
  t.recursive_ = recursive;
  for (size_t i = 0; i < paths.size(); ++i)
    t.wanted_.emplace(TRY(announced_name(paths[i])), i < shown.size() ? shown[i] : paths[i]);
  return t;
}

base::Status RequestedTree::admit(const Entry& e) {
  TRY_STATUS(check_entry_path(e.path));
  auto [parent, leaf] = split_parent(e.path);
  std::string top = e.path.substr(0, e.path.find('/'));
  if (!wanted_.count(top)) return base::fail(refused(e, "no requested source has that name"));
  if (parent.empty()) {
    if (!arrived_.insert(top).second) return base::fail(refused(e, "announced a second time"));
    if (e.kind == EntryKind::kDir && !recursive_)
      return base::fail(refused(e, "a directory, and -r was not given"));
  } else {
    if (!recursive_) return base::fail(refused(e, "inside a directory, and -r was not given"));
    if (!dirs_.count(parent))
      return base::fail(refused(e, "its directory was not announced before it"));
  }
  if (e.kind == EntryKind::kDir) dirs_.insert(e.path);
  return {};
}

std::vector<std::string> RequestedTree::missing() const {
  std::vector<std::string> out;
  for (const auto& [name, shown] : wanted_)
    if (!arrived_.count(name)) out.push_back(shown);
  return out;
}

}  // namespace ferry
