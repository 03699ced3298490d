// JournalReader: follows the local journal with libsystemd's sd-journal on a reader thread, waiting
// on sd_journal_get_fd() plus the shutdown eventfd. Only entries matching the daemon list (by
// SYSLOG_IDENTIFIER or _COMM) are read; _TRANSPORT=kernel entries are skipped here (the kmsg sender
// owns them). Per entry the batch holds five strings (cursor, daemon, transport, message, comm) and
// three numbers (priority, pid, realtime µs). Delivery blocks when JS is behind: the journal is the
// buffer. Built only when pkg-config finds libsystemd (binding.gyp defines STOREVENTD_HAVE_SYSTEMD).
#include "modules.h"

#ifdef STOREVENTD_HAVE_SYSTEMD
#include <systemd/sd-journal.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "reader_thread.h"

namespace storeventd {
namespace {

constexpr int kJournalStride = 3;

struct JournalOptions {
  std::string ns;         // journal namespace ("" = the default one)
  std::string directory;  // read this directory instead (tests, containers)
  std::string cursor;     // resume after this entry
  double since_us = 0;    // no cursor: start at this realtime (0 = the journal's end)
  std::vector<std::string> daemons;
};

std::string_view Field(sd_journal* j, const char* name) {
  const void* data = nullptr;
  size_t len = 0;
  if (sd_journal_get_data(j, name, &data, &len) < 0) return {};
  std::string_view f(static_cast<const char*>(data), len);
  size_t eq = f.find('=');
  return eq == std::string_view::npos ? std::string_view{} : f.substr(eq + 1);
}

double Number(std::string_view s, double dflt) {
  if (s.empty() || s.size() > 15) return dflt;
  double v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return dflt;
    v = v * 10 + (c - '0');
  }
  return v;
}

class JournalSource : public Source {
 public:
  explicit JournalSource(JournalOptions opt) : opt_(std::move(opt)) {}
  ~JournalSource() override {
    if (j_) sd_journal_close(j_);
  }

  int Open(std::string& err) override {
    int r;
    if (!opt_.directory.empty()) r = sd_journal_open_directory(&j_, opt_.directory.c_str(), 0);
    else if (!opt_.ns.empty()) r = sd_journal_open_namespace(&j_, opt_.ns.c_str(), SD_JOURNAL_LOCAL_ONLY);
    else r = sd_journal_open(&j_, SD_JOURNAL_LOCAL_ONLY);
    if (r < 0) return Fail(err, "sd_journal_open", r);
    // (SYSLOG_IDENTIFIER=a OR SYSLOG_IDENTIFIER=b ...) OR (_COMM=a OR ...): same-field matches OR.
    for (const char* field : {"SYSLOG_IDENTIFIER=", "_COMM="}) {
      for (const auto& d : opt_.daemons) {
        std::string m = field + d;
        if ((r = sd_journal_add_match(j_, m.data(), m.size())) < 0) return Fail(err, "sd_journal_add_match", r);
      }
      if ((r = sd_journal_add_disjunction(j_)) < 0) return Fail(err, "sd_journal_add_disjunction", r);
    }
    if (!opt_.cursor.empty()) {
      if ((r = sd_journal_seek_cursor(j_, opt_.cursor.c_str())) < 0) return Fail(err, "sd_journal_seek_cursor", r);
      // Seeking lands on the cursor's entry (or the nearest one when it is gone): skip it only if it is ours.
      if (sd_journal_next(j_) > 0 && sd_journal_test_cursor(j_, opt_.cursor.c_str()) <= 0) sd_journal_previous(j_);
    } else if (opt_.since_us > 0) {
      r = sd_journal_seek_realtime_usec(j_, static_cast<uint64_t>(opt_.since_us));
      if (r < 0) return Fail(err, "sd_journal_seek_realtime_usec", r);
    } else {
      if ((r = sd_journal_seek_tail(j_)) < 0) return Fail(err, "sd_journal_seek_tail", r);
      sd_journal_previous(j_);  // after seek_tail, previous() positions on the last entry: next() gives new ones
    }
    int fd = sd_journal_get_fd(j_);
    if (fd < 0) return Fail(err, "sd_journal_get_fd", fd);
    return fd;
  }

  PumpResult Pump(Batch& out) override {
    sd_journal_process(j_);  // acknowledges the inotify wake-up; entries are read below either way
    while (out.size() < MaxBatch()) {
      int r = sd_journal_next(j_);
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

 private:
  int Fail(std::string& err, const char* what, int r) {
    err = std::string(what) + ": " + std::strerror(-r);
    return -1;
  }

  void Take(Batch& out) {
    std::string_view transport = Field(j_, "_TRANSPORT");
    if (transport == "kernel") return;
    char* cursor = nullptr;
    if (sd_journal_get_cursor(j_, &cursor) < 0) cursor = nullptr;
    uint64_t rt = 0;
    sd_journal_get_realtime_usec(j_, &rt);
    std::string_view pid = Field(j_, "_PID");
    if (pid.empty()) pid = Field(j_, "SYSLOG_PID");
    out.Add(cursor ? std::string_view(cursor) : std::string_view{});
    free(cursor);
    out.Add(Field(j_, "SYSLOG_IDENTIFIER"));
    out.Add(transport);
    out.Add(Field(j_, "MESSAGE"));
    out.Add(Field(j_, "_COMM"));
    out.nums.push_back(Number(Field(j_, "PRIORITY"), 6));
    out.nums.push_back(Number(pid, 0));
    out.nums.push_back(static_cast<double>(rt));
  }

  JournalOptions opt_;
  sd_journal* j_ = nullptr;
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

void InitJournal(Napi::Env env, Napi::Object exports) { exports.Set("JournalReader", JournalReader::Define(env)); }

}  // namespace storeventd

#else

namespace storeventd {
void InitJournal(Napi::Env, Napi::Object) {}  // built without libsystemd: the sender uses journalctl
}  // namespace storeventd

#endif
