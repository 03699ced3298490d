#include "uevent_layout.h"

#include <array>
#include <cstring>

namespace storeventd {

// Property names storage uevents carry (kernel and udevd). The TS side takes this table from the
// addon (ueventNames()), so the two can't disagree.
const std::string_view kUeventKeys[] = {
    "ACTION", "DEVPATH", "SUBSYSTEM", "SEQNUM", "MAJOR", "MINOR", "DEVNAME", "DEVTYPE", "DISKSEQ", "DEVLINKS",
    "DEVPATH_OLD", "DISK_MEDIA_CHANGE", "RESIZE", "DRIVER", "MODALIAS", "PARTN", "PARTNAME", "SDEV_UA",
    "SDEV_MEDIA_CHANGE", "NVME_AEN", "DM_ACTION", "DM_NAME", "DM_UUID", "DM_SEQNUM", "DM_PATH",
    "DM_NR_VALID_PATHS", "DM_TARGET", "DM_COOKIE", "MD_UUID", "ID_SERIAL", "ID_SERIAL_SHORT", "ID_WWN",
    "ID_WWN_WITH_EXTENSION", "ID_MODEL", "ID_PATH", "TAGS", "CURRENT_TAGS", "USEC_INITIALIZED", "DEVMODE",
    "DEVUID", "DEVGID", "HOTPLUG", "SYNTH_UUID", "ID_FS_TYPE", "ID_FS_UUID", "ID_PART_TABLE_TYPE",
    "ID_PART_ENTRY_NUMBER", "ID_BUS", "ID_TYPE", "ID_REVISION", "ID_VENDOR", "ID_PATH_TAG",
};
const size_t kUeventKeyCount = sizeof kUeventKeys / sizeof kUeventKeys[0];

// ACTION, SUBSYSTEM and DEVTYPE values.
const std::string_view kUeventValues[] = {
    "add", "remove", "change", "move", "online", "offline", "bind", "unbind",
    "block", "scsi", "nvme", "scsi_disk", "scsi_device", "scsi_host", "usb", "net", "bdi", "nvme-subsystem",
    "disk", "partition", "scsi_target", "usb_device", "usb_interface",
};
const size_t kUeventValueCount = sizeof kUeventValues / sizeof kUeventValues[0];

namespace {

// Open-addressing table of codes, hashed by length, first, middle and last character (names share
// prefixes such as ID_ and DM_; the table is sparse so a miss usually ends at the first empty slot).
template <size_t N>
struct CodeTable {
  std::array<uint8_t, N> slot{};
  static_assert((N & (N - 1)) == 0, "N: a power of two");
  static size_t Hash(std::string_view s) {
    auto at = [&](size_t i) { return static_cast<size_t>(static_cast<unsigned char>(s[i])); };
    return (s.size() * 131 + at(0) * 31 + at(s.size() / 2) * 7 + at(s.size() - 1) * 3) & (N - 1);
  }
  CodeTable(const std::string_view* names, size_t n) {
    for (size_t i = 0; i < n; i++) {
      size_t h = Hash(names[i]);
      while (slot[h] != 0) h = (h + 1) & (N - 1);
      slot[h] = static_cast<uint8_t>(i + 1);
    }
  }
  uint8_t Find(std::string_view s, const std::string_view* names) const {
    if (s.empty()) return 0;
    for (size_t h = Hash(s);; h = (h + 1) & (N - 1)) {
      uint8_t c = slot[h];
      if (c == 0) return 0;
      if (names[c - 1] == s) return c;
    }
  }
};

const CodeTable<512> kKeyTable(kUeventKeys, kUeventKeyCount);
const CodeTable<128> kValueTable(kUeventValues, kUeventValueCount);

// Eight bytes at a time: the byte loop was not vectorized at -O2 and took most of the layout's time.
bool Ascii(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t any = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    any |= w;
  }
  for (; n > 0; p++, n--) any |= static_cast<unsigned char>(*p);
  return (any & 0x8080808080808080ULL) == 0;
}

}  // namespace

bool LayoutPacked(std::string_view rec, UeventLayout& out, std::vector<uint32_t>& offs,
                  std::vector<uint8_t>& keys, std::vector<uint8_t>& values) {
  if (rec.size() >= UINT32_MAX || !Ascii(rec)) return false;
  size_t a = rec.find('\0');
  if (a == std::string_view::npos) return false;
  size_t b = rec.find('\0', a + 1);
  if (b == std::string_view::npos) b = rec.size();
  size_t mark = offs.size();
  size_t pos = b;
  while (pos < rec.size()) {
    size_t start = pos + 1;
    size_t nul = rec.find('\0', start);
    if (nul == std::string_view::npos) nul = rec.size();
    std::string_view seg = rec.substr(start, nul - start);
    size_t eq = seg.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      offs.resize(mark);
      keys.resize(mark / 2);
      values.resize(mark / 2);
      return false;
    }
    uint8_t key = kKeyTable.Find(seg.substr(0, eq), kUeventKeys);
    // Codes 1, 3, 8: ACTION, SUBSYSTEM, DEVTYPE.
    uint8_t value = key == 1 || key == 3 || key == 8 ? kValueTable.Find(seg.substr(eq + 1), kUeventValues) : 0;
    offs.push_back(static_cast<uint32_t>(start));
    offs.push_back(static_cast<uint32_t>(start + eq));
    keys.push_back(key);
    values.push_back(value);
    pos = nul;
  }
  out.action_end = static_cast<uint32_t>(a);
  out.devpath_end = static_cast<uint32_t>(b);
  out.action = kValueTable.Find(rec.substr(0, a), kUeventValues);
  return true;
}

void PackedToRaw(char* rec, size_t size) {
  char* nul = static_cast<char*>(std::memchr(rec, '\0', size));
  if (!nul) return;
  *nul = '@';
  char* end = rec + size;
  for (char* p = nul + 1; p < end && (p = static_cast<char*>(std::memchr(p, '\0', end - p))) != nullptr; p++) *p = '\n';
}

}  // namespace storeventd
