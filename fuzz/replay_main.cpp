// A fuzz driver for compilers without libFuzzer (g++): replays every file of the corpus
// directories given, then deterministic mutations of them (bit flips, truncations, duplicated,
// dropped and swapped lines, splices of two inputs, hostile values), through the target's
// LLVMFuzzerTestOneInput. Under ASan+UBSan this is the fuzz smoke of `make test`.
// Usage: TARGET [--mutations N] [--seconds S] [--seed X] PATH...
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

std::vector<std::string> read_inputs(const std::vector<std::string>& paths,
                                     std::vector<std::string>& names) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    if (!fs::exists(p)) {
      std::fprintf(stderr, "no %s: skipped\n", p.c_str());
    } else if (fs::is_directory(p)) {
      for (const auto& e : fs::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.emplace_back(p);
    }
  }
  std::sort(files.begin(), files.end());  // a deterministic order, hence deterministic mutations
  std::vector<std::string> inputs;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", f.c_str());
      std::exit(2);
    }
    inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    names.push_back(f.string());
  }
  return inputs;
}

// Values that broke or nearly broke readers before: huge and negative numbers, controls,
// escapes of invalid code points, ids that collide.
constexpr std::array<std::string_view, 14> hostile = {"18446744073709551615",
                                                      "-1",
                                                      "4294967296",
                                                      "1e400",
                                                      "\\u001b[31m",
                                                      "\\ud800",
                                                      "\\u0000",
                                                      "\xff\xfe",
                                                      "\"id\":0",
                                                      "null",
                                                      "[]",
                                                      "{}",
                                                      "\"type\":\"end\"",
                                                      "\"version\":2"};

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> lines;
  while (!s.empty()) {
    auto nl = s.find('\n');
    lines.push_back(s.substr(0, nl == s.npos ? s.size() : nl + 1));
    s.remove_prefix(lines.back().size());
  }
  return lines;
}

std::string mutate(const std::vector<std::string>& inputs, std::size_t which,
                   std::mt19937_64& rng) {
  std::string s = inputs[which];
  auto pick = [&](std::size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const int rounds = 1 + static_cast<int>(pick(4));
  for (int r = 0; r < rounds; ++r) {
    switch (pick(8)) {
      case 0:  // flip bits
        for (int k = 0, n = 1 + static_cast<int>(pick(8)); k < n && !s.empty(); ++k) {
          s[pick(s.size())] ^= static_cast<char>(1u << pick(8));
        }
        break;
      case 1:  // truncate
        s.resize(pick(s.size() + 1));
        break;
      case 2:
      case 3: {  // duplicate, drop or swap lines
        auto lines = split_lines(s);
        if (lines.empty()) break;
        const std::size_t a = pick(lines.size()), b = pick(lines.size());
        std::vector<std::string_view> out(lines);
        if (pick(3) == 0) {
          out.insert(out.begin() + static_cast<std::ptrdiff_t>(b), lines[a]);
        } else if (pick(2) == 0) {
          out.erase(out.begin() + static_cast<std::ptrdiff_t>(a));
        } else {
          std::swap(out[a], out[b]);
        }
        std::string joined;
        for (auto l : out) joined += l;
        s = std::move(joined);
        break;
      }
      case 4: {  // splice: a prefix of this input, a suffix of another
        const std::string& other = inputs[pick(inputs.size())];
        s = s.substr(0, pick(s.size() + 1)) + other.substr(pick(other.size() + 1));
        break;
      }
      case 5: {  // overwrite a number or a string's contents with a hostile value
        const std::size_t at = pick(s.size() + 1);
        const std::size_t len = std::min<std::size_t>(pick(12), s.size() - at);
        s.replace(at, len, hostile[pick(hostile.size())]);
        break;
      }
      case 6: {  // replace one digit run with another number
        const std::size_t at = s.find_first_of("0123456789", pick(s.size() + 1));
        if (at == std::string::npos) break;
        const std::size_t end = s.find_first_not_of("0123456789", at);
        s.replace(at, (end == std::string::npos ? s.size() : end) - at,
                  std::to_string(static_cast<std::int64_t>(rng() >> pick(64))));
        break;
      }
      default: {  // insert random bytes
        const std::size_t at = pick(s.size() + 1);
        std::string junk(1 + pick(8), '\0');
        for (auto& c : junk) c = static_cast<char>(rng());
        s.insert(at, junk);
        break;
      }
    }
  }
  return s;
}

void run(const std::string& s) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t mutations = 0;
  double seconds = 0;
  std::uint64_t seed = 1;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--mutations" && i + 1 < argc) {
      mutations = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::strtod(argv[++i], nullptr);
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else {
      paths.emplace_back(a);
    }
  }
  std::vector<std::string> names;
  const auto inputs = read_inputs(paths, names);
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: %s [--mutations N] [--seconds S] [--seed X] PATH...\n", argv[0]);
    return 2;
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    std::fprintf(stderr, "replay %s\n", names[i].c_str());
    run(inputs[i]);
  }
  std::mt19937_64 rng(seed);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::uint64_t done = 0;
  for (; mutations == 0 ? seconds > 0 : done < mutations; ++done) {
    if (seconds > 0 && (done & 63) == 0 && std::chrono::steady_clock::now() >= deadline) break;
    const std::size_t which = done % inputs.size();
    const std::string m = mutate(inputs, which, rng);
    if (std::getenv("FUZZ_REPLAY_SAVE")) {  // to find which mutation crashed
      std::ofstream(std::getenv("FUZZ_REPLAY_SAVE"), std::ios::binary) << m;
    }
    run(m);
  }
  std::fprintf(stderr, "%zu inputs replayed, %llu mutations run clean\n", inputs.size(),
               static_cast<unsigned long long>(done));
  return 0;
}
