// berth's packet filtering and NAT: one nftables table per berth root
// (`ip berth` for the default root; see HostNames), owned by that root and
// rewritten whole from the on-disk networks and attachments in one
// atomic transaction (libnftables, loaded on first use). Other tables are
// never touched. The table holds:
//   - masquerade for each network's subnet leaving by another device;
//   - DNAT of each published port, for traffic arriving from outside
//     (prerouting) and from the host itself (output; 127.0.0.1 included,
//     with route_localnet on the bridge and a masquerade back);
//   - drops between the bridges of different networks (isolation).
// With no networks left the table is deleted. The text last applied is kept
// in the run root (tmpfs: gone after a reboot, as the table is); a sync that
// would apply the same text again does nothing, so containers without
// published ports cost no nftables call (libnftables takes ~20 ms to load).
// Thread-safety: safe across processes (a lock file serializes syncs).
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "berth/network/networks.h"

namespace berth {

// The text of table `table` for these networks and their attachments.
std::string render_firewall(const std::string& table, const std::vector<Network>& networks,
                            const std::vector<Attachment>& attachments);
// Rewrites the table from what `networks` holds now; `state_dir` holds the
// lock and the text last applied.
base::Status sync_firewall(Networks& networks, const std::string& state_dir);

}  // namespace berth
