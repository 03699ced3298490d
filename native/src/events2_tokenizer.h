// Pure tokenizer of `drbdsetup events2` lines (no N-API; fuzzed by native/fuzz/events2_fuzz.cc).
// The rules are those of src/drbd/events2.ts, its TypeScript twin (a differential test keeps them
// equal):
//   [TIMESTAMP ' '] VERB ' ' OBJECT (' ' KEY ':' VALUE)*
// - tokens are separated by runs of ' ' or '\t'; one trailing '\r' is dropped; an empty line is nothing
// - TIMESTAMP is `--timestamps`' 2026-11-26T00:30:36.123456+01:00 (drbdsetup_events2.c
//   format_timestamp) and becomes time_us
// - VERB is exists|create|change|destroy|call|response|rename, else the line is garbage
// - OBJECT is any token; a missing object is garbage
// - a field splits at its first ':'; a token without ':' or with an empty key is skipped
// - a NUL byte makes the line garbage
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace storeventd {

struct Events2Field {
  std::string_view key;
  std::string_view value;
};

struct Events2Line {
  enum class Status { kEmpty, kOk, kGarbage };
  Status status = Status::kEmpty;
  std::string_view raw;     // the line without a trailing '\r'
  std::string_view verb;
  std::string_view object;
  std::vector<Events2Field> fields;
  bool has_time = false;
  int64_t time_us = 0;
  const char* reason = "";  // for kGarbage
};

// Parses a `--timestamps` token; false if `tok` is not one.
bool ParseEvents2Timestamp(std::string_view tok, int64_t& time_us);

// Tokenizes `line` (no '\n') into `out`; views point into `line`. `out.fields` is reused.
void TokenizeEvents2(std::string_view line, Events2Line& out);

}  // namespace storeventd
