// A gzip member (RFC 1952) whose deflate data is "stored" blocks (RFC 1951 3.2.4, BTYPE 00):
// the framing Go's /debug/pprof endpoints use, without a compressor. Every gunzip, Go's
// compress/gzip (so `go tool pprof`) and zlib read it; it is 5 bytes per 64 KiB larger than the
// input instead of smaller. Used where the program must not link zlib (the HTTP debug service).
#pragma once

#include <string>
#include <string_view>

namespace gprofid {

std::string gzip_stored(std::string_view data);

}  // namespace gprofid
