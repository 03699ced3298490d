// LineReader: the generic reader thread over a pipe or file fd (drbdsetup's stdout, tests).
// Records are lines; nums per record: [truncated (0|1)].
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "line_split.h"
#include "modules.h"
#include "reader_thread.h"

namespace storeventd {
namespace {

class LineSource : public Source {
 public:
  LineSource(int fd, size_t max_line) : fd_(fd), split_(max_line) {}
  int Open(std::string& err) override {
    int fl = ::fcntl(fd_.get(), F_GETFL);
    if (fl < 0 || ::fcntl(fd_.get(), F_SETFL, fl | O_NONBLOCK) < 0) {
      err = std::string("fcntl: ") + std::strerror(errno);
      return -1;
    }
    return fd_.get();
  }
  PumpResult Pump(Batch& out) override {
    char buf[65536];
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    auto sink = [&out](std::string_view line, bool truncated) {
      out.Add(line);
      out.nums.push_back(truncated ? 1 : 0);
    };
    if (n > 0) {
      split_.Feed(std::string_view(buf, static_cast<size_t>(n)), sink);
      return PumpResult::kMore;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return PumpResult::kIdle;
    split_.Finish(sink);
    if (n < 0) out.error = std::string("read: ") + std::strerror(errno);
    else out.error = "eof";
    return PumpResult::kEnd;
  }
  int Stride() const override { return 1; }

 private:
  Fd fd_;
  LineSplitter split_;
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
