#include "reader_thread.h"

#include <cerrno>
#include <cstring>

namespace storeventd {

// Runs on the JS thread. env is null when the TSFN is being torn down: free the batch anyway.
void DeliverBatch(Napi::Env env, Napi::Function cb, std::nullptr_t*, Batch* batch) {
  std::unique_ptr<Batch> owned(batch);
  if (env == nullptr || cb.IsEmpty()) return;
  auto bytes = Napi::Buffer<char>::Copy(env, owned->bytes.data(), owned->bytes.size());
  auto ends = CopyToTypedArray(env, owned->ends);
  auto nums = CopyToTypedArray(env, owned->nums);
  cb.Call({bytes, ends, nums, Napi::Number::New(env, owned->lost),
           owned->error.empty() ? env.Null() : Napi::String::New(env, owned->error)});
}

bool ReaderThread::Start(Napi::Env env, Napi::Function cb, std::string& err) {
  if (started_) { err = "reader already started"; return false; }
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_.valid()) { err = std::string("eventfd: ") + std::strerror(errno); return false; }
  tsfn_ = BatchTsfn::New(env, cb, "storeventd-reader", /*maxQueueSize=*/64, /*initialThreadCount=*/1);
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  return true;
}

// Blocking readers retry a full queue instead of using BlockingCall: a thread parked inside
// BlockingCall could never see stop_, and Close() (on the JS thread that drains the queue) would
// wait on join() forever.
bool ReaderThread::Hand(Batch* b) {
  for (;;) {
    napi_status st = tsfn_.NonBlockingCall(b);
    if (st == napi_ok) return true;
    if (st == napi_queue_full && blocking_ && !stop_.load()) {
      pollfd p{wake_.get(), POLLIN, 0};
      ::poll(&p, 1, 2);
      continue;
    }
    if (st == napi_queue_full) dropped_.store(dropped_.load() + static_cast<double>(b->size()));
    delete b;
    return st == napi_queue_full;  // napi_closing: JS is gone, stop.
  }
}

void ReaderThread::Loop() {
  std::string err;
  int fd = src_->Open(err);
  if (fd < 0) {
    auto* b = new Batch();
    b->error = err.empty() ? "open failed" : err;
    Hand(b);
    tsfn_.Release();
    return;
  }
  pollfd pfds[2] = {{fd, POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  auto batch = std::make_unique<Batch>();
  bool running = true;
  while (running && !stop_.load()) {
    PumpResult r = src_->Pump(*batch);
    bool full = batch->size() >= src_->MaxBatch();
    if (r == PumpResult::kEnd) running = false;
    if (!batch->empty() && (full || r != PumpResult::kMore)) {
      if (!Hand(batch.release())) running = false;
      batch = std::make_unique<Batch>();
    }
    if (!running || r == PumpResult::kMore) continue;
    int n = ::poll(pfds, 2, src_->TimeoutMs());
    if (n < 0 && errno != EINTR) {
      batch->error = std::string("poll: ") + std::strerror(errno);
      Hand(batch.release());
      break;
    }
    if (pfds[1].revents & POLLIN) break;
  }
  tsfn_.Release();
}

void ReaderThread::Close() {
  if (!started_ || closed_) return;
  closed_ = true;
  stop_.store(true);
  uint64_t one = 1;
  ssize_t w = ::write(wake_.get(), &one, sizeof one);
  (void)w;
  if (thread_.joinable()) thread_.join();
}

}  // namespace storeventd
