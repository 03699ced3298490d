#include "reader_thread.h"

#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

namespace storeventd {

namespace {
std::mutex pool_mu;
std::vector<Batch*> pool;
constexpr size_t kPoolMax = 8;
constexpr size_t kKeepBytes = 4 << 20;
}  // namespace

Batch* AcquireBatch() {
  std::lock_guard<std::mutex> lock(pool_mu);
  if (pool.empty()) return new Batch();
  Batch* b = pool.back();
  pool.pop_back();
  return b;
}

void RecycleBatch(Batch* b) {
  if (b->bytes.capacity() > kKeepBytes || b->nums.capacity() * sizeof(double) > kKeepBytes) {
    delete b;
    return;
  }
  b->clear();
  b->lend = false;
  std::lock_guard<std::mutex> lock(pool_mu);
  if (pool.size() < kPoolMax) {
    pool.push_back(b);
    return;
  }
  delete b;
}

// Runs on the JS thread. env is null when the TSFN is being torn down: free the batch anyway.
void DeliverBatch(Napi::Env env, Napi::Function cb, std::nullptr_t*, Batch* batch) {
  struct Recycle {
    void operator()(Batch* b) const { RecycleBatch(b); }
  };
  std::unique_ptr<Batch, Recycle> owned(batch);
  if (env == nullptr || cb.IsEmpty()) return;
  if (owned->lend) {
    // External array buffers over the batch, detached once the callback returned (a view kept by
    // JS then reads as empty instead of reused memory); the batch goes back to the pool after.
    // (An empty one is an ordinary buffer: an external one without data reads as detached.)
    auto ab = [&](void* p, size_t n) { return n ? Napi::ArrayBuffer::New(env, p, n) : Napi::ArrayBuffer::New(env, 0); };
    auto b = ab(owned->bytes.data(), owned->bytes.size());
    auto e = ab(owned->ends.data(), owned->ends.size() * sizeof(uint32_t));
    auto u = ab(owned->nums.data(), owned->nums.size() * sizeof(double));
    cb.Call({Napi::Uint8Array::New(env, owned->bytes.size(), b, 0),
             Napi::Uint32Array::New(env, owned->ends.size(), e, 0),
             Napi::Float64Array::New(env, owned->nums.size(), u, 0), Napi::Number::New(env, owned->lost),
             owned->error.empty() ? env.Null() : Napi::String::New(env, owned->error)});
    b.Detach();
    e.Detach();
    u.Detach();
    return;
  }
  auto bytes = Napi::Buffer<char>::Copy(env, owned->bytes.data(), owned->bytes.size());
  auto ends = CopyToTypedArray(env, owned->ends);
  auto nums = CopyToTypedArray(env, owned->nums);
  auto lost = Napi::Number::New(env, owned->lost);
  auto error = owned->error.empty() ? env.Null() : Napi::String::New(env, owned->error);
  owned.reset();  // back to the pool before JS runs: the reader may refill it meanwhile
  cb.Call({bytes, ends, nums, lost, error});
}

bool ReaderThread::Start(Napi::Env env, Napi::Function cb, std::string& err) {
  if (started_) { err = "reader already started"; return false; }
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_.valid()) { err = std::string("eventfd: ") + std::strerror(errno); return false; }
  // Open (for kmsg: the seek to the end) happens here, before start() returns and the caller
  // reports ready: done later by the thread, records written meanwhile would be skipped.
  if (src_->OpenOnStart()) {
    open_fd_ = src_->Open(open_err_);
    opened_ = true;
  }
  tsfn_ = BatchTsfn::New(env, cb, "storeventd-reader", /*maxQueueSize=*/src_->MaxQueue(), /*initialThreadCount=*/1);
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
    RecycleBatch(b);
    return st == napi_queue_full;  // napi_closing: JS is gone, stop.
  }
}

void ReaderThread::Loop() {
  std::string err = open_err_;
  int fd = opened_ ? open_fd_ : src_->Open(err);
  if (fd < 0) {
    auto* b = AcquireBatch();
    b->error = err.empty() ? "open failed" : err;
    Hand(b);
    tsfn_.Release();
    return;
  }
  pollfd pfds[2] = {{fd, POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  const bool lend = src_->Lend();
  std::unique_ptr<Batch> batch(AcquireBatch());
  batch->lend = lend;
  bool running = true;
  while (running && !stop_.load()) {
    PumpResult r = src_->Pump(*batch);
    bool full = batch->size() >= src_->MaxBatch();
    if (r == PumpResult::kEnd) running = false;
    if (!batch->empty() && (full || r != PumpResult::kMore)) {
      if (!Hand(batch.release())) running = false;
      batch.reset(AcquireBatch());
      batch->lend = lend;
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
