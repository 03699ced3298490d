#include "kmsg_record.h"

#include <cstdint>

namespace storeventd {
namespace {

constexpr uint64_t kMaxSafe = 9007199254740991ULL;  // 2^53 - 1: exact in a JS number

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsEscape(std::string_view s, size_t i) {
  return i + 3 < s.size() && s[i] == '\\' && s[i + 1] == 'x' && HexVal(s[i + 2]) >= 0 && HexVal(s[i + 3]) >= 0;
}

bool ParseNumber(std::string_view s, double& out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > kMaxSafe) return false;
  }
  out = static_cast<double>(v);
  return true;
}

// Length of the well-formed UTF-8 sequence at b[k] (Unicode Table 3-7), 0 if none.
size_t Utf8Len(const uint8_t* b, size_t n, size_t k) {
  auto in = [&](size_t i, uint8_t lo, uint8_t hi) { return k + i < n && b[k + i] >= lo && b[k + i] <= hi; };
  uint8_t c = b[k];
  if (c >= 0xC2 && c <= 0xDF) return in(1, 0x80, 0xBF) ? 2 : 0;
  if (c == 0xE0) return in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  if (c == 0xED) return in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
  if (c == 0xF0) return in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  if (c == 0xF4) return in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  return 0;
}

// `text` is a run of n escapes (4 chars each), `b` their byte values.
void DecodeRun(std::string_view text, const uint8_t* b, size_t n, std::string& out) {
  size_t k = 0;
  while (k < n) {
    uint8_t c = b[k];
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
      k++;
      continue;
    }
    size_t len = c >= 0x80 ? Utf8Len(b, n, k) : 0;
    if (len > 0 && !(c == 0xC2 && b[k + 1] < 0xA0)) {  // C2 80..C2 9F are the C1 controls
      out.append(reinterpret_cast<const char*>(b + k), len);
      k += len;
      continue;
    }
    out.append(text.substr(k * 4, 4));
    k++;
  }
}

}  // namespace

KmsgHeader ParseKmsgHeader(std::string_view rec) {
  KmsgHeader h;
  size_t nl = rec.find('\n');
  h.line_end = nl == std::string_view::npos ? rec.size() : nl;
  std::string_view line = rec.substr(0, h.line_end);
  if (rec.empty()) return h;
  size_t semi = line.find(';');
  if (semi == std::string_view::npos) {
    h.status = KmsgStatus::kNoSemicolon;
    return h;
  }
  h.msg_start = semi + 1;
  std::string_view head = line.substr(0, semi);
  std::string_view fields[4];
  size_t nf = 0;
  size_t pos = 0;
  while (nf < 4) {
    size_t comma = head.find(',', pos);
    if (comma == std::string_view::npos) {
      fields[nf++] = head.substr(pos);
      break;
    }
    fields[nf++] = head.substr(pos, comma - pos);
    pos = comma + 1;
  }
  if (nf < 4) {
    h.status = KmsgStatus::kBadHeader;
    return h;
  }
  double prefix = 0;
  if (!ParseNumber(fields[0], prefix) || !ParseNumber(fields[1], h.seq) || !ParseNumber(fields[2], h.ts_us)) {
    h.status = KmsgStatus::kBadNumber;
    h.seq = h.ts_us = 0;
    return h;
  }
  if (fields[3] == "-") h.flags = 0;
  else if (fields[3] == "c") h.flags = 1;
  else if (fields[3] == "+") h.flags = 2;
  else {
    h.status = KmsgStatus::kBadFlags;
    h.seq = h.ts_us = 0;
    return h;
  }
  auto p = static_cast<uint64_t>(prefix);
  h.priority = static_cast<double>(p % 8);
  h.facility = static_cast<double>(p / 8);
  h.status = KmsgStatus::kOk;
  return h;
}

