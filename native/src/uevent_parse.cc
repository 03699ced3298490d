#include "uevent_parse.h"

#include <cstring>

namespace storeventd {
namespace {

// Appends every KEY=VALUE segment of [p, end) to out (each preceded by NUL); remembers the last
// ACTION= and DEVPATH= values when asked.
void AppendProps(std::string_view body, std::string& out, std::string_view* action, std::string_view* devpath) {
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nul = body.find('\0', pos);
    if (nul == std::string_view::npos) nul = body.size();
    std::string_view seg = body.substr(pos, nul - pos);
    pos = nul + 1;
    size_t eq = seg.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    if (action && seg.substr(0, eq) == "ACTION") *action = seg.substr(eq + 1);
    if (devpath && seg.substr(0, eq) == "DEVPATH") *devpath = seg.substr(eq + 1);
    out.push_back('\0');
    out.append(seg);
  }
}

uint32_t HostU32(std::string_view msg, size_t at) {
  uint32_t v;
  std::memcpy(&v, msg.data() + at, sizeof v);
  return v;
}

bool ValidAction(std::string_view a) {
  if (a.empty() || a.size() > 32) return false;
  for (char c : a)
    if (c < 'a' || c > 'z') return false;
  return true;
}

UeventFormat ParseUdev(std::string_view msg, std::string& out, const char*& reason) {
  if (msg.size() < kUdevHeaderSize) { reason = "udev header truncated"; return UeventFormat::kBad; }
  const unsigned char* m = reinterpret_cast<const unsigned char*>(msg.data()) + 8;
  uint32_t magic = (uint32_t(m[0]) << 24) | (uint32_t(m[1]) << 16) | (uint32_t(m[2]) << 8) | m[3];
  if (magic != kUdevMagic) { reason = "udev magic mismatch"; return UeventFormat::kBad; }
  uint32_t off = HostU32(msg, 16), len = HostU32(msg, 20);
  if (off < kUdevHeaderSize || off > msg.size()) { reason = "udev properties offset out of range"; return UeventFormat::kBad; }
  size_t end = len > msg.size() - off ? msg.size() : off + len;
  std::string props;
  std::string_view action, devpath;
  AppendProps(msg.substr(off, end - off), props, &action, &devpath);
  if (action.empty() || devpath.empty()) { reason = "udev message without ACTION or DEVPATH"; return UeventFormat::kBad; }
  out.append(action);
  out.push_back('\0');
  out.append(devpath);
  out.append(props);
  return UeventFormat::kUdev;
}

}  // namespace

UeventFormat ParseUevent(std::string_view msg, std::string& out, const char*& reason) {
  reason = "";
  if (msg.empty()) { reason = "empty message"; return UeventFormat::kBad; }
  if (msg.size() >= 8 && std::memcmp(msg.data(), "libudev\0", 8) == 0) return ParseUdev(msg, out, reason);
  size_t nul = msg.find('\0');
  if (nul == std::string_view::npos) { reason = "kernel header without properties"; return UeventFormat::kBad; }
  std::string_view header = msg.substr(0, nul);
  size_t at = header.find('@');
  if (at == std::string_view::npos || !ValidAction(header.substr(0, at)) || at + 1 >= header.size() ||
      header[at + 1] != '/') {
    reason = "bad kernel header (want ACTION@/devpath)";
    return UeventFormat::kBad;
  }
  out.append(header.substr(0, at));
  out.push_back('\0');
  out.append(header.substr(at + 1));
  AppendProps(msg.substr(nul + 1), out, nullptr, nullptr);
  return UeventFormat::kKernel;
}

std::string_view BlockSizeDevpath(std::string_view packed) {
  size_t a = packed.find('\0');
  if (a == std::string_view::npos) return {};
  std::string_view action = packed.substr(0, a);
  size_t d = packed.find('\0', a + 1);
  std::string_view devpath = packed.substr(a + 1, d == std::string_view::npos ? std::string_view::npos : d - a - 1);
  if (action == "remove" || devpath.empty() || devpath[0] != '/' || devpath.find("..") != std::string_view::npos) return {};
  bool block = false;
  while (d != std::string_view::npos) {
    size_t next = packed.find('\0', d + 1);
    std::string_view seg = packed.substr(d + 1, next == std::string_view::npos ? std::string_view::npos : next - d - 1);
    if (seg == "SUBSYSTEM=block") block = true;
    d = next;
  }
  return block ? devpath : std::string_view{};
}

}  // namespace storeventd
