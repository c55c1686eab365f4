#include "gprofid/detail/function_name.hpp"

namespace gprofid {
namespace {

// Index of the first '(' outside template arguments, or npos.
std::size_t first_top_level_paren(std::string_view s) {
  int angle = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '<') ++angle;
    if (c == '>' && angle > 0) --angle;
    if (c == '(' && angle == 0) {
      // "operator()" and lambdas "<lambda(int)>" are handled by the angle count and this check.
      if (i >= 8 && s.substr(i - 8, 8) == "operator") continue;
      return i;
    }
  }
  return std::string_view::npos;
}

// Drops the return type: the last space outside <> and () before the parameter list.
std::string_view strip_return_type(std::string_view s) {
  std::size_t paren = first_top_level_paren(s);
  std::size_t end = paren == std::string_view::npos ? s.size() : paren;
  int depth = 0;
  std::size_t cut = std::string_view::npos;
  for (std::size_t i = 0; i < end; ++i) {
    char c = s[i];
    if (c == '<' || c == '(') ++depth;
    if ((c == '>' || c == ')') && depth > 0) --depth;
    if (c == ' ' && depth == 0) cut = i;
  }
  return cut == std::string_view::npos ? s : s.substr(cut + 1);
}

// GCC names a coroutine's actor "void ns::{anonymous}::f(f(int)::_Z...Frame*)": the ramp
// signature inside is qualified only as far as its own scope. Puts back the qualification the
// actor's own name has, so that a spawn site inside a coroutine reads like the coroutine's frames
// ("ns::{anonymous}::f(int)"). `outer` is the actor's name without its parameters.
std::string qualified_like(std::string_view outer, std::string_view ramp) {
  // The longest tail of `outer` at a "::" boundary that `ramp` starts with, followed by '('.
  for (std::size_t from = 0; from < outer.size();) {
    std::string_view tail = outer.substr(from);
    if (ramp.size() > tail.size() && ramp.starts_with(tail) && ramp[tail.size()] == '(') {
      return std::string(outer.substr(0, from)) + std::string(ramp);
    }
    std::size_t next = outer.find("::", from);
    if (next == std::string_view::npos) break;
    from = next + 2;
  }
  return std::string(ramp);
}

}  // namespace

std::string display_function_name(std::string_view pretty) {
  constexpr std::string_view frame_suffix = ".Frame*)";
  if (pretty.size() > frame_suffix.size() && pretty.ends_with(frame_suffix)) {
    // The actor's single parameter is "<ramp signature>::<mangled>.Frame*": find the '(' that
    // opens it by matching brackets backwards from the final ')'.
    std::size_t open = std::string_view::npos;
    int depth = 0;
    for (std::size_t i = pretty.size(); i-- > 0;) {
      char c = pretty[i];
      if (c == ')' || c == '>') ++depth;
      if (c == '(' || c == '<') --depth;
      if (depth == 0) {
        open = i;
        break;
      }
    }
    std::size_t mangled = pretty.rfind("::_Z");
    if (open != std::string_view::npos && mangled != std::string_view::npos && mangled > open) {
      return qualified_like(strip_return_type(pretty.substr(0, open)),
                            pretty.substr(open + 1, mangled - open - 1));
    }
  }
  return std::string(strip_return_type(pretty));
}

}  // namespace gprofid
