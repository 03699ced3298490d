// libFuzzer target for the uevent parser (native/src/uevent_parse.cc). Run: native/fuzz/run.sh 60 uevent_parse
// Seeds: native/fuzz/corpus/uevent_parse/ (a kernel and a libudev message).
#include <cstddef>
#include <cstdint>
#include <string>

#include "uevent_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string out = "prefix";
  const char* reason = nullptr;
  auto f = storeventd::ParseUevent(std::string_view(reinterpret_cast<const char*>(data), size), out, reason);
  if (reason == nullptr) __builtin_trap();
  if (f == storeventd::UeventFormat::kBad) {
    // A bad message appends nothing and names its defect.
    if (out != "prefix" || *reason == '\0') __builtin_trap();
  } else {
    // ACTION\0DEVPATH[\0KEY=VALUE...]: a kernel record is never longer than its message; a udev
    // record repeats ACTION and DEVPATH from the properties, so at most twice as long.
    std::string_view rec = std::string_view(out).substr(6);
    size_t nul = rec.find('\0');
    if (nul == std::string_view::npos || nul == 0) __builtin_trap();
    if (rec.size() > (f == storeventd::UeventFormat::kKernel ? size : 2 * size)) __builtin_trap();
    if (f == storeventd::UeventFormat::kKernel && rec[nul + 1] != '/') __builtin_trap();
    // The sysfs path the reader would open stays inside the record and inside sysfs.
    std::string_view dp = storeventd::BlockSizeDevpath(rec);
    if (!dp.empty() && (dp[0] != '/' || dp.find("..") != std::string_view::npos || dp.data() < rec.data() ||
                        dp.data() + dp.size() > rec.data() + rec.size())) __builtin_trap();
  }
  return 0;
}
