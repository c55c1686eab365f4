#include <doctest/doctest.h>

#include <string>

#include "cli/duration.hpp"
#include "workloads/workload.hpp"

using namespace gprofid::workloads;

namespace {
std::int64_t duration(std::string_view s) {
  return gprofid::cli::parse_duration(s);
}
}  // namespace

TEST_CASE("every workload is listed, named uniquely, with parseable defaults") {
  CHECK(all_workloads().size() == 5);
  for (const auto& w : all_workloads()) {
    CAPTURE(w.name);
    CHECK(find_workload(w.name) == &w);
    CHECK(!w.description.empty());
    CHECK(static_cast<bool>(w.main));
    CHECK_NOTHROW(parse_options(w, {}, duration));
  }
  CHECK(find_workload("nope") == nullptr);
  CHECK(default_workload().name == "http");
}

TEST_CASE("workload options: defaults, overrides and errors") {
  const auto& w = *find_workload("worker-pool");
  auto args = parse_options(w, {"workers=7", "job_time=250us"}, duration);
  CHECK(args.count("workers") == 7);
  CHECK(args.duration("job_time").count() == 250'000);
  CHECK(args.count("queue") == 8);  // default
  CHECK_THROWS_AS(parse_options(w, {"nope=1"}, duration), option_error);
  CHECK_THROWS_AS(parse_options(w, {"workers"}, duration), option_error);
  CHECK_THROWS_AS(parse_options(w, {"workers=-1"}, duration), option_error);
  CHECK_THROWS_AS(parse_options(w, {"job_time=5"}, duration), option_error);
  const auto& h = *find_workload("http");
  CHECK(parse_options(h, {"slow_ratio=0.5"}, duration).ratio("slow_ratio") == 0.5);
  CHECK_THROWS_AS(parse_options(h, {"slow_ratio=1.5"}, duration), option_error);
}
