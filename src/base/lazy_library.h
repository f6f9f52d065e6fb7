// A shared library loaded on first use (dlopen) instead of at program start.
// For big libraries only some commands need: linked normally, their loading
// and constructors cost every run of the program. A table of the functions
// used is filled once:
//   #define MYLIB_CALLS(X) X(lib_open) X(lib_close)
//   struct MyLib { MYLIB_CALLS(BASE_LAZY_MEMBER) std::string error; };
//   const MyLib& mylib() {
//     static const MyLib t = base::load_calls<MyLib>("libmy.so.1", "libmy1",
//         [](base::LazyLibrary& lib, MyLib& t) { return MYLIB_CALLS(BASE_LAZY_BIND) true; });
//     return t;
//   }
// and calls go through it: mylib().lib_open(...). `error` says, when the
// library could not be loaded, what to install.
// Thread-safety: load_calls() is meant for a function-local static (initialized once).
#pragma once

#include <string>

namespace base {

class LazyLibrary {
 public:
  explicit LazyLibrary(const char* soname);
  bool loaded() const { return handle_ != nullptr; }
  const std::string& error() const { return error_; }
  // Binds `f` to the symbol `name`; false (and error() says which) when missing.
  template <typename F>
  bool bind(const char* name, F& f) {
    f = reinterpret_cast<F>(symbol(name));
    return f != nullptr;
  }

 private:
  void* symbol(const char* name);
  void* handle_ = nullptr;
  std::string soname_;
  std::string error_;
};

// Loads `soname` and fills the table `T` (which has a `std::string error`)
// with `bind_all(library, table)`.
template <typename T, typename BindAll>
T load_calls(const char* soname, const char* package, BindAll bind_all) {
  T table{};
  LazyLibrary lib(soname);
  if (!lib.loaded() || !bind_all(lib, table))
    table.error = lib.error() + " (install the " + package + " package)";
  return table;
}

}  // namespace base

// NOLINTNEXTLINE(bugprone-macro-parentheses): `name` is a declarator here, not an expression.
#define BASE_LAZY_MEMBER(name) decltype(&::name) name;
#define BASE_LAZY_BIND(name) lib.bind(#name, t.name)&&
