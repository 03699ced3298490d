// LineReader: the generic reader thread over a pipe or file fd (drbdsetup's stdout, tests).
// Records are lines; nums per record: [truncated (0|1)].
#include "fd_line_source.h"
#include "modules.h"
#include "reader_thread.h"
#include "reader_wrap.h"

namespace storeventd {
namespace {

class LineSource : public FdLineSource {
 public:
  using FdLineSource::FdLineSource;
  void OnLine(Batch& out, std::string_view line, bool truncated) override {
    out.Add(line);
    out.nums.push_back(truncated ? 1 : 0);
  }
  int Stride() const override { return 1; }
};

class LineReader : public ReaderWrap<LineReader> {
 public:
  // new LineReader(fd, maxLine): takes ownership of fd.
  explicit LineReader(const Napi::CallbackInfo& info) : ReaderWrap<LineReader>(info) {
    int fd;
    size_t max_line;
    if (!FdArgs(info, "LineReader(fd, maxLine?)", fd, max_line)) return;
    reader_ = std::make_unique<ReaderThread>(std::make_unique<LineSource>(fd, max_line), true);
  }
};

}  // namespace

void InitLineReader(Napi::Env env, Napi::Object exports) { exports.Set("LineReader", LineReader::Define(env, "LineReader")); }

}  // namespace storeventd
