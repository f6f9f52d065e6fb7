#include "base/lazy_library.h"

#include <dlfcn.h>

namespace base {

LazyLibrary::LazyLibrary(const char* soname) : soname_(soname) {
  handle_ = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!handle_) error_ = std::string("cannot load ") + soname + ": " + ::dlerror();
}

void* LazyLibrary::symbol(const char* name) {
  if (!handle_) return nullptr;
  void* s = ::dlsym(handle_, name);
  if (!s) error_ = soname_ + " has no " + name + " (too old a version?)";
  return s;
}

}  // namespace base
