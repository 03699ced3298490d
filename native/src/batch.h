// A batch of records handed from a reader thread to JS in one call.
// Records are packed back to back in `bytes`; `ends[i]` is the end offset of record i, and
// `nums` holds `stride` numbers per record (reader-specific: seq, timestamp, ...). JS gets three
// typed arrays instead of one object per record (building JS objects in C++ is ~30x slower).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace storeventd {

struct Batch {
  std::string bytes;
  std::vector<uint32_t> ends;
  std::vector<double> nums;
  // Out-of-band status for this batch: records the reader knows it lost (ring overrun, ENOBUFS),
  // and a non-empty error ends the reader.
  double lost = 0;
  std::string error;
  // Lent, not copied: JS gets views of this batch's own memory for the length of its callback only
  // (they are detached after it), so no batch-sized garbage is left for the collector.
  bool lend = false;

  void Add(std::string_view record) {
    bytes.append(record);
    ends.push_back(static_cast<uint32_t>(bytes.size()));
  }
  size_t size() const { return ends.size(); }
  void clear() {
    bytes.clear();
    ends.clear();
    nums.clear();
    lost = 0;
    error.clear();
  }
  bool empty() const { return ends.empty() && lost == 0 && error.empty(); }
};

// Batches are recycled (their buffers kept): a fresh multi-100-KiB batch per hand-over cost page
// faults on every one (a third of the events2 reader's time) and let RSS drift.
Batch* AcquireBatch();
void RecycleBatch(Batch* b);

}  // namespace storeventd
