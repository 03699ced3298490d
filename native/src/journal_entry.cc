#include "journal_entry.h"

namespace storeventd {

void JournalEntry::clear() {
  ident.clear();
  transport.clear();
  message.clear();
  comm.clear();
  priority.clear();
  pid.clear();
  syslog_pid.clear();
}

void TakeJournalField(std::string_view data, JournalEntry& e) {
  size_t eq = data.find('=');
  if (eq == std::string_view::npos) return;
  std::string_view k = data.substr(0, eq), v = data.substr(eq + 1);
  if (k == "MESSAGE") e.message.assign(v);
  else if (k == "SYSLOG_IDENTIFIER") e.ident.assign(v);
  else if (k == "_TRANSPORT") e.transport.assign(v);
  else if (k == "PRIORITY") e.priority.assign(v);
  else if (k == "_PID") e.pid.assign(v);
  else if (k == "SYSLOG_PID") e.syslog_pid.assign(v);
  else if (k == "_COMM") e.comm.assign(v);
}

double JournalNumber(std::string_view s, double dflt) {
  if (s.empty() || s.size() > 15) return dflt;
  double v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return dflt;
    v = v * 10 + (c - '0');
  }
  return v;
}

void AppendJournalEntry(const JournalEntry& e, std::string_view cursor, uint64_t realtime_us, Batch& out) {
  out.Add(cursor);
  out.Add(e.ident);
  out.Add(e.transport);
  out.Add(e.message);
  out.Add(e.comm);
  double prio = JournalNumber(e.priority, 6);
  out.nums.push_back(prio <= 7 ? prio : 6);
  out.nums.push_back(JournalNumber(e.pid.empty() ? std::string_view(e.syslog_pid) : std::string_view(e.pid), 0));
  out.nums.push_back(static_cast<double>(realtime_us));
}

}  // namespace storeventd
