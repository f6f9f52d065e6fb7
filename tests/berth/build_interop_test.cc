// An image made by `berth build`, saved with `berth save`, is loaded by tools
// nobody here wrote, a private dockerd (Debian's docker.io, its own runc) and
// podman (private storage, runc), and runs there with the output it has under
// berth and the config berth wrote: Env, Cmd, Entrypoint, ExposedPorts, User,
// WorkingDir, and for docker Labels and StopSignal too.
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/berth/berth_harness.h"
#include "tests/oci/docker_harness.h"
#include "tests/oci/podman_harness.h"

namespace {
namespace fs = std::filesystem;
using nlohmann::json;

const char* kImage = "localhost/interop:1";

// Every instruction that shapes the config, and a user that only the image's
// own /etc/passwd names, so each engine must read the layers to run it.
const char* kDockerfile = R"(FROM localhost/box AS base
ENV GREETING="hello there" \
    PATH=/usr/local/bin:/usr/bin:/bin
RUN mkdir -p /srv/app && echo "built by berth" > /srv/app/stamp && \
    echo "app:x:1234:1234::/srv/app:/bin/sh" >> /etc/passwd && \
    busybox chown -R app /srv/app
COPY greet.sh /usr/local/bin/greet

FROM base
USER app
WORKDIR /srv/app
EXPOSE 8080 53/udp
LABEL org.example.kind="interop test"
STOPSIGNAL SIGINT
ENTRYPOINT ["/bin/sh", "/usr/local/bin/greet"]
CMD ["one", "two words"]
)";

const char* kGreet = R"sh(echo "$GREETING from $(id -u) in $(pwd): $(cat stamp)"
for a in "$@"; do echo "arg <$a>"; done
)sh";

json config_field(const json& config, const char* name) {
  return config.contains(name) ? config[name] : json();
}

// The fields docker inspect and podman image inspect show, as berth wrote them.
void expect_same_config(const json& theirs, const json& ours, const std::vector<const char*>& names,
                        const std::string& who) {
  for (const char* n : names)
    EXPECT_EQ(config_field(theirs, n), config_field(ours, n)) << who << ": " << n;
}

TEST(BuildInterop, DockerAndPodmanRunABuiltImageWithItsConfig) {
  bt::Engine e{true, /*own_netns=*/false};
  e2e::TempDir t;
  fs::create_directories(t / "ctx");
  e2e::write_file(t / "ctx/Dockerfile", kDockerfile);
  e2e::write_file(t / "ctx/greet.sh", kGreet);
  auto built = e.berth({"build", "-q", "-t", kImage, t / "ctx"});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  auto ours_run = e.berth({"run", "--rm", "--network", "none", kImage});
  ASSERT_EQ(ours_run.exit_code, 0) << ours_run.err;
  const std::string expected =
      "hello there from 1234 in /srv/app: built by berth\narg <one>\narg <two words>\n";
  ASSERT_EQ(ours_run.out, expected);
  auto inspected = e.berth({"inspect", kImage});
  ASSERT_EQ(inspected.exit_code, 0) << inspected.err;
  json ours = json::parse(inspected.out)[0]["Config"];
  std::string archive = t / "image.tar";
  auto saved = e.berth({"save", "-o", archive, kImage});
  ASSERT_EQ(saved.exit_code, 0) << saved.err;

  {
    dockertest::Dockerd d;
    ASSERT_TRUE(d.ready()) << d.log();
    auto load = d.docker({"load", "-i", archive});
    ASSERT_EQ(load.exit_code, 0) << load.err;
    EXPECT_NE(load.out.find(kImage), std::string::npos) << load.out;
    auto run = d.docker({"run", "--rm", "--network", "none", kImage});
    EXPECT_EQ(run.exit_code, 0) << run.err << d.log();
    EXPECT_EQ(run.out, expected);
    auto inspect = d.docker({"image", "inspect", kImage});
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    json theirs = json::parse(inspect.out, nullptr, false)[0]["Config"];
    expect_same_config(
        theirs, ours,
        {"Env", "Cmd", "Entrypoint", "ExposedPorts", "User", "WorkingDir", "Labels", "StopSignal"},
        "docker");
  }
  {
    ocitest::Podman p("runc");  // crun refuses hybrid cgroups
    auto load = p.run({"load", "-i", archive});
    ASSERT_EQ(load.exit_code, 0) << load.err;
    // No CAP_SYS_RESOURCE on this machine: podman's default limits exceed ours.
    auto run = p.run({"run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024",
                      "--ulimit", "nproc=1000:1000", kImage});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.out, expected);
    auto inspect = p.run({"image", "inspect", kImage});
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    json theirs = json::parse(inspect.out, nullptr, false)[0]["Config"];
    expect_same_config(
        theirs, ours, {"Env", "Cmd", "Entrypoint", "ExposedPorts", "User", "WorkingDir"}, "podman");
  }
}

}  // namespace
