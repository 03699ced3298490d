// Events2Reader: the reader thread over drbdsetup's stdout. It splits lines and tokenises them on
// the thread (events2_tokenizer.h) and hands JS one Batch per call. Per record:
//   bytes  ok:      raw \0 verb \0 object (\0 key \0 value)*
//          lean:    raw
//          garbage: reason \0 raw
//   nums   [status (0 ok, 1 garbage, 2 lean), time_us or NaN, then events2fast::kStride fast-lane
//           slots (events2_fast.h: statistics lines as numbers and interned ids; kind 0 for others)]
// A lean record is a fast-lane line that announces no new name: JS applies its slots and rarely
// needs its tokens (then it tokenizes raw itself), so the reader thread does not pack them.
// Empty lines are dropped. A line longer than maxLine is garbage ("line too long", cut at maxLine).
// Blocking: drbdsetup's pipe is the buffer; when JS is behind, drbdsetup blocks in write().
//
// events2Tokenize(buffer, maxLine?) does the same synchronously over a whole buffer (tests, bench)
// and returns [bytes, ends, nums]; an Events2Tokenizer does it piece by piece (replay).
#include <algorithm>
#include <cstring>
#include <limits>

#include "events2_fast.h"
#include "events2_tokenizer.h"
#include "fd_line_source.h"
#include "line_split.h"
#include "modules.h"
#include "reader_thread.h"

namespace storeventd {
namespace {

constexpr double kNoTime = std::numeric_limits<double>::quiet_NaN();
constexpr int kStride = 2 + events2fast::kStride;

class Events2Packer {
 public:
  // lean: fast-lane lines as lean records (the reader, replay's tokenizer); else every line whole.
  explicit Events2Packer(bool lean) : lean_(lean) {}
  void Add(Batch& out, std::string_view line, bool truncated) {
    if (truncated) {
      Garbage(out, "line too long", line);
      return;
    }
    TokenizeEvents2(line, tok_);
    switch (tok_.status) {
      case Events2Line::Status::kEmpty:
        return;
      case Events2Line::Status::kGarbage:
        Garbage(out, tok_.reason, tok_.raw);
        return;
      case Events2Line::Status::kOk:
        break;
    }
    size_t at = out.nums.size();
    out.nums.resize(at + kStride);
    out.nums[at + 1] = tok_.has_time ? static_cast<double>(tok_.time_us) : kNoTime;
    int kind = Events2FastFields(tok_, strings_, out.nums.data() + at + 2);
    // slots[0] == kind: no kAnnounce (a line announcing a name is decoded whole, JS learns it).
    bool lean = lean_ && kind != events2fast::kNone && out.nums[at + 2] == kind;
    out.nums[at] = lean ? 2 : 0;
    out.bytes.append(tok_.raw);
    if (!lean) {
      Part(out, tok_.verb);
      Part(out, tok_.object);
      for (const auto& f : tok_.fields) {
        Part(out, f.key);
        Part(out, f.value);
      }
    }
    out.ends.push_back(static_cast<uint32_t>(out.bytes.size()));
  }

 private:
  static void Part(Batch& out, std::string_view s) {
    out.bytes.push_back('\0');
    out.bytes.append(s);
  }
  static void Garbage(Batch& out, std::string_view reason, std::string_view raw) {
    out.bytes.append(reason);
    out.bytes.push_back('\0');
    out.bytes.append(raw);
    out.ends.push_back(static_cast<uint32_t>(out.bytes.size()));
    out.nums.push_back(1);
    out.nums.push_back(kNoTime);
    out.nums.push_back(events2fast::kNone);
    out.nums.resize(out.nums.size() + events2fast::kStride - 1, kNoTime);
  }
  bool lean_;
  Events2Line tok_;
  Events2Interner strings_;
};

// The optional maxLine argument at index i (default 1 MiB, at least 1).
size_t MaxLine(const Napi::CallbackInfo& info, size_t i) {
  int64_t m = info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().Int64Value() : 1 << 20;
  return m > 0 ? static_cast<size_t>(m) : 1;
}

class Events2Source : public FdLineSource {
 public:
  using FdLineSource::FdLineSource;
  void OnLine(Batch& out, std::string_view line, bool truncated) override { packer_.Add(out, line, truncated); }
  int Stride() const override { return kStride; }
  // Batches stay under a few hundred KiB (records are ~200 bytes).
  size_t MaxBatch() const override { return 1024; }
  // drbdsetup's pipe is the buffer: a deep queue only holds the stream in memory (~600 KiB a batch).
  size_t MaxQueue() const override { return 4; }
  // The drbd sender decodes each batch in its callback (strings are copies).
  bool Lend() const override { return true; }

