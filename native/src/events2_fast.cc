#include "events2_fast.h"

#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace storeventd {

uint32_t Events2Interner::Intern(std::string_view s, bool& fresh) {
  auto it = ids_.find(std::string(s));
  if (it != ids_.end()) return it->second;
  if (ids_.size() >= kMax) ids_.clear();
  uint32_t id = static_cast<uint32_t>(ids_.size());
  ids_.emplace(std::string(s), id);
  fresh = true;
  return id;
}

namespace {

// Value shapes. The order of the enum tables is that of src/drbd/model.ts (DISK_STATES,
// REPLICATION_STATES); src/drbd/fast.ts mirrors this file's key tables.
enum class Shape { kNum, kBool, kDisk, kRepl, kStr, kIgnore };

struct Key {
  std::string_view name;
  Shape shape;
};

constexpr std::array<std::string_view, 10> kDisk = {"Diskless", "Attaching", "Detaching", "Failed", "Negotiating",
                                                    "Inconsistent", "Outdated", "DUnknown", "Consistent", "UpToDate"};
constexpr std::array<std::string_view, 15> kRepl = {
    "Off", "Established", "StartingSyncS", "StartingSyncT", "WFBitMapS", "WFBitMapT", "WFSyncUUID", "SyncSource",
    "SyncTarget", "VerifyS", "VerifyT", "PausedSyncS", "PausedSyncT", "Ahead", "Behind"};

// Slots from kFirst on, in this order.
constexpr std::array<Key, 15> kDeviceKeys = {{
    {"minor", Shape::kNum}, {"disk", Shape::kDisk}, {"backing_dev", Shape::kStr}, {"client", Shape::kBool},
    {"open", Shape::kBool}, {"quorum", Shape::kBool}, {"size", Shape::kNum}, {"read", Shape::kNum},
    {"written", Shape::kNum}, {"al-writes", Shape::kNum}, {"bm-writes", Shape::kNum},
    {"upper-pending", Shape::kNum}, {"lower-pending", Shape::kNum}, {"al-suspended", Shape::kBool},
    {"blocked", Shape::kStr},
}};
constexpr std::array<Key, 13> kPeerDeviceKeys = {{
    {"conn-name", Shape::kStr}, {"replication", Shape::kRepl}, {"peer-disk", Shape::kDisk},
    {"peer-client", Shape::kBool}, {"resync-suspended", Shape::kStr}, {"received", Shape::kNum},
    {"sent", Shape::kNum}, {"out-of-sync", Shape::kNum}, {"pending", Shape::kNum}, {"unacked", Shape::kNum},
    {"done", Shape::kNum}, {"eta", Shape::kIgnore}, {"dbdt1", Shape::kIgnore},
}};

// Non-negative decimal integer of at most 9 digits (the model's int() accepts these the same).
bool Index(std::string_view v, double& out) {
  if (v.empty() || v.size() > 9) return false;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  out = static_cast<double>(n);
  return true;
}

// -?digits(.digits)? : Number() of these equals strtod's correctly rounded value.
bool Decimal(std::string_view v, double& out) {
  if (v.empty() || v.size() > 24) return false;
  size_t i = v[0] == '-' ? 1 : 0, digits = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') i++, digits++;
  if (digits == 0) return false;
  if (i < v.size() && v[i] == '.') {
    size_t frac = 0;
    for (i++; i < v.size() && v[i] >= '0' && v[i] <= '9'; i++) frac++;
    if (frac == 0) return false;
  }
  if (i != v.size()) return false;
  char buf[32];
  v.copy(buf, v.size());
  buf[v.size()] = '\0';
  out = std::strtod(buf, nullptr);
  return std::isfinite(out);
}

template <size_t N>
bool EnumIndex(const std::array<std::string_view, N>& table, std::string_view v, double& out) {
  for (size_t i = 0; i < N; i++) {
    if (table[i] == v) {
      out = static_cast<double>(i);
      return true;
    }
  }
  return false;
}

}  // namespace

int Events2FastFields(const Events2Line& line, Events2Interner& strings, double* slots) {
  using namespace events2fast;
  const double absent = std::numeric_limits<double>::quiet_NaN();
  for (int i = 0; i < kStride; i++) slots[i] = absent;
  slots[0] = kNone;
  if (line.status != Events2Line::Status::kOk || line.verb != "change") return kNone;
  int kind = line.object == "device" ? kDevice : line.object == "peer-device" ? kPeerDevice : kNone;
  if (kind == kNone) return kNone;
  const Key* keys = kind == kDevice ? kDeviceKeys.data() : kPeerDeviceKeys.data();
  size_t nkeys = kind == kDevice ? kDeviceKeys.size() : kPeerDeviceKeys.size();
  // Strings are interned only once the whole line qualifies, so JS hears of every id it sees.
  std::string_view strs[kStride];
  std::string_view name;
  for (const auto& f : line.fields) {
    if (f.key == "name") {
      if (f.value.empty()) return kNone;
      name = f.value;
      continue;
    }
    if (kind == kDevice && f.key == "volume") {
      if (!Index(f.value, slots[2])) return kNone;
      continue;
    }
    if (kind == kPeerDevice && (f.key == "peer-node-id" || f.key == "volume")) {
      if (!Index(f.value, slots[f.key == "volume" ? 3 : 2])) return kNone;
      continue;
    }
    size_t k = 0;
    while (k < nkeys && keys[k].name != f.key) k++;
    if (k == nkeys) return kNone;  // an unknown key: the model keeps it in `extra`
    int slot = kFirst + static_cast<int>(k);
    bool ok = true;
    switch (keys[k].shape) {
      case Shape::kNum: ok = Decimal(f.value, slots[slot]); break;
      case Shape::kBool:
        ok = f.value == "yes" || f.value == "no";
        slots[slot] = f.value == "yes" ? 1 : 0;
        break;
      case Shape::kDisk: ok = EnumIndex(kDisk, f.value, slots[slot]); break;
      case Shape::kRepl: ok = EnumIndex(kRepl, f.value, slots[slot]); break;
      case Shape::kStr:
        ok = !f.value.empty();
        strs[slot] = f.value;
        slots[slot] = 0;
        break;
      case Shape::kIgnore: break;
    }
    if (!ok) return kNone;
  }
  if (name.empty() || std::isnan(slots[2]) || (kind == kPeerDevice && std::isnan(slots[3]))) return kNone;
  bool fresh = false;
  slots[1] = strings.Intern(name, fresh);
  for (int i = kFirst; i < kStride; i++) {
    if (!strs[i].empty()) slots[i] = strings.Intern(strs[i], fresh);
  }
  slots[0] = kind + (fresh ? kAnnounce : 0);
  return kind;
}

}  // namespace storeventd
