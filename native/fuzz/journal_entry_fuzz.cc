// libFuzzer target for the journal entry packing (native/src/journal_entry.cc). Run:
// native/fuzz/run.sh 60 journal_entry. An input is an entry's data objects, one per line
// ("FIELD=value"), as sd_journal_enumerate_data would return them; seeds: the journal fixtures.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "journal_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  storeventd::JournalEntry e;
  std::string last_message;
  bool has_message = false;
  for (size_t pos = 0; pos <= in.size();) {
    size_t nl = in.find('\n', pos);
    if (nl == std::string_view::npos) nl = in.size();
    std::string_view field = in.substr(pos, nl - pos);
    storeventd::TakeJournalField(field, e);
    if (field.substr(0, 8) == "MESSAGE=") last_message.assign(field.substr(8)), has_message = true;
    pos = nl + 1;
  }
  storeventd::Batch b;
  b.Add("prefix");
  storeventd::AppendJournalEntry(e, "s=1;i=2", 1767225600000000, b);
  // Five strings after the prefix, ends ascending and inside the bytes, three numbers.
  if (b.ends.size() != 1 + storeventd::kJournalStrings || b.nums.size() != storeventd::kJournalStride) __builtin_trap();
  for (size_t i = 1; i < b.ends.size(); i++)
    if (b.ends[i] < b.ends[i - 1] || b.ends[i] > b.bytes.size()) __builtin_trap();
  // The message is the last MESSAGE= object's value, byte for byte.
  std::string_view msg(b.bytes.data() + b.ends[3], b.ends[4] - b.ends[3]);
  if (msg != (has_message ? std::string_view(last_message) : std::string_view())) __builtin_trap();
  double prio = b.nums[0], pid = b.nums[1];
  if (!(prio >= 0 && prio <= 7 && std::floor(prio) == prio)) __builtin_trap();
  if (!(pid >= 0 && pid < 1e15 && std::isfinite(pid))) __builtin_trap();
  return 0;
}
