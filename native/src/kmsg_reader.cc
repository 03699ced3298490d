// KmsgReader: the /dev/kmsg reader thread, plus kmsgDecode() (records of a text, for replay, tests
// and the bench) and kmsgClock() (the clocks used to map kernel timestamps to wall-clock time).
//
// On the character device one read(2) returns one record (EINVAL: the buffer is too small, grow
// it; EAGAIN: wait in poll; EPIPE: the ring overwrote records we had not read, the next read
// returns the oldest record left and the seq gap is the number lost). Delivery blocks when JS is
// behind: the kernel ring is the buffer and what it overwrites meanwhile becomes a reported gap.
// Any other path (a regular file or FIFO of recorded records, for tests) is split into records
// with KmsgTextSplitter and ends at EOF.
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "kmsg_record.h"
#include "modules.h"
#include "reader_thread.h"

namespace storeventd {
namespace {

constexpr size_t kInitialBuffer = 16 * 1024;  // > the kernel's 8 KiB record limit
constexpr size_t kMaxBuffer = 16 * 1024 * 1024;

struct KmsgOptions {
  std::string path = "/dev/kmsg";
  int whence = SEEK_SET;  // SEEK_SET: ring start, SEEK_END: only new records, SEEK_DATA: after the last clear
  double after_seq = -1;  // >= 0: skip records with seq <= after_seq (resume from a cursor)
  int slow_ms = 0;        // tests only: sleep this long per batch to provoke a ring overrun
};

class KmsgSource : public Source {
 public:
  explicit KmsgSource(KmsgOptions opt) : opt_(std::move(opt)), buf_(kInitialBuffer, '\0') {
    if (opt_.after_seq >= 0) expected_ = opt_.after_seq + 1;
  }

