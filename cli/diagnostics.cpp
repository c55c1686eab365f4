#include "cli/diagnostics.hpp"

#include <cstdarg>
#include <cstdio>

namespace gprofid::cli {
namespace {

std::string& prefix() {
  static std::string p = "gprof-id";
  return p;
}

void print_line(const char* kind, const char* format, std::va_list args) {
  std::va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, format, args);
  std::string text(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(text.data(), text.size() + 1, format, again);
  va_end(again);
  std::fprintf(stderr, "%s: %s%s\n", prefix().c_str(), kind, text.c_str());
}

}  // namespace

void set_command_name(std::string_view name) {
  prefix() = name.empty() ? "gprof-id" : "gprof-id " + std::string(name);
}

const std::string& message_prefix() {
  return prefix();
}

void print_error(const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  print_line("", format, args);
  va_end(args);
}

void print_warning(const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  print_line("warning: ", format, args);
  va_end(args);
}

}  // namespace gprofid::cli
