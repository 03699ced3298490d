// libFuzzer target for the events2 tokenizer, its fast lane and the line splitter in front of them.
// Build and run: native/fuzz/run.sh events2 [seconds]
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "events2_fast.h"
#include "events2_tokenizer.h"
#include "line_split.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  storeventd::Events2Line line;
  storeventd::LineSplitter split(256);
  storeventd::Events2Interner strings;
  double slots[storeventd::events2fast::kStride];
  size_t lines = 0;
  auto sink = [&](std::string_view l, bool) {
    storeventd::TokenizeEvents2(l, line);
    // Every view must lie inside the line it came from.
    auto inside = [&](std::string_view v) {
      if (v.empty()) return;
      if (v.data() < l.data() || v.data() + v.size() > l.data() + l.size()) __builtin_trap();
    };
    inside(line.raw);
    inside(line.verb);
    inside(line.object);
    for (const auto& f : line.fields) {
      inside(f.key);
      inside(f.value);
      if (f.key.empty() || f.key.find(':') != std::string_view::npos) __builtin_trap();
    }
    int kind = storeventd::Events2FastFields(line, strings, slots);
    if (kind != static_cast<int>(slots[0]) % storeventd::events2fast::kAnnounce) __builtin_trap();
    lines++;
  };
  // Feed in two chunks to exercise partial lines.
  split.Feed(in.substr(0, size / 2), sink);
  split.Feed(in.substr(size / 2), sink);
  split.Finish(sink);
  int64_t t;
  storeventd::ParseEvents2Timestamp(in.substr(0, 32), t);
  return 0;
}
