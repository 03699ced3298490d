// Pure line splitting shared by line-oriented readers (events2, and the fuzz target).
// Feeds arbitrary chunks; emits complete lines without the '\n'. A line longer than max_line is
// cut at max_line, marked truncated, and the rest of it up to the next '\n' is skipped.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace storeventd {

class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line) : max_line_(max_line) {}
  using Sink = std::function<void(std::string_view line, bool truncated)>;

  void Feed(std::string_view chunk, const Sink& sink) {
    while (!chunk.empty()) {
      size_t nl = chunk.find('\n');
      // A whole line inside the chunk goes out as a view, uncopied.
      if (partial_.empty() && !skipping_ && nl != std::string_view::npos && nl <= max_line_) {
        sink(chunk.substr(0, nl), false);
        chunk.remove_prefix(nl + 1);
        continue;
      }
      std::string_view part = chunk.substr(0, nl);
      if (!skipping_) {
        size_t room = max_line_ - partial_.size();
        if (part.size() > room) {
          partial_.append(part.substr(0, room));
          sink(partial_, true);
          partial_.clear();
          skipping_ = true;
        } else {
          partial_.append(part);
        }
      }
      if (nl == std::string_view::npos) return;
      if (!skipping_) sink(partial_, false);
      partial_.clear();
      skipping_ = false;
      chunk.remove_prefix(nl + 1);
    }
  }
  // End of input: a last line without '\n' still counts.
  void Finish(const Sink& sink) {
    if (!partial_.empty() && !skipping_) sink(partial_, false);
    partial_.clear();
    skipping_ = false;
  }

 private:
  size_t max_line_;
  std::string partial_;
  bool skipping_ = false;
};

}  // namespace storeventd
