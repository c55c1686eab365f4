#include "json_stream.hpp"

#include "gprofid/recording/json_text.hpp"

namespace gprofid::json_out {

// The recording's escaping, which writes what nlohmann's dump() (error_handler_t::replace)
// writes, byte for byte (tests/sampler/recording/json_text_test.cpp): the pair JSON, the summary
// JSON and a v1 recording spell one string the same way.
void stream::append_string(std::string_view s) {
  append_json_string(buf_, s);
}

}  // namespace gprofid::json_out
