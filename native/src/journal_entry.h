// The pure part of the journal reader: which of an entry's "FIELD=value" data objects a record
// needs, and how one record is packed into a Batch (five strings: cursor, SYSLOG_IDENTIFIER,
// _TRANSPORT, MESSAGE, _COMM; three numbers: PRIORITY, pid, realtime µs). No libsystemd here, so
// it builds (and is fuzzed: native/fuzz/journal_entry_fuzz.cc) without it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "batch.h"

namespace storeventd {

inline constexpr int kJournalStride = 3;
inline constexpr int kJournalStrings = 5;

struct JournalEntry {
  std::string ident, transport, message, comm, priority, pid, syslog_pid;
  void clear();
};

// One data object as sd_journal_enumerate_data returns it ("MESSAGE=text", values may hold any
// byte). Copies the value when the field is one the record needs; ignores objects without '='.
void TakeJournalField(std::string_view data, JournalEntry& e);

// A decimal of at most 15 digits, else dflt (PRIORITY, _PID come as text).
double JournalNumber(std::string_view s, double dflt);

// Appends the entry as one record. PRIORITY outside 0..7 becomes 6 (info), as journald assumes.
void AppendJournalEntry(const JournalEntry& e, std::string_view cursor, uint64_t realtime_us, Batch& out);

}  // namespace storeventd
