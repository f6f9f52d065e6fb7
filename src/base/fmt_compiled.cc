// fmt's compiled part, built here: Debian ships libfmt only as a shared
// library, and berth-oci links statically. Compiling fmt's inline-definition
// header once, in this one file, is what the shared library itself contains;
// every other file uses fmt's headers in their normal (not header-only) mode,
// which keeps each of them fast to compile.
#include <fmt/format-inl.h>

// The templates fmt's headers declare but leave to the compiled library.
FMT_BEGIN_NAMESPACE
namespace detail {
template auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl<char>(locale_ref) -> char;
}  // namespace detail
FMT_END_NAMESPACE
