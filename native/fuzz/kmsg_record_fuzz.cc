// libFuzzer target for the /dev/kmsg record decoder (native/src/kmsg_record.cc):
// any bytes, as one record and as a text of records; checks the packed batch is self-consistent
// and that unescaping never creates a control character the input did not hold literally.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kmsg_record.h"

using storeventd::Batch;

static void Check(const Batch& b) {
  if (b.nums.size() != b.ends.size() * storeventd::kKmsgStride) std::abort();
  uint32_t start = 0;
  for (size_t i = 0; i < b.ends.size(); i++) {
    uint32_t end = b.ends[i];
    if (end < start || end > b.bytes.size()) std::abort();
    const double* n = &b.nums[i * storeventd::kKmsgStride];
    double len = end - start;
    if (n[storeventd::kKmsgRawLen] > len || n[storeventd::kKmsgPropsOff] > len) std::abort();
    if (n[storeventd::kKmsgMsgOff] + n[storeventd::kKmsgMsgLen] > n[storeventd::kKmsgPropsOff]) std::abort();
    if (n[storeventd::kKmsgStatus] == 0 && (n[storeventd::kKmsgFlags] < 0 || n[storeventd::kKmsgPriority] > 7)) std::abort();
    start = end;
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Batch one;
  storeventd::AppendKmsgRecord(in, 0, one);
  Check(one);
  Batch many;
  storeventd::AppendKmsgText(in, many);
  Check(many);
  std::string out;
  storeventd::KmsgUnescape(in, out);
  bool literal_ctl = false;
  for (char c : in) literal_ctl |= static_cast<unsigned char>(c) < 0x20;
  if (!literal_ctl)
    for (char c : out)
      if (static_cast<unsigned char>(c) < 0x20) std::abort();
  return 0;
}
