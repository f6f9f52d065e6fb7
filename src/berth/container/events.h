// docker's events, from a journal berth keeps: <root>/events.jsonl, one
// JSON object a line in docker's shape ({"Type", "Action", "Actor": {"ID",
// "Attributes"}, "scope", "time", "timeNano"}, and for containers the
// older "status", "id", "from"). Each line is one O_APPEND write, so lines
// of several berth processes never mix. At 16 MiB the journal is renamed
// to events.jsonl.1 (the one before is dropped), so it never grows
// without bound; readers read the old one first.
// Recording never fails a command: an event that cannot be written is lost.
// Thread-safety: safe across processes (appends).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "berth/container/container_record.h"

namespace berth {

// Appends one event: `type` ("container", "volume", "image"), `action`
// ("create", "start", "die" ...), the object's id and its attributes
// (name, image, exitCode ...).
void record_event(const std::string& root, const std::string& type, const std::string& action,
                  const std::string& id, const std::map<std::string, std::string>& attributes);

// A container's event, with docker's attributes: its labels, its image
// and name, and `more` (exitCode, signal ...), later ones winning.
void record_container_event(const std::string& root, const ContainerRecord& rec,
                            const std::string& action,
                            const std::map<std::string, std::string>& more = {});

// Where a reader is in the journal.
struct EventCursor {
  bool started = false;  // false: the rotated journal is read first, whole
  uint64_t offset = 0;   // bytes of the journal read (complete lines only)
};

// The events after `cursor`, which moves past them. A journal rotated
// since the last read is finished (in its rotated file) before the new
// one is read from its start: no event twice, none missed.
std::vector<nlohmann::json> read_events(const std::string& root, EventCursor& cursor);

// docker's one-line form: "2026-12-07T10:00:00.000000000Z container create
// ID (image=busybox, name=web)".
std::string event_line(const nlohmann::json& event);

}  // namespace berth
