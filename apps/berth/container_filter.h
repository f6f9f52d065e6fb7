// docker ps --filter: KEY=VALUE words, values of one key OR'd, keys AND'd.
// Keys: id (a prefix), name (a part of it), label (KEY or KEY=VALUE),
// status (created, running, paused, exited), exited (a status code),
// ancestor (the image as named, or an id prefix), network (its name),
// health (starting, healthy, unhealthy, none), volume (a volume's name, or
// a mount's source or destination), publish (PORT[/PROTO]: a host port it
// publishes) and expose (one of its own ports, exposed or published); the
// last two, as docker's, for running containers only; before and since (a
// container: those made before or after it).
// An unknown key or status is an error naming it, as docker's.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "berth/container/container_record.h"

namespace berth_cli {

class ContainerFilter {
 public:
  static base::Result<ContainerFilter> parse(const std::vector<std::string>& words);
  // Finds the containers before= and since= name in the store at `root`
  // (an error naming a value that is none); call it before matches().
  base::Status resolve(const std::string& root);
  // Whether `c` passes; `paused` is its frozen state now, `health` its
  // health status ("none" without checks).
  bool matches(const berth::ContainerRecord& c, bool paused, const std::string& health) const;
  // A status filter lists containers that are not running without -a, as docker's.
  bool names_status() const { return by_key_.contains("status") || by_key_.contains("exited"); }

 private:
  std::map<std::string, std::vector<std::string>> by_key_;
};

}  // namespace berth_cli
