// JournalReader: follows the local journal with libsystemd's sd-journal on a reader thread, waiting
// on sd_journal_get_fd() plus the shutdown eventfd. Only entries matching the daemon list (by
// SYSLOG_IDENTIFIER or _COMM) are read; _TRANSPORT=kernel entries are skipped here (the kmsg sender
// owns them). Per entry the batch holds five strings (cursor, daemon, transport, message, comm) and
// three numbers (priority, pid, realtime µs). Delivery blocks when JS is behind: the journal is the
// buffer. By default only root's entries are read (_UID=0): any user can log as "smartd". Built only when pkg-config finds libsystemd (binding.gyp defines STOREVENTD_HAVE_SYSTEMD).
#include "modules.h"

#ifdef STOREVENTD_HAVE_SYSTEMD
#include "sd_journal_api.h"

#include <time.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "journal_entry.h"
#include "reader_thread.h"

namespace storeventd {
namespace {

struct JournalOptions {
  std::string ns;         // journal namespace ("" = the default one)
  std::string directory;  // read this directory instead (tests, containers)
  std::string cursor;     // resume after this entry
  double since_us = 0;    // no cursor: start at this realtime (0 = the journal's end)
  int poll_ms = 10;       // look for new entries this often even without a wake-up (see TimeoutMs)
  std::vector<std::string> daemons;
  bool root_only = true;  // only entries whose _UID (set by journald, not by the client) is 0
};

class JournalSource : public Source {
 public:
  explicit JournalSource(JournalOptions opt) : opt_(std::move(opt)) {}
  ~JournalSource() override {
    if (j_) sd_->close(j_);
  }

  int Open(std::string& err) override {
    sd_ = LoadSdJournal(err);
    if (!sd_) return -1;
    int r;
    if (!opt_.directory.empty()) r = sd_->open_directory(&j_, opt_.directory.c_str(), 0);
    else if (!opt_.ns.empty()) r = sd_->open_namespace(&j_, opt_.ns.c_str(), SD_JOURNAL_LOCAL_ONLY);
    else r = sd_->open(&j_, SD_JOURNAL_LOCAL_ONLY);
    if (r < 0) return Fail(err, "sd_journal_open", r);
    // ((SYSLOG_IDENTIFIER=a OR =b ...) AND _UID=0) OR ((_COMM=a OR ...) AND _UID=0): matches of one
    // field OR, of different fields AND, and add_disjunction separates the two terms.
    for (const char* field : {"SYSLOG_IDENTIFIER=", "_COMM="}) {
      for (const auto& d : opt_.daemons) {
        std::string m = field + d;
        if ((r = sd_->add_match(j_, m.data(), m.size())) < 0) return Fail(err, "sd_journal_add_match", r);
      }
      if (opt_.root_only && (r = sd_->add_match(j_, "_UID=0", 6)) < 0) return Fail(err, "sd_journal_add_match", r);
      if ((r = sd_->add_disjunction(j_)) < 0) return Fail(err, "sd_journal_add_disjunction", r);
    }
    if (!opt_.cursor.empty()) {
      if ((r = sd_->seek_cursor(j_, opt_.cursor.c_str())) < 0) return Fail(err, "sd_journal_seek_cursor", r);
      // Seeking lands on the cursor's entry (or the nearest one when it is gone): skip it only if it is ours.
      if (sd_->next(j_) > 0 && sd_->test_cursor(j_, opt_.cursor.c_str()) <= 0) sd_->previous(j_);
    } else if (opt_.since_us > 0) {
      r = sd_->seek_realtime_usec(j_, static_cast<uint64_t>(opt_.since_us));
      if (r < 0) return Fail(err, "sd_journal_seek_realtime_usec", r);
    } else {
      if ((r = sd_->seek_tail(j_)) < 0) return Fail(err, "sd_journal_seek_tail", r);
      sd_->previous(j_);  // after seek_tail, previous() positions on the last entry: next() gives new ones
    }
    int fd = sd_->get_fd(j_);
    if (fd < 0) return Fail(err, "sd_journal_get_fd", fd);
    return fd;
  }

  PumpResult Pump(Batch& out) override {
    sd_->process(j_);  // acknowledges the inotify wake-up; entries are read below either way
    while (out.size() < MaxBatch()) {
      int r = sd_->next(j_);
      if (r < 0) {
        out.error = std::string("sd_journal_next: ") + std::strerror(-r);
        return PumpResult::kEnd;
      }
      if (r == 0) return PumpResult::kIdle;
      Take(out);
    }
    return PumpResult::kMore;
  }

