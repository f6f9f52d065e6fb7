// Test support shared by every end-to-end suite: temporary directories,
// child processes with captured output and a bounded wait, small file helpers,
// and polling. Every helper cleans up after itself in its destructor.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace e2e {

class TempDir {
 public:
  // A new directory under `base` (/dev/shm for one in memory).
  explicit TempDir(const std::string& base = "/tmp");
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

struct ProcResult {
  int exit_code = -1;  // -N when killed by signal N
  std::string out;
  std::string err;
};

class Process {
 public:
  Process(std::vector<std::string> argv, std::vector<std::string> env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits at most `limit` (then kills: the result says so); collects output.
  ProcResult wait(std::chrono::seconds limit = std::chrono::seconds(300));
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  TempDir io_;
};

// Files.
void write_file(const std::string& path, const std::string& content, mode_t mode = 0644);
std::string read_file(const std::string& path);
bool exists(const std::string& path);
// Polls `cond` every `every` (a command-running check wants 100 ms), up to
// `limit`; returns whether it held.
bool eventually(const std::function<bool()>& cond,
                std::chrono::milliseconds limit = std::chrono::milliseconds(30000),
                std::chrono::milliseconds every = std::chrono::milliseconds(1));

}  // namespace e2e
