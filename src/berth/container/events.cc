#include "berth/container/events.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <chrono>

#include <fmt/format.h>

#include "base/sys.h"
#include "base/text_file.h"

namespace berth {
namespace {

constexpr uint64_t kRotateAt = uint64_t{16} << 20;

std::string journal(const std::string& root) {
  return root + "/events.jsonl";
}

// The complete lines of `text` as events; damaged lines are skipped.
void parse_lines(const std::string& text, std::vector<nlohmann::json>& out) {
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    auto j = nlohmann::json::parse(text.substr(start, nl - start), nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
}

}  // namespace

void record_event(const std::string& root, const std::string& type, const std::string& action,
                  const std::string& id, const std::map<std::string, std::string>& attributes) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  nlohmann::json e = {{"Type", type},
                      {"Action", action},
                      {"Actor", {{"ID", id}, {"Attributes", attributes}}},
                      {"scope", "local"},
                      {"time", nanos / 1'000'000'000},
                      {"timeNano", nanos}};
  if (type == "container") {
    e["status"] = action;
    e["id"] = id;
    if (auto it = attributes.find("image"); it != attributes.end()) e["from"] = it->second;
  }
  std::string line = e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  auto fd = base::sys::open(journal(root), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0600);
  if (!fd) return;
  if (auto st = base::sys::fstat(fd->get()); st && static_cast<uint64_t>(st->st_size) > kRotateAt)
    (void)base::sys::renameat(AT_FDCWD, journal(root), AT_FDCWD, journal(root) + ".1");
  (void)base::sys::write_all(fd->get(), line.data(), line.size());
}

void record_container_event(const std::string& root, const ContainerRecord& rec,
                            const std::string& action,
                            const std::map<std::string, std::string>& more) {
  std::map<std::string, std::string> attributes = rec.labels;
  attributes["image"] = rec.image;
  attributes["name"] = rec.name;
  for (const auto& [k, v] : more) attributes[k] = v;
  record_event(root, "container", action, rec.id, attributes);
}

std::vector<nlohmann::json> read_events(const std::string& root, EventCursor& cursor) {
  std::vector<nlohmann::json> out;
  auto fd = base::sys::open(journal(root), O_RDONLY | O_NOFOLLOW);
  uint64_t size = 0;
  if (fd)
    if (auto st = base::sys::fstat(fd->get())) size = static_cast<uint64_t>(st->st_size);
  if (!cursor.started || size < cursor.offset) {
    // The rotated journal: whole on a first read, else what came after the
    // last read of it (it was the journal then).
    uint64_t from = cursor.started ? cursor.offset : 0;
    if (auto old = base::read_text_capped(journal(root) + ".1", kRotateAt * 2);
        old && from < old->size())
      parse_lines(old->substr(from), out);
    cursor = {true, 0};
  }
  if (!fd || size == cursor.offset) return out;
  std::string text(size - cursor.offset, '\0');
  auto n = base::sys::pread(fd->get(), text.data(), text.size(), static_cast<off_t>(cursor.offset));
  if (!n) return out;
  text.resize(*n);
  size_t complete = text.rfind('\n');
  if (complete == std::string::npos) return out;
  text.resize(complete + 1);
  cursor.offset += text.size();
  parse_lines(text, out);
  return out;
}

std::string event_line(const nlohmann::json& e) {
  int64_t nanos = e.value("timeNano", int64_t{0});
  time_t secs = static_cast<time_t>(nanos / 1'000'000'000);
  struct tm tm {};
  ::gmtime_r(&secs, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string attributes;
  auto actor = e.value("Actor", nlohmann::json::object());
  auto attribute_map = actor.value("Attributes", nlohmann::json::object());
  for (const auto& [k, v] : attribute_map.items())
    attributes += fmt::format("{}{}={}", attributes.empty() ? "" : ", ", k,
                              v.is_string() ? v.get<std::string>() : v.dump());
  return fmt::format("{}.{:09}Z {} {} {}{}", when, nanos % 1'000'000'000, e.value("Type", ""),
                     e.value("Action", ""), actor.value("ID", ""),
                     attributes.empty() ? "" : " (" + attributes + ")");
}

}  // namespace berth
