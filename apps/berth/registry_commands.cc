// Registry commands: pull, push, login, logout.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <fmt/format.h>

#include "apps/berth/commands.h"
#include "berth/image/image_store.h"
#include "berth/image/reference.h"
#include "berth/registry/puller.h"
#include "berth/registry/pusher.h"
#include "berth/registry/registry_auth.h"
#include "berth/registry/registry_settings.h"

namespace berth_cli {
namespace {

// "docker.io" for Docker Hub names, else the registry part as given.
std::string registry_name(const std::string& text) {
  if (text.empty() || text == "docker.io" || text == "index.docker.io" ||
      text == "registry-1.docker.io")
    return "docker.io";
  return text;
}

}  // namespace

base::Result<std::string> pull_named(const Globals& g, const std::string& name,
                                     const PullFlags& flags) {
  auto ref = TRY(berth::parse_reference(name));
  berth::PullOptions o;
  o.registry = TRY(berth::registry_options(g.root, ref.registry, flags.insecure));
  if (!flags.platform.empty()) o.platform = TRY(berth::parse_platform(flags.platform));
  o.parallel_layers = flags.parallel;
  berth::PullProgress progress(stderr, berth::PullProgress::mode_for(stderr, flags.quiet));
  o.progress = &progress;
  berth::ImageStore store(g.root);
  auto pulled = TRY(berth::pull_image(store, ref, o));
  if (!flags.quiet) {
    std::fprintf(
        stderr, "Digest: %s\n",
        (pulled.index_digest.empty() ? pulled.manifest_digest : pulled.index_digest).c_str());
    std::fprintf(stderr, "Pulled: %s\n", pulled.name.c_str());
  }
  return pulled.image_id;
}

namespace {

// `push`: the image NAME[:TAG], or (all_tags) every tag of NAME, each
// reported as docker reports it.
base::Status push_named(const Globals& g, const std::string& name, bool all_tags, bool insecure,
                        bool quiet) {
  auto ref = TRY(berth::parse_reference(name));
  if (!ref.digest.empty())
    return base::fail_msg(fmt::format("cannot push a digest reference: {}", name));
  // A colon after the last slash is a tag's ("host:5000/app" has none).
  size_t colon = name.rfind(':'), slash = name.rfind('/');
  bool tag_given = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  if (all_tags && tag_given)
    return base::fail_msg(fmt::format("push {}: tag can't be used with --all-tags/-a", name));
  berth::ImageStore store(g.root);
  std::vector<berth::Reference> refs;
  if (all_tags) {
    for (const auto& image : store.list())
      for (const auto& n : image.names)
        if (n.rfind(ref.name() + ":", 0) == 0) refs.push_back(TRY(berth::parse_reference(n)));
    if (refs.empty())
      return base::fail_msg(fmt::format("An image does not exist locally with the tag: {}",
                                        berth::familiar_name(ref.name())));
  } else {
    refs.push_back(ref);
  }
  berth::PushOptions o;
  o.registry = TRY(berth::registry_options(g.root, ref.registry, insecure));
  if (!quiet) {
    std::printf("The push refers to repository [%s]\n", berth::familiar_name(ref.name()).c_str());
    o.progress = [](const std::string& id, const std::string& what) {
      std::printf("%s: %s\n", id.c_str(), what.c_str());
      std::fflush(stdout);
    };
  }
  for (const auto& r : refs) {
    auto pushed = TRY(berth::push_image(store, r, o));
    if (quiet)
      std::printf("%s\n", berth::familiar_name(r.full()).c_str());
    else
      std::printf("%s: digest: %s size: %llu\n", r.tag.c_str(), pushed.digest.c_str(),
                  static_cast<unsigned long long>(pushed.size));
  }
  return {};
}

}  // namespace

void add_registry_commands(CLI::App& app, Globals& g) {
  static std::string name, platform, registry, username, password;
  static bool insecure = false, quiet = false, password_stdin = false;
  static int parallel = 3;

  auto* pull = app.add_subcommand("pull", "download an image from a registry");
  pull->add_option("image", name, "NAME[:TAG|@DIGEST]")->required();
  pull->add_flag("--insecure", insecure, "allow plain HTTP and unverified TLS for this registry");
  pull->add_option("--platform", platform, "os/arch[/variant] from a multi-platform image");
  pull->add_option("--parallel", parallel, "layers downloaded at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 32));
  pull->add_flag("-q,--quiet", quiet, "print only the image id");
  pull->callback([&g] {
    auto pulled = pull_named(g, name, {platform, insecure, quiet, parallel});
    if (!pulled) return fail(g, pulled.error());
    std::printf("%s\n", pulled->c_str());
  });

  static bool all_tags = false;
  auto* push = app.add_subcommand("push", "upload an image to a registry");
  push->add_option("image", name, "NAME[:TAG]")->required();
  push->add_flag("-a,--all-tags", all_tags, "every tag of the repository");
  push->add_flag("--insecure", insecure, "allow plain HTTP and unverified TLS for this registry");
  push->add_flag("-q,--quiet", quiet, "print only the names pushed");
  push->callback([&g] {
    if (auto s = push_named(g, name, all_tags, insecure, quiet); !s) return fail(g, s.error());
  });

  auto* login = app.add_subcommand("login", "save credentials for a registry");
  login->add_option("registry", registry, "host[:port]; Docker Hub when left out");
  login->add_option("-u,--username", username, "user name")->required();
  login->add_option("-p,--password", password, "password (prefer --password-stdin)");
  login->add_flag("--password-stdin", password_stdin, "read the password from standard input");
  login->add_flag("--insecure", insecure, "allow plain HTTP and unverified TLS for this registry");
  login->callback([&g] {
    std::string reg = registry_name(registry);
    if (password_stdin) {
      std::getline(std::cin, password);
      if (!password.empty() && password.back() == '\r') password.pop_back();
    }
    if (password.empty())
      return fail(g, base::Error::msg("login: a password is needed (-p or --password-stdin)"));
    auto o = berth::registry_options(g.root, reg, insecure);
    if (!o) return fail(g, o.error());
    o->credentials = berth::Credentials{username, password};
    if (auto s = berth::RegistryClient::check_login(reg, *o); !s) return fail(g, s.error());
    if (auto s = berth::CredentialStore(g.root).save(reg, *o->credentials); !s)
      return fail(g, s.error());
    std::printf("Login Succeeded\n");
  });

  auto* logout = app.add_subcommand("logout", "forget the credentials for a registry");
  logout->add_option("registry", registry, "host[:port]; Docker Hub when left out");
  logout->callback([&g] {
    std::string reg = registry_name(registry);
    auto removed = berth::CredentialStore(g.root).remove(reg);
    if (!removed) return fail(g, removed.error());
    if (!*removed) return fail(g, base::Error::msg(fmt::format("not logged in to {}", reg)));
    std::printf("Removed login credentials for %s\n", reg.c_str());
  });
}

}  // namespace berth_cli