  int Stride() const override { return kJournalStride; }
  size_t MaxBatch() const override { return 5 * 256; }  // five strings per entry
  // journald tells readers about appended entries through inotify at most every 250 ms
  // (POST_CHANGE_TIMER_INTERVAL_USEC in journald-server.c), but the entries are in the mapped file
  // at once: looking every poll_ms keeps the latency near poll_ms. sd-journal's own timeout
  // (sd_journal_get_timeout, for file systems without inotify) is honoured when sooner.
  int TimeoutMs() override {
    uint64_t t = UINT64_MAX;
    int ms = opt_.poll_ms > 0 ? opt_.poll_ms : -1;
    if (sd_->get_timeout(j_, &t) >= 0 && t != UINT64_MAX) {
      timespec ts{};
      ::clock_gettime(CLOCK_MONOTONIC, &ts);
      uint64_t now = static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
      int sd = t > now ? static_cast<int>((t - now + 999) / 1000) : 0;
      if (ms < 0 || sd < ms) ms = sd;
    }
    return ms;
  }

 private:
  int Fail(std::string& err, const char* what, int r) {
    err = std::string(what) + ": " + std::strerror(-r);
    return -1;
  }

  // One pass over the entry's fields (sd_journal_get_data would search them once per field).
  void Take(Batch& out) {
    const void* data = nullptr;
    size_t len = 0;
    entry_.clear();
    sd_->restart_data(j_);
    while (sd_->enumerate_data(j_, &data, &len) > 0)
      TakeJournalField(std::string_view(static_cast<const char*>(data), len), entry_);
    if (entry_.transport == "kernel") return;
    char* cursor = nullptr;
    if (sd_->get_cursor(j_, &cursor) < 0) cursor = nullptr;
    uint64_t rt = 0;
    sd_->get_realtime_usec(j_, &rt);
    AppendJournalEntry(entry_, cursor ? std::string_view(cursor) : std::string_view{}, rt, out);
    free(cursor);
  }

  JournalOptions opt_;
  const SdJournalApi* sd_ = nullptr;
  sd_journal* j_ = nullptr;
  JournalEntry entry_;  // reused: its strings keep their capacity
};

std::string Str(const Napi::Object& o, const char* key) {
  auto v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

class JournalReader : public ReaderWrap<JournalReader> {
 public:
  static Napi::Function Define(Napi::Env env) { return DefineReader(env, "JournalReader"); }
  // new JournalReader({daemons: string[], namespace?, directory?, cursor?, sinceUs?})
  JournalReader(const Napi::CallbackInfo& info) : ReaderWrap<JournalReader>(info) {
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(info.Env(), "JournalReader({daemons, namespace?, directory?, cursor?, sinceUs?})")
          .ThrowAsJavaScriptException();
      return;
    }
    auto o = info[0].As<Napi::Object>();
    JournalOptions opt;
    opt.ns = Str(o, "namespace");
    opt.directory = Str(o, "directory");
    opt.cursor = Str(o, "cursor");
    auto root = o.Get("rootOnly");
    if (root.IsBoolean()) opt.root_only = root.As<Napi::Boolean>().Value();
    auto poll = o.Get("pollMs");
    if (poll.IsNumber()) opt.poll_ms = poll.As<Napi::Number>().Int32Value();
    auto since = o.Get("sinceUs");
    if (since.IsNumber()) opt.since_us = since.As<Napi::Number>().DoubleValue();
    auto daemons = o.Get("daemons");
    if (daemons.IsArray()) {
      auto a = daemons.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) {
        auto d = a.Get(i);
        if (d.IsString()) opt.daemons.push_back(d.As<Napi::String>().Utf8Value());
      }
    }
    reader_ = std::make_unique<ReaderThread>(std::make_unique<JournalSource>(std::move(opt)), true);
  }
};

}  // namespace

// journalLibrary() -> "" when libsystemd.so.0 loads, else why not (loads it on the first call).
Napi::Value JournalLibrary(const Napi::CallbackInfo& info) {
  std::string err;
  LoadSdJournal(err);
  return Napi::String::New(info.Env(), err);
}

void InitJournal(Napi::Env env, Napi::Object exports) {
  exports.Set("JournalReader", JournalReader::Define(env));
  exports.Set("journalLibrary", Napi::Function::New(env, JournalLibrary, "journalLibrary"));
}

}  // namespace storeventd

#else

namespace storeventd {
void InitJournal(Napi::Env, Napi::Object) {}  // built without libsystemd: the sender uses journalctl
}  // namespace storeventd

#endif
