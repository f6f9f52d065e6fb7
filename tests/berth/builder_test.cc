// `berth build` on the real binary, with busybox (localhost/box) as the
// base: a two-stage build whose result runs, a C program compiled in a stage
// whose compiler image needed no network, ADD of local archives (and hostile
// ones), the cache hit at every step
// and missed from a changed step on, .dockerignore, ARG/ENV expansion, USER
// and WORKDIR in RUN and in the result, a failing RUN that leaves nothing,
// and hostile input, each a one-line error naming it.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/berth/berth_harness.h"

namespace {
namespace fs = std::filesystem;
using bt::Engine;
using nlohmann::json;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class BerthBuild : public testing::Test {
 protected:
  Engine e{true, /*own_netns=*/false};
  e2e::TempDir t;
  std::string ctx() const { return t / "ctx"; }
  void write(const std::string& rel, const std::string& text) {
    fs::create_directories(fs::path(ctx() + "/" + rel).parent_path());
    e2e::write_file(ctx() + "/" + rel, text);
  }
  e2e::ProcResult build(std::vector<std::string> args) {
    std::vector<std::string> argv = {"build"};
    argv.insert(argv.end(), args.begin(), args.end());
    return e.berth(argv);
  }
  // `berth build -t TAG -` with the file `dockerfile` on standard input.
  e2e::ProcResult build_from_stdin(const std::string& dockerfile, const std::string& tag) {
    return e2e::Process(
               {"/bin/sh", "-c",
                fmt::format("exec {} < {}", fmt::join(e.command({"build", "-t", tag, "-"}), " "),
                            dockerfile)})
        .wait(std::chrono::seconds(120));
  }
  std::string run(const std::string& image, std::vector<std::string> command) {
    std::vector<std::string> argv = {"run", "--rm", "--network", "none", image};
    argv.insert(argv.end(), command.begin(), command.end());
    auto r = e.berth(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  json config_of(const std::string& image) {
    auto r = e.berth({"inspect", image});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false)[0]["Config"];
  }
  // Nothing of a build stays mounted or in <root>/build.
  void expect_no_build_leftovers() {
    std::string mounts = e2e::read_file("/proc/self/mountinfo");
    EXPECT_EQ(mounts.find(e.store("build")), std::string::npos) << mounts;
    if (fs::exists(e.store("build"))) {
      EXPECT_TRUE(fs::is_empty(e.store("build"))) << "step directories left in build/";
    }
  }
};

const char* kTwoStages = R"(# a comment
ARG BASE=localhost/box
FROM ${BASE} AS builder
ARG GREETING=hello
ENV APP_DIR=/opt/app \
    MODE="two words"
WORKDIR $APP_DIR
COPY src/ ./src/
RUN cat src/greeting.txt > made.txt && echo "$GREETING $MODE" >> made.txt

FROM localhost/box
COPY --from=builder /opt/app/made.txt /srv/made.txt
COPY --chown=1234 top.txt /srv/
RUN echo "app:x:1234:1234::/home/app:/bin/sh" >> /etc/passwd && \
    busybox mkdir -p /home/app/work && busybox chown app /home/app/work
USER app
WORKDIR /home/app/work
RUN id -u > uid.txt && pwd > pwd.txt
EXPOSE 8080 53/udp 9000-9002/tcp
LABEL org.example.kind="test image"
CMD ["cat", "/srv/made.txt"]
)";

TEST_F(BerthBuild, TwoStagesBuildAnImageThatRunsWithItsConfig) {
  write("Dockerfile", kTwoStages);
  write("src/greeting.txt", "from the context\n");
  write("top.txt", "top\n");
  auto r = build({"-t", "localhost/built:1", "--build-arg", "GREETING=hi", ctx()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("sha256:", 0), 0u) << r.out;
  EXPECT_EQ(run("localhost/built:1", {}), "from the context\nhi two words\n");
  EXPECT_EQ(run("localhost/built:1",
                {"cat", "/srv/top.txt", "/home/app/work/uid.txt", "/home/app/work/pwd.txt"}),
            "top\n1234\n/home/app/work\n");
  // --chown with a user alone: its number is the group too, as docker's.
  EXPECT_EQ(run("localhost/built:1", {"busybox", "stat", "-c", "%u:%g", "/srv/top.txt"}),
            "1234:1234\n");
  json c = config_of("localhost/built:1");
  EXPECT_EQ(c["User"], "app");
  EXPECT_EQ(c["WorkingDir"], "/home/app/work");
  EXPECT_EQ(c["Cmd"], json({"cat", "/srv/made.txt"}));
  EXPECT_TRUE(c["ExposedPorts"].contains("8080/tcp")) << c.dump();
  EXPECT_TRUE(c["ExposedPorts"].contains("53/udp")) << c.dump();
  for (const char* p : {"9000/tcp", "9001/tcp", "9002/tcp"})
    EXPECT_TRUE(c["ExposedPorts"].contains(p)) << c.dump();
  EXPECT_EQ(c["ExposedPorts"].size(), 5u) << c.dump();
  EXPECT_EQ(c["Labels"]["org.example.kind"], "test image");
  // The builder stage's ENV stays in that stage.
  std::string env = c["Env"].dump();
  EXPECT_EQ(env.find("APP_DIR"), std::string::npos) << env;
  auto history = e.berth({"history", "localhost/built:1"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("COPY top.txt /srv/"), std::string::npos) << history.out;
  expect_no_build_leftovers();
}

TEST_F(BerthBuild, ARebuildHitsTheCacheAndAChangeMissesFromItsStepOn) {
  write("Dockerfile", kTwoStages);
  write("src/greeting.txt", "one\n");
  write("top.txt", "top\n");
  auto first = build({"-t", "localhost/cached", ctx()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(count(first.err, " CACHED"), 0u) << first.err;
  // 8 layer steps: WORKDIR, COPY, RUN in the builder; COPY, COPY, RUN,
  // WORKDIR, RUN in the final stage.
  size_t layer_steps = count(first.err, " DONE ");
  EXPECT_EQ(layer_steps, 8u) << first.err;
  auto again = build({"-t", "localhost/cached", ctx()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(count(again.err, " CACHED"), layer_steps) << again.err;
  EXPECT_EQ(count(again.err, " DONE "), 0u) << again.err;
  EXPECT_EQ(again.out, first.out) << "the same steps make the same image";
  // top.txt feeds the final stage's first COPY of the context: the builder
  // stage and the COPY --from before it hit; that step and all after miss.
  write("top.txt", "changed\n");
  auto changed = build({"-t", "localhost/cached", ctx()});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(count(changed.err, " CACHED"), 4u) << changed.err;
  EXPECT_EQ(count(changed.err, " DONE "), 4u) << changed.err;
  EXPECT_EQ(run("localhost/cached", {"cat", "/srv/top.txt"}), "changed\n");
  // --no-cache runs every step.
  auto fresh = build({"--no-cache", "-t", "localhost/cached", ctx()});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(count(fresh.err, " CACHED"), 0u) << fresh.err;
}

// A compiler image made here with no network (this host's gcc, binutils and
// libc packages, by fixtures/make_compiler_root.sh, then `berth import`)
// compiles a C program in one stage; the final stage is busybox with only
// the program added.
TEST_F(BerthBuild, ACompilerStageBuildsACProgramForABusyboxStage) {
  std::string root = t / "cc-root";
  auto made = e2e::Process({"/bin/sh", BERTH_TEST_FIXTURES "/make_compiler_root.sh", root})
                  .wait(std::chrono::seconds(300));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto tar = e2e::Process({"/bin/tar", "-C", root, "-cf", t / "cc-root.tar", "."})
                 .wait(std::chrono::seconds(300));
  ASSERT_EQ(tar.exit_code, 0) << tar.err;
  auto imported = e.berth({"import", t / "cc-root.tar", "localhost/cc"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;

  write("hello.c",
        "#include <stdio.h>\n"
        "int main(int argc, char** argv) {\n"
        "  printf(\"%s, %s\\n\", GREETING, argc > 1 ? argv[1] : \"nobody\");\n"
        "  return 0;\n"
        "}\n");
  write("Dockerfile", R"(FROM localhost/cc AS compile
WORKDIR /src
COPY hello.c .
ARG GREETING=hello
RUN gcc -static -O2 -DGREETING="\"$GREETING\"" -o hello hello.c && ./hello compiler

FROM localhost/box
COPY --from=compile /src/hello /usr/local/bin/hello
CMD ["/usr/local/bin/hello", "world"]
)");
  auto r = build({"-t", "localhost/hello-c", "--build-arg", "GREETING=hi", ctx()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The RUN's own output, in the build's progress.
  EXPECT_NE(r.err.find("hi, compiler"), std::string::npos) << r.err;
  EXPECT_EQ(run("localhost/hello-c", {}), "hi, world\n");
  EXPECT_EQ(run("localhost/hello-c", {"sh", "-c", "test -e /usr/bin/gcc && echo gcc || echo none"}),
            "none\n");
  expect_no_build_leftovers();
}

// ADD unpacks a local tar archive, plain or compressed, into a directory;
// a compressed file that is no tar, and an empty file, are copied as they
// are. A hostile archive is a one-line error naming the entry, and writes
// nothing outside the destination.
TEST_F(BerthBuild, AddUnpacksLocalArchivesAndRefusesHostileEntries) {
  write("tree/sub/a.txt", "hello\n");
  ASSERT_EQ(::symlink("sub/a.txt", (ctx() + "/tree/link").c_str()), 0);
  write("empty.tar", "");
  auto sh = [&](const std::string& command) {
    auto r = e2e::Process({"/bin/sh", "-c", fmt::format("cd '{}' && {}", ctx(), command)}).wait();
    ASSERT_EQ(r.exit_code, 0) << command << ": " << r.err;
  };
  sh("tar -czf t.tgz tree && tar -cJf t.txz tree && tar -cf t.tar tree && "
     "echo plain | gzip > notar.gz");
  write(
      "Dockerfile",
      "FROM localhost/box\nADD t.tgz /gz\nADD t.txz /xz/\nADD t.tar notar.gz empty.tar /multi/\n");
  auto r = build({"-t", "localhost/added", ctx()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run("localhost/added", {"sh", "-c",
                                    "cat /gz/tree/sub/a.txt /xz/tree/link /multi/tree/sub/a.txt && "
                                    "gzip -dc /multi/notar.gz && wc -c < /multi/empty.tar"}),
            "hello\nhello\nhello\nplain\n0\n");

  // Hostile archives, made with Python's tarfile (names GNU tar would not write).
  auto hostile = [&](const std::string& name, const std::string& entries) {
    sh(fmt::format(
        "python3 -c 'import tarfile, io\n"
        "with tarfile.open(\"{}\", \"w\") as t:\n"
        "  for name, kind, arg in [{}]:\n"
        "    i = tarfile.TarInfo(name)\n"
        "    if kind == \"file\": i.size = len(arg); t.addfile(i, io.BytesIO(arg.encode()))\n"
        "    else: i.type = kind == \"sym\" and tarfile.SYMTYPE or tarfile.LNKTYPE; "
        "i.linkname = arg; t.addfile(i)'",
        name, entries));
  };
  hostile("dotdot.tar", R"(("../evil", "file", "x"))");
  hostile("abs.tar", R"(("/etc/evil", "file", "x"))");
  hostile("wh.tar", R"(("d/.wh.passwd", "file", ""))");
  hostile("hard.tar", R"(("h", "hard", "../../etc/passwd"))");
  hostile("whdir.tar", R"(("d/.wh.passwd/x", "file", ""))");
  hostile("through.tar", R"(("esc", "sym", "/etc"), ("esc/passwd", "file", "owned\n"))");
  for (auto [archive, expected] : std::vector<std::pair<std::string, std::string>>{
           {"dotdot.tar", "dotdot.tar: entry '../evil' climbs out of the archive"},
           {"abs.tar", "abs.tar: entry '/etc/evil' has an absolute path"},
           {"wh.tar", "entry 'd/.wh.passwd': a name starting with .wh. would read as a whiteout"},
           {"whdir.tar", "entry 'd/.wh.passwd/x': a name starting with .wh. would read as"},
           {"hard.tar", "entry '../../etc/passwd' climbs out of the archive"}}) {
    write("Dockerfile", fmt::format("FROM localhost/box\nADD {} /dest/\n", archive));
    auto bad = build({"-t", "localhost/hostile", ctx()});
    EXPECT_NE(bad.exit_code, 0) << archive;
    EXPECT_EQ(count(bad.err, "berth: "), 1u) << bad.err;
    EXPECT_NE(bad.err.find(expected), std::string::npos) << bad.err;
  }
  // A symlink entry is followed as the container sees it, as docker's ADD
  // does: esc/passwd lands in the image's /etc, never in the host's.
  std::string host_passwd = e2e::read_file("/etc/passwd");
  write("Dockerfile", "FROM localhost/box\nADD through.tar /dest/\n");
  auto through = build({"-t", "localhost/through", ctx()});
  ASSERT_EQ(through.exit_code, 0) << through.err;
  EXPECT_EQ(run("localhost/through", {"sh", "-c", "cat /etc/passwd; readlink /dest/esc"}),
            "owned\n/etc\n");
  EXPECT_EQ(e2e::read_file("/etc/passwd"), host_passwd);
  // On a merged-/usr image an archive's lib/... goes into usr/lib, and /lib
  // stays the link it was.
  hostile("unit.tar", R"(("lib/systemd/app.service", "file", "[Unit]\n"))");
  write("Dockerfile",
        "FROM localhost/box\nRUN mkdir -p /usr/lib && ln -s usr/lib /lib\nADD unit.tar /\n");
  auto merged = build({"-t", "localhost/merged-usr", ctx()});
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_EQ(
      run("localhost/merged-usr", {"sh", "-c", "readlink /lib; cat /usr/lib/systemd/app.service"}),
      "usr/lib\n[Unit]\n");
  expect_no_build_leftovers();
}

// The inputs' digest cannot be forged: a file name or a symlink target
// that spells out the bytes of other entries (names may hold newlines) is
// still a different input, so the step misses (found by a hostile review).
TEST_F(BerthBuild, NamesAndLinkTargetsCannotForgeACacheHit) {
  // Each pair: `a` as built first, `b` with one entry whose name or target
  // spells the bytes a's entries gave the old digest layout.
  auto second_misses = [&](const std::string& case_name, const std::string& copy,
                           const std::function<void(const std::string&, bool)>& fill) {
    std::string a = t / (case_name + "-a"), b = t / (case_name + "-b");
    for (const auto& [dir, second] : {std::pair{a, false}, std::pair{b, true}}) {
      fs::create_directories(dir + "/d");
      e2e::write_file(dir + "/Dockerfile", "FROM localhost/box\n" + copy + "\n");
      fill(dir, second);
    }
    auto first = build({"-t", "localhost/forge-a", a});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    auto forged = build({"-t", "localhost/forge-b", b});
    ASSERT_EQ(forged.exit_code, 0) << forged.err;
    EXPECT_EQ(count(forged.err, " CACHED"), 0u) << case_name << ": " << forged.err;
    EXPECT_EQ(run("localhost/forge-b", {"sh", "-c", "test -e /out/y && echo y || echo no-y"}),
              "no-y\n")
        << case_name;
  };
  second_misses("names", "COPY . /out/", [](const std::string& dir, bool forged) {
    if (forged) {
      e2e::write_file(dir + "/x\n100644 1\nXy", "Y");
    } else {
      e2e::write_file(dir + "/x", "X");
      e2e::write_file(dir + "/y", "Y");
    }
    for (const auto& f : fs::directory_iterator(dir))
      if (f.is_regular_file()) fs::permissions(f.path(), fs::perms(0644));
  });
  // A glob's matches are named as matched: l1 and l2 both leading to x are
  // different inputs.
  second_misses("globbed", "COPY l* /out/", [](const std::string& dir, bool forged) {
    e2e::write_file(dir + "/x", "X");
    ASSERT_EQ(::symlink("x", (dir + (forged ? "/l2" : "/l1")).c_str()), 0);
  });
  second_misses("links", "COPY d /out/", [](const std::string& dir, bool forged) {
    ASSERT_EQ(::symlink(forged ? "Td/y\n100644 1\nY" : "T", (dir + "/d/l").c_str()), 0);
    if (!forged) {
      e2e::write_file(dir + "/d/y", "Y");
      fs::permissions(dir + "/d/y", fs::perms(0644));
    }
  });
}

// A symlink named as a source is read through, and the copy keeps the name
// written in the Dockerfile, not its target's.
TEST_F(BerthBuild, ASymlinkedSourceKeepsItsOwnName) {
  write("target.txt", "through the link\n");
  ASSERT_EQ(::symlink("target.txt", (ctx() + "/alias.txt").c_str()), 0);
  write("Dockerfile", "FROM localhost/box\nCOPY alias.txt /out/\n");
  auto r = build({"-t", "localhost/alias", ctx()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run("localhost/alias", {"sh", "-c", "ls /out && cat /out/alias.txt"}),
            "alias.txt\nthrough the link\n");
}

// A base image is input too: a config setting of the wrong type (loaded from
// an archive anyone could have written) is a one-line error naming it.
TEST_F(BerthBuild, ABaseImageWithAMalformedConfigIsNamed) {
  std::string saved = t / "box.tar", bad = t / "bad.tar";
  ASSERT_EQ(e.berth({"save", "-o", saved, "localhost/box"}).exit_code, 0);
  // The docker-archive half of the save, with "User": 5 in a new config blob.
  auto edit = e2e::Process({"/usr/bin/python3", "-c", R"(import hashlib, io, json, sys, tarfile
src = tarfile.open(sys.argv[1])
files = {m.name: src.extractfile(m).read() for m in src.getmembers() if m.isfile()}
manifest = json.loads(files["manifest.json"])
config = json.loads(files[manifest[0]["Config"]])
config["config"]["User"] = 5
blob = json.dumps(config).encode()
name = "blobs/sha256/" + hashlib.sha256(blob).hexdigest()
files[name] = blob
manifest[0]["Config"] = name
manifest[0]["RepoTags"] = ["localhost/badconfig:latest"]
files["manifest.json"] = json.dumps(manifest).encode()
del files["index.json"], files["oci-layout"]
with tarfile.open(sys.argv[2], "w") as out:
    for n, data in files.items():
        info = tarfile.TarInfo(n); info.size = len(data); out.addfile(info, io.BytesIO(data))
)",
                            saved, bad})
                  .wait();
  ASSERT_EQ(edit.exit_code, 0) << edit.err;
  auto load = e.berth({"load", "-i", bad});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  write("Dockerfile", "FROM localhost/badconfig\nRUN true\n");
  auto r = build({ctx()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(count(r.err, "berth: "), 1u) << r.err;
  EXPECT_NE(r.err.find("config field User is not a string"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
}

// ONBUILD: the parent stores each trigger as written (flags too); a child
// built FROM it runs them right after FROM, against its own context, and
// does not pass them on.
TEST_F(BerthBuild, OnbuildTriggersRunInTheChild) {
  write("Dockerfile",
        "FROM localhost/box\n"
        "ONBUILD ENV FROM_TRIGGER=yes\n"
        "ONBUILD COPY --chown=7:8 app.txt /app/\n"
        "ONBUILD RUN echo \"ran with $FROM_TRIGGER\" > /app/ran.txt\n");
  auto parent = build({"-t", "localhost/onbuild-parent", ctx()});
  ASSERT_EQ(parent.exit_code, 0) << parent.err;
  EXPECT_EQ(config_of("localhost/onbuild-parent")["OnBuild"],
            json({"ENV FROM_TRIGGER=yes", "COPY --chown=7:8 app.txt /app/",
                  "RUN echo \"ran with $FROM_TRIGGER\" > /app/ran.txt"}));
  write("app.txt", "the child's own file\n");
  write("Dockerfile",
        "FROM localhost/onbuild-parent\nRUN cat /app/app.txt /app/ran.txt > /app/all\n");
  auto child = build({"-t", "localhost/onbuild-child", ctx()});
  ASSERT_EQ(child.exit_code, 0) << child.err;
  EXPECT_NE(child.err.find("ONBUILD COPY --chown=7:8 app.txt /app/"), std::string::npos)
      << child.err;
  EXPECT_EQ(
      run("localhost/onbuild-child",
          {"sh", "-c", "cat /app/all; busybox stat -c %u:%g /app/app.txt; echo $FROM_TRIGGER"}),
      "the child's own file\nran with yes\n7:8\nyes\n");
  EXPECT_FALSE(config_of("localhost/onbuild-child").contains("OnBuild"));
  // A trigger that fails stops the child's build, naming the FROM and the trigger.
  write("Dockerfile", "FROM localhost/box\nONBUILD RUN exit 4\n");
  ASSERT_EQ(build({"-t", "localhost/onbuild-failing", ctx()}).exit_code, 0);
  write("Dockerfile", "FROM localhost/onbuild-failing\n");
  auto failing = build({ctx()});
  EXPECT_NE(failing.exit_code, 0);
  EXPECT_NE(failing.err.find("FROM localhost/onbuild-failing: ONBUILD RUN exit 4"),
            std::string::npos)
      << failing.err;
  expect_no_build_leftovers();
}

// Ctrl-C during a RUN whose program would ignore it (a container's pid 1
// ignores SIGINT it has no handler for) ends the step at once, and the
// build stops with nothing mounted, no step directory and no process left.
TEST_F(BerthBuild, AnInterruptStopsARunningStepAndLeavesNothing) {
  write("Dockerfile", "FROM localhost/box\nRUN sleep 4321\nRUN echo never\n");
  e2e::Process p(e.command({"build", "--no-cache", ctx()}));
  ASSERT_TRUE(e2e::eventually([&] { return p.err().find("RUN sleep 4321") != std::string::npos; },
                              std::chrono::seconds(60), std::chrono::milliseconds(10)))
      << p.err();
  p.signal(SIGINT);
  auto r = p.wait(std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("Dockerfile:2: RUN: interrupted by SIGINT"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("never"), std::string::npos) << r.err;
  expect_no_build_leftovers();
  auto left = e2e::Process({"/usr/bin/pgrep", "-f", "sleep 4321"}).wait();
  EXPECT_EQ(left.out, "") << "the step's program outlived the build";
}

// COPY --from=IMAGE pulls an image the store does not have, as FROM does
// (here from Debian's docker-registry on 127.0.0.1).
TEST_F(BerthBuild, CopyFromAnImageNotInTheStorePullsIt) {
  bt::Registry reg(bt::Registry::Kind::kPlainHttp);
  bt::OciLayout layout(t / "layout");
  fs::create_directories(t / "marker");
  e2e::write_file(t / "marker/marker", "from the registry\n");
  layout.tag(layout.add_image({layout.add_layer(t / "marker", "gzip")}, "amd64", {"cat"}), "1");
  ASSERT_EQ(reg.push(t / "layout", "1", "marker:1").exit_code, 0);
  e2e::write_file(e.store("registries.json"), json{{"insecure", {reg.host()}}}.dump());
  std::string image = reg.host() + "/marker:1";
  ASSERT_NE(e.berth({"inspect", image}).exit_code, 0) << "not in the store yet";
  write("Dockerfile", fmt::format("FROM localhost/box\nCOPY --from={} /marker /m\n", image));
  auto r = build({"-t", "localhost/copied-from-image", ctx()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("pulling " + image), std::string::npos) << r.err;
  EXPECT_EQ(run("localhost/copied-from-image", {"cat", "/m"}), "from the registry\n");
}

// WORKDIR after USER makes the directory as that user (BuildKit's rule), so
// the user's RUN can write there.
TEST_F(BerthBuild, WorkdirAfterUserBelongsToTheUser) {
  write("Dockerfile",
        "FROM localhost/box\n"
        "RUN echo \"app:x:1234:1234::/home/app:/bin/sh\" >> /etc/passwd\n"
        "USER app\n"
        "WORKDIR /srv/new/deep\n"
        "RUN id -u > mine\n");
  auto r = build({"-t", "localhost/workdir-user", ctx()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      run("localhost/workdir-user", {"sh", "-c", "cat mine; busybox stat -c %u:%g /srv/new/deep"}),
      "1234\n1234:1234\n");
}

// docker's predefined proxy ARGs reach RUN from --build-arg without an ARG
// line, and stay out of the history and the cache key.
TEST_F(BerthBuild, ProxyArgsReachRunButNotHistoryOrCache) {
  write("Dockerfile", "FROM localhost/box\nRUN echo \"proxy=$HTTP_PROXY\" > /p\n");
  auto r =
      build({"-t", "localhost/proxied", "--build-arg", "HTTP_PROXY=http://proxy.test:3128", ctx()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("not consumed"), std::string::npos) << r.err;
  EXPECT_EQ(run("localhost/proxied", {"cat", "/p"}), "proxy=http://proxy.test:3128\n");
  auto history = e.berth({"history", "localhost/proxied"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("RUN echo"), std::string::npos) << history.out;
  EXPECT_EQ(history.out.find("proxy.test"), std::string::npos) << history.out;
  auto again = build({"--build-arg", "HTTP_PROXY=http://other.test:8080", ctx()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(count(again.err, " CACHED"), 1u) << again.err;
}

// In a scratch-based stage the runtime makes its mount points (/proc, /dev,
// /sys, /etc/hosts, ...) in the step's root; the RUN's layer holds only what
// the program made.
TEST_F(BerthBuild, ARunLayerHoldsNoMountPointsOfTheRuntime) {
  fs::create_directories(ctx());
  fs::copy_file("/bin/busybox", ctx() + "/busybox");
  write("Dockerfile",
        "FROM scratch\nCOPY busybox /bin/busybox\n"
        "RUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox echo made > /made\"]\n");
  auto r = build({"-t", "localhost/stubless", ctx()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string saved = t / "stubless.tar";
  ASSERT_EQ(e.berth({"save", "-o", saved, "localhost/stubless"}).exit_code, 0);
  auto listing = e2e::Process({"/usr/bin/python3", "-c", R"(import json, sys, tarfile
image = tarfile.open(sys.argv[1])
layers = json.load(image.extractfile("manifest.json"))[0]["Layers"]
last = tarfile.open(fileobj=image.extractfile(layers[-1]))
print(" ".join(sorted(m.name.rstrip("/") for m in last.getmembers())))
)",
                               saved})
                     .wait();
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  EXPECT_EQ(listing.out, "made\n");
}

// COPY of here-documents, with no context at all (the Dockerfile on
// standard input): an unquoted delimiter expands variables and keeps quotes
// and escapes as written; a quoted one keeps the body raw; <<- strips tabs.
TEST_F(BerthBuild, CopyOfHeredocsWritesTheirBodies) {
  std::string df = t / "heredoc.Dockerfile";
  e2e::write_file(df,
                  "FROM localhost/box\n"
                  "ARG WHO=world\n"
                  "COPY <<EOF /etc/greeting\n"
                  "hello $WHO \"quoted $WHO\" 'single $WHO' \\$WHO\n"
                  "EOF\n"
                  "COPY --chmod=755 <<\"RAW\" <<-TABS /opt/\n"
                  "raw $WHO\n"
                  "RAW\n"
                  "\ttabbed $WHO\n"
                  "\tTABS\n"
                  "COPY <<../escape /opt/\n"
                  "x\n"
                  "../escape\n");
  auto hostile = build_from_stdin(df, "localhost/heredocs");
  EXPECT_NE(hostile.exit_code, 0);
  EXPECT_NE(hostile.err.find("<<../escape: a here-document's delimiter names its file"),
            std::string::npos)
      << hostile.err;
  std::string text = e2e::read_file(df);
  std::string good = text.substr(0, text.find("COPY <<../escape"));
  // A delimiter with a glob character would match other files as a source.
  e2e::write_file(df, good + "COPY <<x* /opt/\nbody\nx*\n");
  auto glob = build_from_stdin(df, "localhost/heredocs");
  EXPECT_NE(glob.err.find("<<x*: a here-document's delimiter names its file"), std::string::npos)
      << glob.err;
  // An opener with a descriptor number is still an opener, in its place.
  e2e::write_file(df, good + "COPY 2<<A <<B /fd/\na\nA\nb\nB\n");
  auto fd = build_from_stdin(df, "localhost/heredoc-fd");
  ASSERT_EQ(fd.exit_code, 0) << fd.err;
  EXPECT_EQ(run("localhost/heredoc-fd", {"cat", "/fd/A", "/fd/B"}), "a\nb\n");
  e2e::write_file(df, good);
  auto r = build_from_stdin(df, "localhost/heredocs");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run("localhost/heredocs",
                {"sh", "-c", "cat /etc/greeting /opt/RAW /opt/TABS; busybox stat -c %a /opt/RAW"}),
            "hello world \"quoted world\" 'single $WHO' \\$WHO\nraw $WHO\ntabbed world\n755\n");
}

TEST_F(BerthBuild, DockerignoreLeavesFilesOut) {
  write("Dockerfile", "FROM localhost/box\nCOPY . /ctx/\n");
  write(".dockerignore", "# build junk\n*.log\nsecret/\n!secret/public.txt\n");
  write("keep.txt", "k");
  write("debug.log", "d");
  write("secret/key.pem", "s");
  write("secret/public.txt", "p");
  auto r = build({"-t", "localhost/ignored", ctx()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string listing = run("localhost/ignored", {"busybox", "find", "/ctx", "-type", "f"});
  EXPECT_NE(listing.find("/ctx/keep.txt"), std::string::npos) << listing;
  EXPECT_NE(listing.find("/ctx/secret/public.txt"), std::string::npos) << listing;
  EXPECT_EQ(listing.find("debug.log"), std::string::npos) << listing;
  EXPECT_EQ(listing.find("key.pem"), std::string::npos) << listing;
  // Naming an excluded file is an error that says so.
  write("Dockerfile", "FROM localhost/box\nCOPY debug.log /\n");
  auto named = build({ctx()});
  EXPECT_NE(named.exit_code, 0);
  EXPECT_NE(named.err.find("debug.log: excluded by .dockerignore"), std::string::npos) << named.err;
}

TEST_F(BerthBuild, AFailingRunStopsWithItsStatusAndLeavesNothing) {
  write("Dockerfile", "FROM localhost/box\nRUN echo partial > /x\nRUN exit 3\nRUN echo never\n");
  auto r = build({"-t", "localhost/failed", ctx()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Dockerfile:3: RUN"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("exit code 3"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("never"), std::string::npos) << r.err;
  EXPECT_NE(e.berth({"inspect", "localhost/failed"}).exit_code, 0) << "nothing is tagged";
  expect_no_build_leftovers();
}

// Hostile input: each a non-zero exit and one line naming what was wrong.
TEST_F(BerthBuild, HostileInputIsOneLineNamingIt) {
  auto one_line = [&](const std::string& dockerfile, const std::string& expected) {
    write("Dockerfile", dockerfile);
    auto r = build({"-t", "localhost/hostile", ctx()});
    EXPECT_NE(r.exit_code, 0) << dockerfile;
    // Progress lines (#N ...) come first, as docker's; the error is one line.
    EXPECT_EQ(count(r.err, "berth: "), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("berth: "), r.err.rfind('\n', r.err.size() - 2) + 1) << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
  };
  fs::create_directories(t / "outside");
  e2e::write_file(t / "outside/secret", "outside the context");
  write("inside.txt", "in");
  one_line("FROM localhost/box\nCOPY ../outside/secret /\n",
           "../outside/secret: outside the build context");
  ASSERT_EQ(::symlink((t / "outside/secret").c_str(), (ctx() + "/link").c_str()), 0);
  one_line("FROM localhost/box\nCOPY link /\n", "link: leads outside the build context");
  one_line("FROM localhost/box\nFROBNICATE now\n", "FROBNICATE");
  one_line("FROM localhost/nothing-here\n", "localhost/nothing-here");
  write("Dockerfile", "FROM localhost/nothing-here\n");
  auto never = build({"--pull", "never", ctx()});
  EXPECT_NE(never.err.find("FROM localhost/nothing-here: no such image"), std::string::npos)
      << never.err;
  one_line("FROM localhost/box\nCOPY missing.txt /\n", "missing.txt: not found");
  one_line("FROM localhost/box\nADD http://example.com/x /\n", "no network");
  one_line(std::string("FROM localhost/box\n# ") + std::string(1 << 20, 'x') + "\n", "larger than");
  one_line("FROM localhost/box\nRUN --device=/dev/kvm ls\n", "RUN --device is not supported");
  one_line("FROM localhost/box\nEXPOSE 9-3\n", "'9-3/tcp': not a port");
  // Expansion that would grow without bound: doubling per line, and copies of
  // a large value into many variables.
  std::string doubling = "FROM localhost/box\nENV a=" + std::string(64, 'x') + "\n";
  for (int i = 0; i < 30; ++i) doubling += "ENV a=$a$a\n";
  one_line(doubling + "RUN true\n", "'$a$a': expands to more than 1 MiB");
  std::string copies = "FROM localhost/box\nENV a=" + std::string(64, 'x') + "\n";
  for (int i = 0; i < 13; ++i) copies += "ENV a=$a$a\n";
  for (int i = 0; i < 100; ++i) copies += fmt::format("ENV b{}=$a\n", i);
  one_line(copies, "the stage's ENV, ARG and LABEL values pass 4 MiB");
  one_line("FROM localhost/box\nCOPY --chown=4294967295:4294967295 inside.txt /\n",
           "ids must be below 4294967295");
  one_line("FROM localhost/box\nHEALTHCHECK --interval=999999h999999h999999h CMD true\n",
           "--interval=999999h999999h999999h: not a duration");
  expect_no_build_leftovers();
}

TEST_F(BerthBuild, PlatformArgsAreDockersAutomaticOnes) {
  write("Dockerfile",
        "FROM --platform=$BUILDPLATFORM localhost/box\nARG TARGETARCH\n"
        "RUN echo $TARGETARCH > /arch\n");
  auto r = build({"-t", "localhost/platform", ctx()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run("localhost/platform", {"cat", "/arch"}), "amd64\n");
}

TEST_F(BerthBuild, ADockerfileOnStandardInputNeedsNoContext) {
  std::string df = t / "stdin.Dockerfile";
  e2e::write_file(df, "FROM localhost/box\nRUN echo from stdin > /s\nCMD [\"cat\", \"/s\"]\n");
  auto r = build_from_stdin(df, "localhost/stdin");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run("localhost/stdin", {}), "from stdin\n");
}

// --network bridge: a RUN gets a namespace of its own on berth's default
// bridge (eth0, an address, a default route), and is unwired when the step
// ends; RUN --network=none still asks for less. In a network namespace of
// the test's own.
TEST(BerthBuildNetwork, BridgeWiresEachRunAndLeavesNothing) {
  Engine net;  // own network namespace
  e2e::TempDir t;
  fs::create_directories(t / "ctx");
  e2e::write_file(t / "ctx/Dockerfile",
                  "FROM localhost/box\n"
                  "RUN cat /proc/net/route > /routes.bridge\n"
                  "RUN --network=none cat /proc/net/route > /routes.none\n");
  auto r = net.berth({"build", "--network", "bridge", "-t", "localhost/bridged", t / "ctx"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto seen = [&](const char* file) {
    auto c = net.berth({"run", "--rm", "--network", "none", "localhost/bridged", "cat", file});
    EXPECT_EQ(c.exit_code, 0) << c.err;
    return c.out;
  };
  std::string bridged = seen("/routes.bridge");
  EXPECT_NE(bridged.find("eth0\t00000000\t"), std::string::npos) << "a default route:\n" << bridged;
  EXPECT_EQ(seen("/routes.none").find("eth0"), std::string::npos);
  EXPECT_EQ(net.network_leftovers(), "");
}

// Independent stages run side by side: one stage waits for a connection and
// another makes it, so both succeed only together (on the build's host
// network, which is the test's own namespace). The listener waits 30 s at
// most (the shell stays pid 1, so timeout's signal reaches nc): a build that
// ran them one after the other fails instead of hanging. It reads through -e:
// busybox nc without it quits at its stdin's end (a RUN step's is empty),
// and under load that came before the talker's line did.
TEST(BerthBuildNetwork, IndependentStagesRunSideBySide) {
  Engine net;
  e2e::TempDir t;
  fs::create_directories(t / "ctx");
  int port = bt::free_port();
  e2e::write_file(
      t / "ctx/Dockerfile",
      fmt::format("FROM localhost/box AS listener\n"
                  "RUN busybox timeout 30 busybox nc -l -p {0} -e busybox sh -c "
                  "'busybox cat > /got'; test -s /got\n"
                  "FROM localhost/box AS talker\n"
                  "RUN for i in $(busybox seq 300); do "
                  "echo hello | busybox nc 127.0.0.1 {0} && echo sent > /sent && exit 0; "
                  "sleep 0.1; done; exit 1\n"
                  "FROM localhost/box\n"
                  "COPY --from=listener /got /got\n"
                  "COPY --from=talker /sent /sent\n",
                  port));
  auto r = net.berth(
      {"build", "--no-cache", "--network", "host", "-t", "localhost/side-by-side", t / "ctx"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto c = net.berth(
      {"run", "--rm", "--network", "none", "localhost/side-by-side", "cat", "/got", "/sent"});
  EXPECT_EQ(c.out, "hello\nsent\n") << c.err;
}

}  // namespace
