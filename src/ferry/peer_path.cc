#include "ferry/peer_path.h"

#include "base/printable.h"

#include <vector>

#include <fmt/format.h>

namespace ferry {

std::string printable(std::string_view s, size_t max) {
  return base::printable(s, max);
}

base::Status check_entry_path(std::string_view path) {
  auto bad = [&](std::string_view why) {
    return base::fail_msg(fmt::format("refused path '{}' from peer: {}", printable(path), why));
  };
  if (path.empty()) return bad("empty");
  if (path.size() > kMaxPathBytes) return bad("too long");
  if (path.find('\0') != std::string_view::npos) return bad("contains a NUL byte");
  if (path.front() == '/') return bad("absolute");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view comp = path.substr(start, end - start);
    if (comp.empty()) return bad("empty component");
    if (comp == ".") return bad("'.' component");
    if (comp == "..") return bad("'..' component");
    if (comp.size() > kMaxNameBytes) return bad("component longer than 255 bytes");
    start = end + 1;
  }
  return {};
}

base::Result<std::string> normalize_request_path(std::string_view path) {
  if (path.size() > kMaxPathBytes) return base::fail_msg("requested path is too long");
  if (path.find('\0') != std::string_view::npos)
    return base::fail_msg("requested path contains a NUL byte");
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view comp = path.substr(start, end - start);
    if (comp == "..")
      return base::fail_msg(
          fmt::format("requested path '{}' leaves the served directory", printable(path)));
    if (!comp.empty() && comp != ".") {
      if (!out.empty()) out += '/';
      out += comp;
    }
    start = end + 1;
  }
  return out.empty() ? std::string(".") : out;
}

base::Result<std::string> join_within(std::string_view base, std::string_view rel) {
  if (!rel.empty() && rel.front() == '/')
    return base::fail_msg(
        fmt::format("'{}' is absolute, not relative to the target", printable(rel)));
  std::vector<std::string_view> parts;
  for (std::string_view whole : {base, rel}) {
    size_t start = 0;
    while (start <= whole.size()) {
      size_t end = whole.find('/', start);
      if (end == std::string_view::npos) end = whole.size();
      std::string_view comp = whole.substr(start, end - start);
      if (comp == "..") {
        if (parts.empty())
          return base::fail_msg(fmt::format("'{}' leaves the served directory", printable(rel)));
        parts.pop_back();
      } else if (!comp.empty() && comp != ".") {
        parts.push_back(comp);
      }
      start = end + 1;
    }
  }
  std::string out;
  for (auto p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

SourcePlace source_place(std::string_view path) {
  bool absolute = !path.empty() && path.front() == '/';
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view comp = path.substr(start, end - start);
    if (!comp.empty() && comp != ".") parts.push_back(comp);
    start = end + 1;
  }
  auto join = [&](size_t n) {
    std::string out = absolute ? "/" : "";
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) out += '/';
      out += parts[i];
    }
    return out.empty() ? std::string(".") : out;
  };
  if (parts.empty() || parts.back() == "..") return {join(parts.size()), "."};
  return {join(parts.size() - 1), std::string(parts.back())};
}

std::string announced_name(std::string_view path) {
  SourcePlace p = source_place(path);
  return p.name == "." ? "served" : p.name;
}

std::pair<std::string, std::string> split_parent(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {"", std::string(path)};
  return {std::string(path.substr(0, slash)), std::string(path.substr(slash + 1))};
}

}  // namespace ferry
