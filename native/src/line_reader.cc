// LineReader: the generic reader thread over a pipe or file fd (drbdsetup's stdout, tests).
// Records are lines; nums per record: [truncated (0|1)].
#include "fd_line_source.h"
#include "modules.h"
#include "reader_thread.h"

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
  static Napi::Function Define(Napi::Env env) {
    return DefineReader(env, "LineReader");
  }
  // new LineReader(fd, maxLine): takes ownership of fd.
  LineReader(const Napi::CallbackInfo& info) : ReaderWrap<LineReader>(info) {
    if (info.Length() < 1 || !info[0].IsNumber()) {
      Napi::TypeError::New(info.Env(), "LineReader(fd, maxLine?)").ThrowAsJavaScriptException();
      return;
    }
    int fd = info[0].As<Napi::Number>().Int32Value();
    size_t max_line = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int64Value() : 1 << 20;
    reader_ = std::make_unique<ReaderThread>(std::make_unique<LineSource>(fd, max_line ? max_line : 1), true);
  }
};

}  // namespace

void InitLineReader(Napi::Env env, Napi::Object exports) { exports.Set("LineReader", LineReader::Define(env)); }

}  // namespace storeventd
