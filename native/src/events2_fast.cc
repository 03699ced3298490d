#include "events2_fast.h"

#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace storeventd {

uint32_t Events2Interner::Intern(std::string_view s, bool& fresh) {
  auto it = ids_.find(s);
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
enum class Shape { kName, kIndex, kNum, kBool, kDisk, kRepl, kStr, kIgnore };

struct Key {
  std::string_view name;
  Shape shape;
  int slot;
};

constexpr std::array<std::string_view, 10> kDisk = {"Diskless", "Attaching", "Detaching", "Failed", "Negotiating",
                                                    "Inconsistent", "Outdated", "DUnknown", "Consistent", "UpToDate"};
constexpr std::array<std::string_view, 15> kRepl = {
    "Off", "Established", "StartingSyncS", "StartingSyncT", "WFBitMapS", "WFBitMapT", "WFSyncUUID", "SyncSource",
    "SyncTarget", "VerifyS", "VerifyT", "PausedSyncS", "PausedSyncT", "Ahead", "Behind"};

// In the order drbdsetup prints them (print_device_statistics & co), so the next key is usually
// the next entry; `slot` is where src/drbd/fast.ts reads the value.
constexpr std::array<Key, 17> kDeviceKeys = {{
    {"name", Shape::kName, 1}, {"volume", Shape::kIndex, 2}, {"minor", Shape::kNum, 4},
    {"backing_dev", Shape::kStr, 6}, {"disk", Shape::kDisk, 5}, {"client", Shape::kBool, 7},
    {"open", Shape::kBool, 8}, {"quorum", Shape::kBool, 9}, {"size", Shape::kNum, 10}, {"read", Shape::kNum, 11},
    {"written", Shape::kNum, 12}, {"al-writes", Shape::kNum, 13}, {"bm-writes", Shape::kNum, 14},
    {"upper-pending", Shape::kNum, 15}, {"lower-pending", Shape::kNum, 16}, {"al-suspended", Shape::kBool, 17},
    {"blocked", Shape::kStr, 18},
}};
constexpr std::array<Key, 16> kPeerDeviceKeys = {{
    {"name", Shape::kName, 1}, {"peer-node-id", Shape::kIndex, 2}, {"conn-name", Shape::kStr, 4},
    {"volume", Shape::kIndex, 3}, {"replication", Shape::kRepl, 5}, {"peer-disk", Shape::kDisk, 6},
    {"peer-client", Shape::kBool, 7}, {"resync-suspended", Shape::kStr, 8}, {"received", Shape::kNum, 9},
    {"sent", Shape::kNum, 10}, {"out-of-sync", Shape::kNum, 11}, {"pending", Shape::kNum, 12},
    {"unacked", Shape::kNum, 13}, {"done", Shape::kNum, 14}, {"eta", Shape::kIgnore, 15},
    {"dbdt1", Shape::kIgnore, 16},
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
  if (i == digits + (v[0] == '-') && digits <= 15) {
    // An integer below 2^53: exact without strtod.
    int64_t n = 0;
    for (size_t k = v[0] == '-'; k < v.size(); k++) n = n * 10 + (v[k] - '0');
    out = v[0] == '-' ? -static_cast<double>(n) : static_cast<double>(n);
    return true;
  }
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
  size_t next_key = 0;
  for (const auto& f : line.fields) {
    // drbdsetup prints keys in one order: try the one after the last match first.
    size_t k = next_key;
    if (k >= nkeys || keys[k].name != f.key) {
      k = 0;
      while (k < nkeys && keys[k].name != f.key) k++;
      if (k == nkeys) return kNone;  // an unknown key: the model keeps it in `extra`
    }
    next_key = k + 1;
    int slot = keys[k].slot;
    bool ok = true;
    switch (keys[k].shape) {
      case Shape::kName:
        ok = !f.value.empty();
        name = f.value;
        break;
      case Shape::kIndex: ok = Index(f.value, slots[slot]); break;
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
