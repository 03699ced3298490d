// Pure parser of one NETLINK_KOBJECT_UEVENT message (no N-API: fuzzed by native/fuzz/uevent_parse_fuzz.cc).
//
// Two wire formats arrive on the socket:
//  - the kernel's (lib/kobject_uevent.c): "ACTION@DEVPATH\0KEY=VALUE\0...KEY=VALUE\0";
//  - udevd's re-broadcast (systemd src/libsystemd/sd-device/device-monitor.c): a 40-byte header
//    {char prefix[8] = "libudev\0"; u32 magic = htobe32(0xfeedcafe); u32 header_size;
//     u32 properties_off; u32 properties_len; 4 x u32 filter hashes} (offsets and lengths in host
//    order) followed by the NUL-separated KEY=VALUE properties.
// Both become one packed record: "ACTION\0DEVPATH\0KEY=VALUE\0...KEY=VALUE" (no trailing NUL);
// segments without '=' (or with an empty key) are skipped. src/uevent/parse.ts is the TS twin.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace storeventd {

enum class UeventFormat : uint8_t { kKernel = 1, kUdev = 2, kBad = 3 };

inline constexpr size_t kUdevHeaderSize = 40;
inline constexpr uint32_t kUdevMagic = 0xfeedcafe;

// Appends the packed record to `out` and returns its format; on kBad appends nothing and sets
// `reason` to a static string naming the defect.
UeventFormat ParseUevent(std::string_view msg, std::string& out, const char*& reason);

// The DEVPATH of a packed record (as ParseUevent makes it) whose size the reader thread reads from
// sysfs before JS sees the uevent: SUBSYSTEM=block and not a removal. Empty otherwise, or when the
// devpath could step out of sysfs ("..", or not starting with "/").
std::string_view BlockSizeDevpath(std::string_view packed);

}  // namespace storeventd
