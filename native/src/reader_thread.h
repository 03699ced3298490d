// The reader-thread pattern every native sender uses (Bun has no libuv, so no uv_poll):
// one std::thread blocks in poll() on the source fd plus an eventfd used only to wake it for
// shutdown; what it reads goes to JS as a Batch through a TypedThreadSafeFunction.
//
// A reader supplies a Source: Open() returns the fd (or an error), Pump() reads what is ready into
// the batch and says whether to continue. The ReaderThread owns the thread, the eventfd and the TSFN;
// Close() is idempotent: wake, join, release. Nothing here throws across the N-API boundary.
#pragma once
#include <napi.h>
#include <poll.h>
#include <sys/eventfd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "batch.h"
#include "fd.h"

namespace storeventd {

enum class PumpResult { kMore, kIdle, kEnd };

class Source {
 public:
  virtual ~Source() = default;
  // Called on the reader thread (on the JS thread in start() when OpenOnStart()). Returns the fd
  // to wait on, or -1 with `err` set.
  virtual int Open(std::string& err) = 0;
  // True when Open() is cheap and must happen on start() (it fixes what "from now on" means).
  virtual bool OpenOnStart() const { return false; }
  // Fd is readable (or poll said HUP/ERR): read into `out`. kMore: call again without waiting;
  // kIdle: wait for the fd; kEnd: the source is finished (out.error may say why).
  virtual PumpResult Pump(Batch& out) = 0;
  // Numbers per record in Batch::nums.
  virtual int Stride() const = 0;
  // Largest batch before it is handed over, in records.
  virtual size_t MaxBatch() const { return 512; }
  // Batches waiting for JS at most. Blocking readers need few: their fd is the buffer.
  virtual size_t MaxQueue() const { return 64; }
  // True when the JS callback uses its arrays synchronously only: they are then lent (Batch::lend).
  virtual bool Lend() const { return false; }
  // How long to wait for the fd before calling Pump() anyway (ms; -1: only when the fd is ready).
  virtual int TimeoutMs() { return -1; }
};

void DeliverBatch(Napi::Env env, Napi::Function cb, std::nullptr_t*, Batch* batch);

// A JS typed array holding a copy of v (Uint32Array for uint32_t, Float64Array for double, ...).
template <typename T>
Napi::TypedArrayOf<T> CopyToTypedArray(Napi::Env env, const std::vector<T>& v) {
  auto a = Napi::TypedArrayOf<T>::New(env, v.size());
  if (!v.empty()) std::memcpy(a.Data(), v.data(), v.size() * sizeof(T));
  return a;
}
using BatchTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, Batch, DeliverBatch>;

class ReaderThread {
 public:
  // blocking: if true, the thread waits when JS is behind (the kernel ring is the buffer);
  // if false, a batch that finds the queue full is dropped and counted in `dropped`.
  ReaderThread(std::unique_ptr<Source> src, bool blocking) : src_(std::move(src)), blocking_(blocking) {}
  ~ReaderThread() { Close(); }

  // Starts the thread; `cb(bytes, ends, nums, lost, error)` runs on the JS thread per batch.
  bool Start(Napi::Env env, Napi::Function cb, std::string& err);
  void Close();
  // Lets a short-lived command exit while the reader still runs.
  void Unref(Napi::Env env) { if (started_) tsfn_.Unref(env); }
  void Ref(Napi::Env env) { if (started_) tsfn_.Ref(env); }
  double dropped() const { return dropped_.load(); }

 private:
  void Loop();
  bool Hand(Batch* b);

  std::unique_ptr<Source> src_;
  bool blocking_;
  Fd wake_;
  BatchTsfn tsfn_;
  std::thread thread_;
  int open_fd_ = -1;
  std::string open_err_;
  bool opened_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<double> dropped_{0};
  bool started_ = false;
  bool closed_ = false;
};

}  // namespace storeventd

namespace storeventd {

// The JS face every reader class shares: start(cb), close(), unref(), ref(). A reader class
// derives from ReaderWrap<Self>, sets `reader_` in its constructor and defines itself with
// DefineReader(env, "Name", {extra methods...}).
template <typename Derived>
class ReaderWrap : public Napi::ObjectWrap<Derived> {
 public:
  using Wrap = Napi::ObjectWrap<Derived>;
  explicit ReaderWrap(const Napi::CallbackInfo& info) : Wrap(info) {}
  ~ReaderWrap() override {
    if (reader_) reader_->Close();
  }

 protected:
  static Napi::Function DefineReader(Napi::Env env, const char* name,
                                     std::vector<typename Wrap::PropertyDescriptor> extra = {}) {
    extra.push_back(Wrap::InstanceMethod("start", &ReaderWrap::Start));
    extra.push_back(Wrap::InstanceMethod("close", &ReaderWrap::Close));
    extra.push_back(Wrap::InstanceMethod("unref", &ReaderWrap::Unref));
    extra.push_back(Wrap::InstanceMethod("ref", &ReaderWrap::Ref));
    return Wrap::DefineClass(env, name, extra);
  }

  std::unique_ptr<ReaderThread> reader_;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    std::string err;
    if (!reader_ || info.Length() < 1 || !info[0].IsFunction()) {
      Napi::TypeError::New(info.Env(), "start(callback)").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    if (!reader_->Start(info.Env(), info[0].As<Napi::Function>(), err))
      Napi::Error::New(info.Env(), err).ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (reader_) reader_->Close();
    return info.Env().Undefined();
  }
  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (reader_) reader_->Unref(info.Env());
    return info.Env().Undefined();
  }
  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (reader_) reader_->Ref(info.Env());
    return info.Env().Undefined();
  }
};

}  // namespace storeventd
