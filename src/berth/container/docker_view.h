// A container as `docker inspect` shows one: docker's schema (Engine API
// ContainerJSON) built from berth's record, so `inspect -f` templates
// written for docker read the same fields here.
//   - docker_config() and docker_host_config() are made once, at create,
//     from the run options and the image's config, and kept in the record;
//   - docker_inspect() adds what changes: State, NetworkSettings, Mounts,
//     GraphDriver, the paths of the container's files.
// berth's own fields that docker has no place for are under "Berth".
// Thread-safety: pure functions, but for docker_inspect()'s reading of
// the network's definition.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "berth/container/container_record.h"
#include "berth/container/container_spec.h"

namespace berth {

// Config: Hostname, Domainname, User, Attach*, ExposedPorts, Tty,
// OpenStdin, StdinOnce, Env, Cmd, Image, WorkingDir, Entrypoint, Labels,
// StopSignal, StopTimeout. `spec` is the container's OCI config.
nlohmann::json docker_config(const RunOptions& o, const nlohmann::json& image_config,
                             const nlohmann::json& spec);

// HostConfig: Binds, NetworkMode, PortBindings, RestartPolicy, AutoRemove,
// CapAdd/CapDrop, Dns*, ExtraHosts, GroupAdd, namespace modes, Privileged,
// PublishAllPorts, ReadonlyRootfs, SecurityOpt, Tmpfs, ShmSize, resources,
// Ulimits, Sysctls, Devices. `ports` is the record's planned ports.
nlohmann::json docker_host_config(const RunOptions& o, const nlohmann::json& ports);

// The whole object for one container; `dir` is its directory; `paused`:
// the runtime has it frozen.
nlohmann::json docker_inspect(const Paths& p, const ContainerRecord& rec, const std::string& dir,
                              bool paused);

}  // namespace berth
