// fmt's out-of-line functions, compiled once for the whole program.
//
// Debian ships no static libfmt, and defining FMT_HEADER_ONLY everywhere made
// every translation unit that formats compile fmt's implementation again
// (a third of each file's build time). Here format-inl.h is included once,
// without FMT_HEADER_ONLY, so its functions get one strong definition; the
// templates format.h declares `extern` are instantiated for the types the
// program (and fmt itself) uses.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template auto thousands_sep_impl<wchar_t>(locale_ref) -> thousands_sep_result<wchar_t>;
template auto decimal_point_impl(locale_ref) -> char;
template auto decimal_point_impl(locale_ref) -> wchar_t;

}  // namespace detail
FMT_END_NAMESPACE
