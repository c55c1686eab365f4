#include "gprofid/recording/gzip_stored.hpp"

#include <doctest/doctest.h>
#include <zlib.h>

#include <string>

#include "gprofid/recording/crc32c.hpp"

namespace gprofid {
namespace {

// zlib's gunzip, as `go tool pprof` and every gzip reader do it.
std::string gunzip(const std::string& in) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  std::string out;
  char buf[65536];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  CHECK(z.avail_in == 0);  // nothing after the trailer
  inflateEnd(&z);
  REQUIRE(rc == Z_STREAM_END);  // the trailer's CRC and size matched
  return out;
}

TEST_CASE("crc32_ieee: the check value, and extending equals one pass") {
  CHECK(crc32_ieee(0, "123456789", 9) == 0xCBF43926u);
  CHECK(crc32_ieee(crc32_ieee(0, "1234", 4), "56789", 5) == 0xCBF43926u);
  CHECK(crc32_ieee(0, "", 0) == 0u);
}

TEST_CASE("gzip_stored: zlib reads back every size, blocks of at most 64 KiB") {
  for (std::size_t n : {0u, 1u, 65534u, 65535u, 65536u, 200000u}) {
    CAPTURE(n);
    std::string data(n, '\0');
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<char>(i * 7 + i / 300);
    const std::string z = gzip_stored(data);
    CHECK(z.size() == 18 + n + 5 * (n == 0 ? 1 : (n + 65534) / 65535));
    CHECK(gunzip(z) == data);
  }
}

}  // namespace
}  // namespace gprofid
