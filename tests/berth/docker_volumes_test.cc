// Named and anonymous volumes, -v and --mount, against docker's: the same
// words given to a private dockerd and to berth (side_by_side.h), on an
// image each built from the same Dockerfile by each one's own builder.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/berth/side_by_side.h"

namespace {

using bt::first_line;
using bt::SideBySide;
using bt::sorted_lines;
using e2e::ProcResult;

// "seeded": /data holds files owned by 1000 (mode 750), and /vol is a
// VOLUME with a file in it.
constexpr const char* kSeeded =
    "RUN mkdir -p /data/sub /vol && echo seed > /data/seed && echo deep > /data/sub/deep && "
    "chown -R 1000:1000 /data && chmod 750 /data && echo inimage > /vol/f\n"
    "VOLUME /vol\n";

struct Volumes : SideBySide {
  e2e::TempDir contexts;
  Volumes() {
    for (const auto& [who, from] :
         {std::pair{"berth", "localhost/box"}, std::pair{"docker", dockertest::kImage}}) {
      std::string dir = contexts.path() + "/" + who;
      std::filesystem::create_directories(dir);
      e2e::write_file(dir + "/Dockerfile", std::string("FROM ") + from + "\n" + kSeeded);
    }
    auto ours = berth.berth({"build", "-q", "-t", "seeded", contexts.path() + "/berth"});
    EXPECT_EQ(ours.exit_code, 0) << ours.err;
    auto theirs = docker.docker({"build", "-q", "-t", "seeded", contexts.path() + "/docker"});
    EXPECT_EQ(theirs.exit_code, 0) << theirs.err;
  }
};

const std::string kList =
    "cd /d && find . | sort | while read f; do stat -c '%n %u:%g %a' $f; done";

TEST(DockerVolumes, ANamedVolumeIsFilledFromTheImageOnceAndOutlivesItsContainers) {
  Volumes s;
  s.same({"volume", "create", "v1"});
  s.same({"volume", "create", "v1"});  // again: the same volume, no error
  s.same({"volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Scope}} {{.Options}}", "v1"});
  // The image's /data, owners and modes kept, the volume's top included.
  s.same({"run", "--rm", "-v", "v1:/d", "seeded", "sh", "-c", kList + "; echo more >> /d/seed"});
  // Not empty now: not filled again, and what was written stays.
  s.same({"run", "--rm", "-v", "v1:/data", "seeded", "cat", "/data/seed"});
  // nocopy, and --mount's forms.
  s.same({"run", "--rm", "-v", "v2:/d:nocopy", "seeded", "sh", "-c", kList});
  s.same(
      {"run", "--rm", "--mount", "type=volume,source=v3,target=/d", "seeded", "sh", "-c", kList});
  s.same({"run", "--rm", "--mount", "src=v4,dst=/d,volume-nocopy", "seeded", "sh", "-c", kList});
  s.same({"run", "--rm", "--mount", "type=volume,src=v1,dst=/d,readonly", "seeded", "sh", "-c",
          "cat /d/seed; touch /d/x 2>/dev/null || echo read-only"});
  s.same({"run", "--rm", "-v", "v1:/d:ro", "IMG", "sh", "-c",
          "touch /d/x 2>/dev/null || echo read-only"});
  // A volume in use is not removed, not even by prune; one no one uses is.
  s.both_succeed({"create", "--name", "holder", "-v", "v1:/d", "IMG", "true"});
  s.refused({"volume", "rm", "v1"}, 1, "volume is in use");
  EXPECT_NE(s.theirs({"volume", "rm", "v1"}).err.find("volume is in use"), std::string::npos);
  s.same({"volume", "ls", "-q", "--filter", "name=v"});
  // docker 23's prune: anonymous volumes only, unless -a (docker 20.10 here
  // prunes named ones without being asked).
  auto kept = s.ours({"volume", "prune", "-f"});
  EXPECT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_EQ(s.ours({"volume", "ls", "-q", "--filter", "name=v"}).out, "v1\nv2\nv3\nv4\n");
  auto ours_pruned = s.ours({"volume", "prune", "-f", "-a"});
  auto theirs_pruned = s.theirs({"volume", "prune", "-f"});
  EXPECT_EQ(ours_pruned.exit_code, 0) << ours_pruned.err;
  EXPECT_EQ(theirs_pruned.exit_code, 0) << theirs_pruned.err;
  s.same({"volume", "ls", "-q", "--filter", "name=v"});  // v1 alone
  s.same({"volume", "ls", "--filter", "dangling=false", "--format", "{{.Name}} {{.Driver}}"});
  s.same({"rm", "holder"});
  s.same({"volume", "rm", "v1"});
  s.same({"volume", "ls", "-q", "--filter", "name=v"});
  s.refused({"volume", "inspect", "v1"}, 1, "no such volume: v1");
}

TEST(DockerVolumes, AnonymousVolumesComeFromDashVAndVolumeAndGoWithTheirContainer) {
  Volumes s;
  auto count = [](const ProcResult& r) { return std::count(r.out.begin(), r.out.end(), '\n'); };
  // The image's VOLUME /vol: an anonymous volume filled from the image.
  s.same({"run", "--name", "ca", "seeded", "cat", "/vol/f"});
  s.same({"inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}}{{end}}", "ca"});
  EXPECT_EQ(count(s.ours({"volume", "ls", "-q"})), 1);
  // -v /path: another; rm -v takes both of a's and b's with them.
  s.same({"run", "--name", "cb", "-v", "/anon", "IMG", "ls", "/anon"});
  EXPECT_EQ(count(s.ours({"volume", "ls", "-q"})), 2);
  s.same({"rm", "-v", "ca", "cb"});
  EXPECT_EQ(count(s.ours({"volume", "ls", "-q"})), count(s.theirs({"volume", "ls", "-q"})));
  EXPECT_EQ(count(s.ours({"volume", "ls", "-q"})), 0);
  // --rm takes its anonymous volumes too, but never a named one.
  s.same({"run", "--rm", "-v", "/anon", "-v", "kept:/k", "seeded", "true"});
  s.same({"volume", "ls", "-q"});
  // A -v over the image's VOLUME replaces it: no anonymous one is made.
  s.same({"run", "--rm", "-v", "kept:/vol", "seeded", "ls", "/vol"});
  s.same({"volume", "ls", "-q"});
}

TEST(DockerVolumes, BadMountsAreRefusedAsDockerRefusesThem) {
  Volumes s;
  s.refused({"run", "--rm", "-v", "bad name:/x", "IMG", "true"}, 125, "not a volume name");
  s.refused({"run", "--rm", "-v", "../../etc:/x", "IMG", "true"}, 125, "not a volume name");
  s.refused({"run", "--rm", "-v", "v1:relative", "IMG", "true"}, 125, "absolute");
  s.refused({"run", "--rm", "-v", "v1:/", "IMG", "true"}, 125, "cannot be '/'");
  s.refused({"run", "--rm", "-v", "v1:/a", "-v", "v2:/a", "IMG", "true"}, 125,
            "duplicate mount point: /a");
  s.refused({"run", "--rm", "-v", "v1:/a:bogus", "IMG", "true"}, 125, "invalid mode: bogus");
  s.refused({"run", "--rm", "--mount", "type=bind,source=/no/such/dir,target=/x", "IMG", "true"},
            125, "bind source path does not exist: /no/such/dir");
  s.refused({"run", "--rm", "--mount", "type=volume,source=v1", "IMG", "true"}, 125,
            "target is required");
  s.refused({"run", "--rm", "--mount", "type=volume,src=v1,dst=/x,color=red", "IMG", "true"}, 125,
            "unexpected key 'color'");
  s.refused({"run", "--rm", "--mount", "type=bind,src=/tmp,dst=/x,volume-nocopy", "IMG", "true"},
            125, "volume-nocopy is for type=volume");
  // None of them made a volume (docker's daemon makes some before it refuses).
  EXPECT_EQ(s.ours({"volume", "ls", "-q"}).out, "");
  s.refused({"volume", "inspect", "../../etc"}, 1, "no such volume");
  s.refused({"volume", "rm", "nope"}, 1, "no such volume: nope");
  s.same({"volume", "rm", "-f", "nope"});
  // tmpfs through --mount: a tmpfs, its size and mode as asked.
  s.same({"run", "--rm", "--mount", "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770", "IMG",
          "sh", "-c",
          "stat -c %a /t; df -k /t | tail -1 | awk '{print $2}'; grep -c ' /t tmpfs' "
          "/proc/mounts"});
  // A bind through --mount, read-only.
  s.same({"run", "--rm", "--mount", "type=bind,src=/etc,dst=/h,ro", "IMG", "sh", "-c",
          "test -f /h/hostname && touch /h/x 2>/dev/null || echo read-only"});
}

}  // namespace
