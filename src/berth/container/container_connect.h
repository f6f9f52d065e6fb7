// `network connect` and `network disconnect`: a container's networks
// beyond the one it was started on. The record's network gains or loses
// the name in its "connected" list, so every later start wires it too
// (container_network.h); a running container gets or loses the interface
// at once. As docker: only a container on a bridge network can be
// connected (not --network none, host or container:ID), and connecting
// twice or disconnecting what is not connected is an error.
// Differs: the network a container was started on cannot be disconnected.
// Thread-safety: under the container's lock.
#pragma once

#include <string>

#include "base/error.h"
#include "berth/container/container_record.h"

namespace berth {

base::Status connect_container(const Paths& p, const std::string& network,
                               const std::string& id_or_name);
base::Status disconnect_container(const Paths& p, const std::string& network,
                                  const std::string& id_or_name);

}  // namespace berth
