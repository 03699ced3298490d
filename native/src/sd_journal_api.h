// libsystemd's journal API, loaded with dlopen(3) when the first journal reader opens. Linked, it
// made every start of the daemon map libsystemd and its six libraries (compression, gcrypt, cap):
// ~1 ms and ~1 MB of resident memory for a sender most configurations do not run, and a hard
// package dependency. Without libsystemd.so.0 only the journal sender fails, and says why.
#pragma once
#ifdef STOREVENTD_HAVE_SYSTEMD
#include <systemd/sd-journal.h>

#include <string>

namespace storeventd {

struct SdJournalApi {
  decltype(&sd_journal_open) open;
  decltype(&sd_journal_open_directory) open_directory;
  decltype(&sd_journal_open_namespace) open_namespace;
  decltype(&sd_journal_close) close;
  decltype(&sd_journal_add_match) add_match;
  decltype(&sd_journal_add_disjunction) add_disjunction;
  decltype(&sd_journal_seek_cursor) seek_cursor;
  decltype(&sd_journal_test_cursor) test_cursor;
  decltype(&sd_journal_seek_realtime_usec) seek_realtime_usec;
  decltype(&sd_journal_seek_tail) seek_tail;
  decltype(&sd_journal_next) next;
  decltype(&sd_journal_previous) previous;
  decltype(&sd_journal_get_fd) get_fd;
  decltype(&sd_journal_process) process;
  decltype(&sd_journal_get_timeout) get_timeout;
  decltype(&sd_journal_restart_data) restart_data;
  decltype(&sd_journal_enumerate_data) enumerate_data;
  decltype(&sd_journal_get_cursor) get_cursor;
  decltype(&sd_journal_get_realtime_usec) get_realtime_usec;
};

// The API, or nullptr with `err` saying why (no libsystemd.so.0, a symbol missing). Loaded once,
// never unloaded; thread-safe.
const SdJournalApi* LoadSdJournal(std::string& err);

}  // namespace storeventd
#endif
