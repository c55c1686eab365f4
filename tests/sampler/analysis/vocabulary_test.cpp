// The JSON schemas in docs/ spell the vocabularies the code writes: every enum there must equal the
// table it comes from, so neither can change without the other.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gprofid/recording/recording_format.hpp"
#include "gprofid/wait_reason.hpp"

namespace gprofid {
namespace {

nlohmann::json load_schema(const std::string& name) {
  std::ifstream in(std::string(GPROFID_SOURCE_DIR) + "/docs/" + name);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

std::vector<std::string> strings(const nlohmann::json& j) {
  return j.get<std::vector<std::string>>();
}

std::vector<std::string> wait_reasons_written() {
  std::vector<std::string> out;
  for (const auto& n : wait_reason_names) {
    if (n.reason != wait_reason::none) out.emplace_back(n.go);
  }
  return out;
}

std::vector<std::string> states_written() {
  return {goroutine_state_names.begin(), goroutine_state_names.end()};
}

TEST_CASE("recording.schema.json spells the recording vocabularies") {
  const auto schema = load_schema("recording.schema.json");
  const auto& g = schema.at("$defs").at("goroutine").at("properties");
  CHECK(strings(g.at("state").at("enum")) == states_written());
  CHECK(strings(g.at("wait").at("enum")) == wait_reasons_written());
  std::vector<std::string> ends(end_reason_names.begin(), end_reason_names.end());
  CHECK(strings(schema.at("$defs").at("end").at("properties").at("reason").at("enum")) == ends);
}

TEST_CASE("diff.schema.json spells the diff vocabularies") {
  const auto schema = load_schema("diff.schema.json");
  const auto& defs = schema.at("$defs");
  CHECK(strings(defs.at("state").at("enum")) == states_written());
  CHECK(strings(defs.at("wait_reason").at("oneOf").at(1).at("enum")) == wait_reasons_written());
}

TEST_CASE("every wait reason parses from each of its spellings") {
  for (const auto& n : wait_reason_names) {
    if (n.reason == wait_reason::none) continue;
    CHECK(parse_wait_reason(n.go) == n.reason);
    CHECK(parse_wait_reason_any(n.go) == n.reason);
    CHECK(parse_wait_reason_any(n.id) == n.reason);
    if (!n.alias.empty()) CHECK(parse_wait_reason_any(n.alias) == n.reason);
    CHECK(to_string(n.reason) == n.go);
  }
  CHECK_FALSE(parse_wait_reason_any("").has_value());
  CHECK_FALSE(parse_wait_reason_any("bogus").has_value());
}

}  // namespace
}  // namespace gprofid
