#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "oci/config.h"

namespace oci {
namespace {
using nlohmann::json;

// A config in the shape `runc spec` writes, with a user namespace added.
json sample() {
  return json::parse(R"({
    "ociVersion": "1.0.2",
    "process": {
      "terminal": false,
      "user": {"uid": 0, "gid": 0, "umask": 18, "additionalGids": [5, 10]},
      "args": ["sh", "-c", "true"],
      "env": ["PATH=/usr/bin:/bin", "TERM=xterm"],
      "cwd": "/",
      "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                       "permitted": ["CAP_KILL"]},
      "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
      "noNewPrivileges": true,
      "oomScoreAdj": 100
    },
    "root": {"path": "rootfs", "readonly": true},
    "hostname": "box",
    "mounts": [
      {"destination": "/proc", "type": "proc", "source": "proc"},
      {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
       "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}
    ],
    "hooks": {"poststop": [{"path": "/bin/true", "args": ["true"], "timeout": 5}]},
    "annotations": {"org.example": "yes"},
    "linux": {
      "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "user"},
                     {"type": "network", "path": "/var/run/netns/x"}],
      "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
      "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
      "cgroupsPath": "/berth/x",
      "sysctl": {"net.ipv4.ip_forward": "1"},
      "maskedPaths": ["/proc/kcore"],
      "readonlyPaths": ["/proc/sys"],
      "rootfsPropagation": "rprivate",
      "resources": {"memory": {"limit": 1048576}}
    }
  })");
}

TEST(OciConfig, ParsesTheFieldsLinuxUses) {
  auto c = parse_config(sample());
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_TRUE(c->process);
  EXPECT_EQ(c->process->args, (std::vector<std::string>{"sh", "-c", "true"}));
  EXPECT_EQ(*c->process->user.umask, 18u);
  EXPECT_EQ(c->process->user.additional_gids, (std::vector<uint32_t>{5, 10}));
  EXPECT_EQ(c->process->rlimits.at(0).type, "RLIMIT_NOFILE");
  EXPECT_EQ(*c->process->oom_score_adj, 100);
  EXPECT_TRUE(c->process->no_new_privileges);
  EXPECT_EQ(c->root_path, "rootfs");
  EXPECT_TRUE(c->root_readonly);
  EXPECT_EQ(c->mounts.at(1).options.at(2), "mode=755");
  EXPECT_EQ(c->hooks.poststop.at(0).timeout, 5);
  ASSERT_TRUE(c->linux_section);
  EXPECT_EQ(c->linux_section->namespaces.at(3).path, "/var/run/netns/x");
  EXPECT_EQ(c->linux_section->uid_mappings.at(0).host_id, 100000u);
  EXPECT_EQ(c->linux_section->resources["memory"]["limit"], 1048576);
}

// Each broken config fails with a message that names the field.
TEST(OciConfig, ErrorsNameTheField) {
  struct Case {
    std::function<void(json&)> break_it;
    std::string field;
  };
  std::vector<Case> cases = {
      {[](json& j) { j.erase("ociVersion"); }, "ociVersion: required"},
      {[](json& j) { j["ociVersion"] = "2.0"; }, "ociVersion"},
      {[](json& j) { j.erase("root"); }, "root: required"},
      {[](json& j) { j["root"]["path"] = 7; }, "root.path: must be a string"},
      {[](json& j) { j["process"]["args"] = json::array(); }, "process.args"},
      {[](json& j) { j["process"]["args"][1] = 3; }, "process.args[1]: must be a string"},
      {[](json& j) { j["process"]["env"][0] = "NOEQUALS"; }, "process.env[0]"},
      {[](json& j) { j["process"]["cwd"] = "relative"; }, "process.cwd"},
      {[](json& j) { j["process"]["user"]["uid"] = -1; }, "process.user.uid"},
      {[](json& j) { j["process"]["user"]["umask"] = 4096; }, "process.user.umask"},
      {[](json& j) { j["process"]["rlimits"][0]["soft"] = 2048; }, "process.rlimits[0].soft"},
      {[](json& j) { j["process"]["rlimits"][0]["type"] = "NOFILE"; }, "process.rlimits[0].type"},
      {[](json& j) { j["process"]["oomScoreAdj"] = 5000; }, "process.oomScoreAdj"},
      {[](json& j) { j["mounts"][0]["destination"] = "proc"; }, "mounts[0].destination"},
      {[](json& j) { j["hooks"]["poststop"][0]["path"] = "true"; }, "hooks.poststop[0].path"},
      {[](json& j) { j["hooks"]["poststop"][0]["timeout"] = 0; }, "hooks.poststop[0].timeout"},
      {[](json& j) { j["linux"]["namespaces"][0]["type"] = "pidd"; }, "linux.namespaces[0].type"},
      {[](json& j) { j["linux"]["namespaces"][1]["type"] = "pid"; }, "given twice"},
      {[](json& j) { j["linux"]["uidMappings"][0]["size"] = 0; }, "linux.uidMappings[0].size"},
      {[](json& j) { j["linux"]["namespaces"].erase(2); }, "need a user namespace"},
      {[](json& j) { j["linux"]["rootfsPropagation"] = "sideways"; }, "linux.rootfsPropagation"},
      {[](json& j) { j["linux"]["sysctl"]["x"] = 1; }, "linux.sysctl.x"},
      {[](json& j) { j["annotations"] = json::array(); }, "annotations: must be an object"},
  };
  for (const auto& c : cases) {
    json j = sample();
    c.break_it(j);
    auto r = parse_config(j);
    ASSERT_FALSE(r) << "accepted a config broken at " << c.field;
    EXPECT_NE(r.error().message().find(c.field), std::string::npos)
        << "message '" << r.error().message() << "' does not name " << c.field;
  }
}

TEST(OciConfig, NonObjectsAndMissingFilesAreErrors) {
  EXPECT_FALSE(parse_config(json::array()));
  EXPECT_FALSE(parse_config(json("text")));
  auto missing = load_config("/nonexistent/config.json");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("/nonexistent/config.json"), std::string::npos);
}

}  // namespace
}  // namespace oci
