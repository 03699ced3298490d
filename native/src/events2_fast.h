// The fast lane of events2 statistics: for a `change device` or `change peer-device` line whose every
// key is known and every value has the expected shape, numbers, enum indexes and interned string ids
// in fixed slots (Events2Fast::kStride doubles), so JS can update the model without a string or an
// object per line (src/drbd/fast.ts reads them). Any other line gets kind kNone and goes the generic
// way (bytes), as does any line whose values are not what this lane can prove harmless.
// Pure (no N-API): fuzzed through native/fuzz/events2_fuzz.cc.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "events2_tokenizer.h"

namespace storeventd {

// Interns identity strings (resource names, connection names, backing devices): the same text gets
// the same id until the table is full, then it starts over (ids are announced again when first used).
class Events2Interner {
 public:
  static constexpr size_t kMax = 1 << 16;
  // The id of s; `fresh` is set when JS has not been told this id's text yet.
  uint32_t Intern(std::string_view s, bool& fresh);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> ids_;
};

namespace events2fast {
// slots[0]: kind (+ kAnnounce when a string id is new: JS learns its text from the record's bytes)
enum Kind { kNone = 0, kDevice = 1, kPeerDevice = 2, kAnnounce = 16 };
constexpr int kStride = 19;
// slots[1]: name id; device: [2] volume; peer device: [2] peer-node-id, [3] volume; then per kind:
constexpr int kFirst = 4;
}  // namespace events2fast

// Fills slots[0..kStride) (NaN = key absent); returns the kind (without kAnnounce).
int Events2FastFields(const Events2Line& line, Events2Interner& strings, double* slots);

}  // namespace storeventd
