#include "sd_journal_api.h"

#ifdef STOREVENTD_HAVE_SYSTEMD
#include <dlfcn.h>

#include <mutex>

namespace storeventd {
namespace {

struct Loaded {
  SdJournalApi api{};
  std::string error;
};

Loaded Load() {
  Loaded out;
  void* lib = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = ::dlerror();
    out.error = std::string("cannot load libsystemd.so.0: ") + (e ? e : "unknown error");
    return out;
  }
  bool ok = true;
  auto sym = [&](auto& fn, const char* name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
    if (!fn && ok) {
      ok = false;
      out.error = std::string("libsystemd.so.0 has no ") + name;
    }
  };
  SdJournalApi& a = out.api;
  sym(a.open, "sd_journal_open");
  sym(a.open_directory, "sd_journal_open_directory");
  sym(a.open_namespace, "sd_journal_open_namespace");
  sym(a.close, "sd_journal_close");
  sym(a.add_match, "sd_journal_add_match");
  sym(a.add_disjunction, "sd_journal_add_disjunction");
  sym(a.seek_cursor, "sd_journal_seek_cursor");
  sym(a.test_cursor, "sd_journal_test_cursor");
  sym(a.seek_realtime_usec, "sd_journal_seek_realtime_usec");
  sym(a.seek_tail, "sd_journal_seek_tail");
  sym(a.next, "sd_journal_next");
  sym(a.previous, "sd_journal_previous");
  sym(a.get_fd, "sd_journal_get_fd");
  sym(a.process, "sd_journal_process");
  sym(a.get_timeout, "sd_journal_get_timeout");
  sym(a.restart_data, "sd_journal_restart_data");
  sym(a.enumerate_data, "sd_journal_enumerate_data");
  sym(a.get_cursor, "sd_journal_get_cursor");
  sym(a.get_realtime_usec, "sd_journal_get_realtime_usec");
  return out;
}

}  // namespace

const SdJournalApi* LoadSdJournal(std::string& err) {
  // Set once, read-only after: the process's one copy of a shared library's entry points.
  static std::once_flag once;
  static Loaded loaded;
  std::call_once(once, [] { loaded = Load(); });
  if (!loaded.error.empty()) {
    err = loaded.error;
    return nullptr;
  }
  return &loaded.api;
}

}  // namespace storeventd
#endif
