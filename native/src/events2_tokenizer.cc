#include "events2_tokenizer.h"

#include <array>

namespace storeventd {
namespace {

constexpr std::array<std::string_view, 7> kVerbs = {"exists", "create", "change", "destroy",
                                                     "call",   "response", "rename"};

bool IsSpace(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int64_t Digits(std::string_view s, size_t pos, size_t n) {
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) v = v * 10 + (s[pos + i] - '0');
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

bool ParseEvents2Timestamp(std::string_view t, int64_t& time_us) {
  // YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM
  if (t.size() != 32) return false;
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddddd?dd:dd";
  for (size_t i = 0; i < t.size(); i++) {
    char s = kShape[i];
    if (s == 'd') {
      if (!IsDigit(t[i])) return false;
    } else if (s == '?') {
      if (t[i] != '+' && t[i] != '-') return false;
    } else if (t[i] != s) {
      return false;
    }
  }
  int64_t y = Digits(t, 0, 4), mo = Digits(t, 5, 2), d = Digits(t, 8, 2);
  int64_t h = Digits(t, 11, 2), mi = Digits(t, 14, 2), s = Digits(t, 17, 2), us = Digits(t, 20, 6);
  int64_t off = (t[26] == '-' ? -1 : 1) * (Digits(t, 27, 2) * 60 + Digits(t, 30, 2));
  // Same arithmetic as Date.UTC() in the TS twin, which normalises out-of-range months and days.
  int64_t yy = y + (mo - 1 >= 0 ? (mo - 1) / 12 : -((12 - mo) / 12));
  int64_t mm = ((mo - 1) % 12 + 12) % 12 + 1;
  int64_t days = DaysFromCivil(yy, mm, 1) + d - 1;
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - off * 60;
  time_us = secs * 1000000 + us;
  return true;
}

void TokenizeEvents2(std::string_view line, Events2Line& out) {
  out.fields.clear();
  out.has_time = false;
  out.time_us = 0;
  out.verb = {};
  out.object = {};
  out.reason = "";
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  out.raw = line;
  if (line.find('\0') != std::string_view::npos) {
    out.status = Events2Line::Status::kGarbage;
    out.reason = "NUL byte";
    return;
  }
  size_t i = 0, n = line.size();
  // drbdsetup separates by single spaces: without a tab in the line, token ends are found by
  // memchr (SIMD) instead of a test per character.
  const bool tabs = line.find('\t') != std::string_view::npos;
  auto next = [&](std::string_view& tok) {
    while (i < n && IsSpace(line[i])) i++;
    if (i >= n) return false;
    size_t s = i;
    if (tabs) {
      while (i < n && !IsSpace(line[i])) i++;
    } else {
      size_t e = line.find(' ', i);
      i = e == std::string_view::npos ? n : e;
    }
    tok = line.substr(s, i - s);
    return true;
  };
  std::string_view tok;
  if (!next(tok)) {
    out.status = Events2Line::Status::kEmpty;
    return;
  }
  if (ParseEvents2Timestamp(tok, out.time_us)) {
    out.has_time = true;
    if (!next(tok)) {
      out.status = Events2Line::Status::kGarbage;
      out.reason = "unknown verb";
      return;
    }
  }
  bool known = false;
  for (auto v : kVerbs) known = known || v == tok;
  if (!known) {
    out.status = Events2Line::Status::kGarbage;
    out.reason = "unknown verb";
    return;
  }
  out.verb = tok;
  if (!next(tok)) {
    out.status = Events2Line::Status::kGarbage;
    out.reason = "missing object";
    return;
  }
  out.object = tok;
  while (next(tok)) {
    size_t c = tok.find(':');
    if (c == std::string_view::npos || c == 0) continue;
    out.fields.push_back({tok.substr(0, c), tok.substr(c + 1)});
  }
  out.status = Events2Line::Status::kOk;
}

}  // namespace storeventd