void KmsgUnescape(std::string_view in, std::string& out) {
  uint8_t run[256];
  size_t i = 0;
  while (i < in.size()) {
    if (!IsEscape(in, i)) {
      size_t next = in.find('\\', i + 1);
      if (next == std::string_view::npos) next = in.size();
      out.append(in.substr(i, next - i));
      i = next;
      continue;
    }
    // Decode runs in slices of at most 256 escapes, cut before a UTF-8 lead byte so no sequence
    // is split (a sequence is at most 4 bytes).
    size_t j = i;
    size_t n = 0;
    while (IsEscape(in, j) && n < sizeof run) {
      run[n++] = static_cast<uint8_t>(HexVal(in[j + 2]) * 16 + HexVal(in[j + 3]));
      j += 4;
    }
    if (n == sizeof run && IsEscape(in, j)) {
      size_t back = 0;
      while (back < 3 && (run[n - 1 - back] & 0xC0) == 0x80) back++;
      if ((run[n - 1 - back] & 0xC0) == 0xC0) {
        n -= back + 1;
        j -= (back + 1) * 4;
      }
    }
    DecodeRun(in.substr(i, j - i), run, n, out);
    i = j;
  }
}

void AppendKmsgRecord(std::string_view rec, double lost_before, Batch& out) {
  if (!rec.empty() && rec.back() == '\n') rec.remove_suffix(1);
  KmsgHeader h = ParseKmsgHeader(rec);
  size_t base = out.bytes.size();
  out.bytes.append(rec);
  double msg_off = 0, msg_len = 0, bad_props = 0;
  if (h.status == KmsgStatus::kOk) {
    std::string_view msg = rec.substr(h.msg_start, h.line_end - h.msg_start);
    if (msg.find('\\') == std::string_view::npos) {
      msg_off = static_cast<double>(h.msg_start);
      msg_len = static_cast<double>(msg.size());
    } else {
      size_t at = out.bytes.size();
      KmsgUnescape(msg, out.bytes);
      msg_off = static_cast<double>(at - base);
      msg_len = static_cast<double>(out.bytes.size() - at);
    }
  }
  double props_off = static_cast<double>(out.bytes.size() - base);
  if (h.status == KmsgStatus::kOk && h.line_end < rec.size()) {
    size_t pos = h.line_end + 1;
    while (pos <= rec.size()) {
      size_t nl = rec.find('\n', pos);
      if (nl == std::string_view::npos) nl = rec.size();
      std::string_view line = rec.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.empty()) continue;
      size_t eq = line.find('=');
      if (line[0] != ' ' || eq == std::string_view::npos || eq == 1) {
        bad_props++;
        continue;
      }
      out.bytes.append(line.substr(1, eq));  // "KEY="
      KmsgUnescape(line.substr(eq + 1), out.bytes);
      out.bytes.push_back('\n');
    }
  }
  out.ends.push_back(static_cast<uint32_t>(out.bytes.size()));
  out.nums.insert(out.nums.end(), {h.priority, h.facility, h.seq, h.ts_us, static_cast<double>(h.flags),
                                   static_cast<double>(h.status), static_cast<double>(rec.size()), msg_off, msg_len,
                                   props_off, bad_props, lost_before});
  out.lost += lost_before;
}

void AppendKmsgText(std::string_view text, Batch& out) {
  // KmsgTextSplitter's rules without copying: a record and its continuation lines are contiguous
  // in the text, so each record is one view of it.
  out.bytes.reserve(out.bytes.size() + text.size() + text.size() / 8);
  size_t pos = 0, rec_start = 0, rec_end = 0;
  bool has = false;
  auto flush = [&] {
    if (has) AppendKmsgRecord(text.substr(rec_start, rec_end - rec_start), 0, out);
    has = false;
  };
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    if (nl > pos && text[pos] == ' ' && has) {
      rec_end = nl;
    } else {
      flush();
      has = nl > pos;
      rec_start = pos;
      rec_end = nl;
    }
    pos = nl + 1;
  }
  flush();
}

}  // namespace storeventd