  int Open(std::string& err) override {
    fd_.reset(::open(opt_.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd_.valid()) {
      err = "open " + opt_.path + ": " + std::strerror(errno);
      return -1;
    }
    struct stat st {};
    if (::fstat(fd_.get(), &st) == 0 && S_ISCHR(st.st_mode)) {
      device_ = true;
      if (::lseek(fd_.get(), 0, opt_.whence) < 0) {
        err = "lseek " + opt_.path + ": " + std::strerror(errno);
        return -1;
      }
    }
    return fd_.get();
  }

  PumpResult Pump(Batch& out) override {
    if (opt_.slow_ms > 0) ::usleep(static_cast<useconds_t>(opt_.slow_ms) * 1000);
    return device_ ? PumpDevice(out) : PumpText(out);
  }

  bool OpenOnStart() const override { return true; }  // open + lseek of a character device: no blocking

  int Stride() const override { return kKmsgStride; }
  size_t MaxBatch() const override { return opt_.slow_ms > 0 ? 8 : 512; }
  // The kernel ring holds only ~1,400 records (~7 ms of a 200k/s flood), so a burst JS can't take
  // at once waits here instead: up to 256 batches (~100k records at a flood's batch size, tens of
  // MB at most) before the thread blocks and the ring overwrites. Tests that provoke an overrun
  // (slowMs) keep the small queue.
  size_t MaxQueue() const override { return opt_.slow_ms > 0 ? 64 : 256; }

 private:
  PumpResult PumpDevice(Batch& out) {
    while (out.size() < MaxBatch()) {
      ssize_t n = ::read(fd_.get(), buf_.data(), buf_.size());
      if (n > 0) {
        Take(std::string_view(buf_.data(), static_cast<size_t>(n)), out);
        continue;
      }
      if (n == 0) {
        out.error = "eof";
        return PumpResult::kEnd;
      }
      if (errno == EINTR || errno == EPIPE) continue;  // EPIPE: the gap shows in the next seq
      if (errno == EAGAIN) return PumpResult::kIdle;
      if (errno == EINVAL && buf_.size() < kMaxBuffer) {
        buf_.resize(buf_.size() * 2);
        continue;
      }
      out.error = std::string("read ") + opt_.path + ": " + std::strerror(errno);
      return PumpResult::kEnd;
    }
    return PumpResult::kMore;
  }

  PumpResult PumpText(Batch& out) {
    auto sink = [this, &out](std::string_view rec) { Take(rec, out); };
    ssize_t n = ::read(fd_.get(), buf_.data(), buf_.size());
    if (n > 0) {
      split_.Feed(std::string_view(buf_.data(), static_cast<size_t>(n)), sink);
      return PumpResult::kMore;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return PumpResult::kIdle;
    split_.Finish(sink);
    out.error = n < 0 ? std::string("read ") + opt_.path + ": " + std::strerror(errno) : "eof";
    return PumpResult::kEnd;
  }

  // Skips what the cursor says was handled and turns a seq gap into lost records.
  void Take(std::string_view rec, Batch& out) {
    KmsgHeader h = ParseKmsgHeader(rec);
    double lost = 0;
    if (h.status == KmsgStatus::kOk) {
      if (opt_.after_seq >= 0 && h.seq <= opt_.after_seq) return;
      if (expected_ >= 0 && h.seq > expected_) lost = h.seq - expected_;
      expected_ = h.seq + 1;
    }
    AppendKmsgRecord(rec, lost, out);
  }

  KmsgOptions opt_;
  Fd fd_;
  bool device_ = false;
  std::string buf_;
  KmsgTextSplitter split_;
  double expected_ = -1;
};

class KmsgReader : public ReaderWrap<KmsgReader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineReader(env, "KmsgReader");
  }
  // new KmsgReader({path?, seek?: "start"|"end"|"data", afterSeq?, slowMs?})
  KmsgReader(const Napi::CallbackInfo& info) : ReaderWrap<KmsgReader>(info) {
    auto env = info.Env();
    KmsgOptions opt;
    if (info.Length() > 0 && info[0].IsObject()) {
      auto o = info[0].As<Napi::Object>();
      auto path = o.Get("path");
      if (path.IsString()) opt.path = path.As<Napi::String>().Utf8Value();
      auto seek = o.Get("seek");
      if (seek.IsString()) {
        std::string s = seek.As<Napi::String>().Utf8Value();
        if (s == "end") opt.whence = SEEK_END;
        else if (s == "data") opt.whence = SEEK_DATA;
        else if (s != "start") {
          Napi::TypeError::New(env, "seek must be start, end or data").ThrowAsJavaScriptException();
          return;
        }
      }
      auto after = o.Get("afterSeq");
      if (after.IsNumber()) opt.after_seq = after.As<Napi::Number>().DoubleValue();
      auto slow = o.Get("slowMs");
      if (slow.IsNumber()) opt.slow_ms = slow.As<Napi::Number>().Int32Value();
    }
    reader_ = std::make_unique<ReaderThread>(std::make_unique<KmsgSource>(std::move(opt)), true);
  }
};

// kmsgDecode(text: Buffer | string) -> { bytes, ends, nums }: every record of a recorded text.
Napi::Value KmsgDecode(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  std::string owned;
  std::string_view text;
  if (info.Length() > 0 && info[0].IsBuffer()) {
    auto b = info[0].As<Napi::Buffer<char>>();
    text = std::string_view(b.Data(), b.Length());
  } else if (info.Length() > 0 && info[0].IsString()) {
    owned = info[0].As<Napi::String>().Utf8Value();
    text = owned;
  } else {
    Napi::TypeError::New(env, "kmsgDecode(buffer | string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // The result is handed over without copying: the three arrays share one heap Batch that the
  // last of their finalizers frees.
  struct Shared {
    Batch batch;
    int refs = 3;
    static void Drop(Napi::Env, void*, Shared* s) {
      if (--s->refs == 0) delete s;
    }
  };
  auto* sh = new Shared();
  AppendKmsgText(text, sh->batch);
  Batch& b = sh->batch;
  if (b.ends.empty()) {
    delete sh;
    auto obj = Napi::Object::New(env);
    obj.Set("bytes", Napi::Buffer<char>::New(env, 0));
    obj.Set("ends", Napi::Uint32Array::New(env, 0));
    obj.Set("nums", Napi::Float64Array::New(env, 0));
    return obj;
  }
  b.bytes.push_back('\0');  // never an empty (null) data pointer
  auto drop = [](Napi::Env e, void* d, Shared* s) { Shared::Drop(e, d, s); };
  auto bytes = Napi::Buffer<char>::New(env, b.bytes.data(), b.bytes.size() - 1, drop, sh);
  auto ends_ab = Napi::ArrayBuffer::New(env, b.ends.data(), b.ends.size() * sizeof(uint32_t), drop, sh);
  auto nums_ab = Napi::ArrayBuffer::New(env, b.nums.data(), b.nums.size() * sizeof(double), drop, sh);
  auto obj = Napi::Object::New(env);
  obj.Set("bytes", bytes);
  obj.Set("ends", Napi::Uint32Array::New(env, b.ends.size(), ends_ab, 0));
  obj.Set("nums", Napi::Float64Array::New(env, b.nums.size(), nums_ab, 0));
  return obj;
}

double ClockUs(clockid_t id) {
  timespec ts{};
  ::clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec / 1000);
}

// kmsgClock() -> { realtime_us, monotonic_us, boottime_us }, read back to back.
Napi::Value KmsgClock(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto obj = Napi::Object::New(env);
  double mono = ClockUs(CLOCK_MONOTONIC);
  double real = ClockUs(CLOCK_REALTIME);
  double boot = ClockUs(CLOCK_BOOTTIME);
  obj.Set("realtime_us", real);
  obj.Set("monotonic_us", mono);
  obj.Set("boottime_us", boot);
  return obj;
}

}  // namespace

void InitKmsg(Napi::Env env, Napi::Object exports) {
  exports.Set("KmsgReader", KmsgReader::Define(env));
  exports.Set("kmsgDecode", Napi::Function::New(env, KmsgDecode, "kmsgDecode"));
  exports.Set("kmsgClock", Napi::Function::New(env, KmsgClock, "kmsgClock"));
}

}  // namespace storeventd
