// Where the fields of one packed uevent record ("ACTION\0DEVPATH\0KEY=VALUE\0...", as ParseUevent
// makes it) are, so JS cuts keys and values out of the record's text at known offsets instead of
// searching it, and takes the common property names and values as small codes for strings it
// already holds (no new key string per property, no hashing of "block" per uevent).
// Pure (no N-API): fuzzed by native/fuzz/uevent_layout_fuzz.cc.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace storeventd {

// Code 0 is "not in the table"; code i names kUeventKeys[i - 1] / kUeventValues[i - 1].
extern const std::string_view kUeventKeys[];
extern const size_t kUeventKeyCount;
extern const std::string_view kUeventValues[];
extern const size_t kUeventValueCount;

struct UeventLayout {
  uint32_t action_end = 0;   // first NUL: ACTION is [0, action_end)
  uint32_t devpath_end = 0;  // second NUL or the record's end: DEVPATH is (action_end, devpath_end)
  uint8_t action = 0;        // value code of ACTION
};

// Lays out a packed record: appends, per KEY=VALUE segment after DEVPATH, the offsets of its key's
// start and of its '=' to `offs`, its key code to `keys` and its value code to `values` (values are
// coded for ACTION, SUBSYSTEM and DEVTYPE only). Returns false, appending nothing, when the record
// is not plain: not pure ASCII (byte offsets would not be string offsets), without both head
// segments, or with a segment that has no '=' or an empty key (never from ParseUevent).
bool LayoutPacked(std::string_view rec, UeventLayout& out, std::vector<uint32_t>& offs,
                  std::vector<uint8_t>& keys, std::vector<uint8_t>& values);

// The record's text as udevadm shows it, in place: the first NUL becomes '@', the others '\n'.
void PackedToRaw(char* rec, size_t size);

}  // namespace storeventd