 private:
  Events2Packer packer_{true};
};

class Events2Reader : public ReaderWrap<Events2Reader> {
 public:
  static Napi::Function Define(Napi::Env env) { return DefineReader(env, "Events2Reader"); }
  // new Events2Reader(fd, maxLine): takes ownership of fd.
  explicit Events2Reader(const Napi::CallbackInfo& info) : ReaderWrap<Events2Reader>(info) {
    if (info.Length() < 1 || !info[0].IsNumber()) {
      Napi::TypeError::New(info.Env(), "Events2Reader(fd, maxLine?)").ThrowAsJavaScriptException();
      return;
    }
    int fd = info[0].As<Napi::Number>().Int32Value();
    reader_ = std::make_unique<ReaderThread>(std::make_unique<Events2Source>(fd, MaxLine(info, 1)), true);
  }
};

// Tokenizes a whole buffer with `packer` (fresh per events2Tokenize call, kept by an
// Events2Tokenizer so its interned ids stay valid across calls).
void TokenizeInto(Events2Packer& packer, Batch& batch, std::string_view all, size_t max_line) {
  batch.clear();
  // Sized once: growing by doubling copied and page-faulted the batch several times over.
  size_t lines = static_cast<size_t>(std::count(all.begin(), all.end(), '\n')) + 1;
  batch.bytes.reserve(2 * all.size() + 64);
  batch.ends.reserve(lines);
  batch.nums.reserve(lines * kStride);
  LineSplitter split(max_line);
  auto sink = [&](std::string_view line, bool truncated) { packer.Add(batch, line, truncated); };
  split.Feed(all, sink);
  split.Finish(sink);
}

Napi::Array Triple(Napi::Env env, Napi::Value a, Napi::Value b, Napi::Value c) {
  auto arr = Napi::Array::New(env, 3);
  arr.Set(0u, a);
  arr.Set(1u, b);
  arr.Set(2u, c);
  return arr;
}

Napi::Value Tokenize(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    Napi::TypeError::New(env, "events2Tokenize(buffer, maxLine?)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Events2Packer packer(false);  // every line whole: the differential tests read all tokens
  Batch batch;
  auto in = info[0].As<Napi::Buffer<char>>();
  TokenizeInto(packer, batch, std::string_view(in.Data(), in.Length()), MaxLine(info, 1));
  return Triple(env, Napi::Buffer<char>::Copy(env, batch.bytes.data(), batch.bytes.size()),
                CopyToTypedArray(env, batch.ends), CopyToTypedArray(env, batch.nums));
}

// new Events2Tokenizer(maxLine?).tokenize(buffer): events2Tokenize over a stream of pieces (replay),
// one interner for all of them, so a name is announced once, not once per piece. A line must not
// span two pieces. The arrays it returns are lent: valid until the next tokenize() call, which
// detaches them and reuses their memory (no piece-sized garbage).
class Events2Tokenizer : public Napi::ObjectWrap<Events2Tokenizer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Events2Tokenizer", {InstanceMethod("tokenize", &Events2Tokenizer::Tokenize)});
  }
  explicit Events2Tokenizer(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<Events2Tokenizer>(info), max_line_(MaxLine(info, 0)) {}

 private:
  Napi::Value Tokenize(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    if (info.Length() < 1 || !info[0].IsBuffer()) {
      Napi::TypeError::New(env, "tokenize(buffer)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    for (auto& r : lent_) {
      if (!r.IsEmpty()) r.Value().Detach();
      r.Reset();
    }
    auto in = info[0].As<Napi::Buffer<char>>();
    TokenizeInto(packer_, batch_, std::string_view(in.Data(), in.Length()), max_line_);
    auto ab = [&](size_t i, void* p, size_t n) {
      auto a = n ? Napi::ArrayBuffer::New(env, p, n) : Napi::ArrayBuffer::New(env, 0);
      lent_[i] = Napi::Persistent(a);
      return a;
    };
    auto b = ab(0, batch_.bytes.data(), batch_.bytes.size());
    auto e = ab(1, batch_.ends.data(), batch_.ends.size() * sizeof(uint32_t));
    auto u = ab(2, batch_.nums.data(), batch_.nums.size() * sizeof(double));
    return Triple(env, Napi::Uint8Array::New(env, batch_.bytes.size(), b, 0),
                  Napi::Uint32Array::New(env, batch_.ends.size(), e, 0), Napi::Float64Array::New(env, batch_.nums.size(), u, 0));
  }
  Events2Packer packer_{true};
  Batch batch_;  // reused: its buffers stay mapped from piece to piece
  Napi::Reference<Napi::ArrayBuffer> lent_[3];
  size_t max_line_;
};

}  // namespace

void InitEvents2(Napi::Env env, Napi::Object exports) {
  exports.Set("Events2Reader", Events2Reader::Define(env));
  exports.Set("events2Tokenize", Napi::Function::New(env, Tokenize, "events2Tokenize"));
  exports.Set("Events2Tokenizer", Events2Tokenizer::Define(env));
}

}  // namespace storeventd
