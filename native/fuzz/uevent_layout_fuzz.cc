// libFuzzer target for the uevent layout (native/src/uevent_layout.cc). Run: native/fuzz/run.sh 60 uevent_layout
// The input is taken as one packed record. Checks: a refused record appends nothing; a laid-out one
// has its offsets in order and inside the record, each '=' where the offsets say, codes that name
// exactly the key (and value) text; PackedToRaw leaves no NUL and changes only the NULs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "uevent_layout.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace storeventd;
  std::string_view rec(reinterpret_cast<const char*>(data), size);
  std::vector<uint32_t> offs{7, 7};  // entries from before: must stay as they are
  std::vector<uint8_t> keys{1}, values{0};
  UeventLayout l;
  bool laid = LayoutPacked(rec, l, offs, keys, values);
  if (offs.size() != 2 * keys.size() || keys.size() != values.size() || offs[0] != 7 || keys[0] != 1) __builtin_trap();
  if (!laid) {
    if (offs.size() != 2) __builtin_trap();
    return 0;
  }
  if (l.action_end >= size || rec[l.action_end] != '\0' || l.devpath_end < l.action_end + 1 || l.devpath_end > size) __builtin_trap();
  if (l.action != 0 && kUeventValues[l.action - 1] != rec.substr(0, l.action_end)) __builtin_trap();
  size_t prev_end = l.devpath_end;
  for (size_t j = 1; j < keys.size(); j++) {
    uint32_t start = offs[2 * j], eq = offs[2 * j + 1];
    size_t end = j + 1 < keys.size() ? offs[2 * j + 2] - 1 : size;
    if (start != prev_end + 1 || rec[start - 1] != '\0' || eq <= start || eq >= end || rec[eq] != '=') __builtin_trap();
    if (end > size || (end < size && rec[end] != '\0')) __builtin_trap();
    std::string_view key = rec.substr(start, eq - start), value = rec.substr(eq + 1, end - eq - 1);
    if (key.find('\0') != std::string_view::npos || value.find('\0') != std::string_view::npos) __builtin_trap();
    if (keys[j] > kUeventKeyCount || values[j] > kUeventValueCount) __builtin_trap();
    if (keys[j] != 0 && kUeventKeys[keys[j] - 1] != key) __builtin_trap();
    if (values[j] != 0 && kUeventValues[values[j] - 1] != value) __builtin_trap();
    prev_end = end;
  }
  if (prev_end != size) __builtin_trap();
  std::string raw(rec);
  PackedToRaw(raw.data(), raw.size());
  if (raw.find('\0') != std::string::npos) __builtin_trap();
  for (size_t i = 0; i < size; i++) {
    char want = rec[i] != '\0' ? rec[i] : i == l.action_end ? '@' : '\n';
    if (raw[i] != want) __builtin_trap();
  }
  return 0;
}
