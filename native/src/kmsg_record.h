// Pure decoding of /dev/kmsg records (Documentation/ABI/testing/dev-kmsg), no N-API, fuzzed by
// native/fuzz/kmsg_record_fuzz.cc. The TypeScript twin is src/kmsg/record.ts; both must give the
// same records for the same input (test/kmsg-differential.test.ts).
//
// A record is "PREFIX,SEQ,TS_US,FLAGS[,more...];MESSAGE" then zero or more continuation lines
// " KEY=value". PREFIX is (facility << 3) | level. The kernel writes every byte < 0x20, >= 0x7f and
// '\' of the message and of the values as "\xNN" (kernel/printk/printk.c: msg_add_ext_text).
//
// Unescaping (both decoders, byte for byte):
//  - a run of consecutive \xNN escapes is decoded as bytes; of those, printable ASCII and '\' become
//    the character, a well-formed UTF-8 sequence of a code point >= U+00A0 becomes that character,
//    and every other byte (controls, DEL, C1 controls, invalid UTF-8) keeps its escape text as
//    written; so msg never holds a control character the kernel escaped, and never a '\n'.
//  - keys are kept verbatim; everything that is not an escape is copied as is.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "batch.h"

namespace storeventd {

enum class KmsgStatus : int {
  kOk = 0,
  kEmpty = 1,        // empty record
  kNoSemicolon = 2,  // no ';' in the first line
  kBadHeader = 3,    // fewer than 4 comma-separated header fields
  kBadNumber = 4,    // prefix, seq or timestamp not a decimal number <= 2^53-1
  kBadFlags = 5,     // flags field not "-", "c" or "+"
};

// Numbers per record in Batch::nums. Offsets are relative to the record's start in Batch::bytes.
// A record's bytes are: the raw record (without its final '\n'), then the unescaped message when it
// differs from the raw one, then the properties block ("KEY=value\n" per continuation line).
enum KmsgNum : int {
  kKmsgPriority = 0,
  kKmsgFacility,
  kKmsgSeq,
  kKmsgTsUs,
  kKmsgFlags,  // 0 '-', 1 'c', 2 '+', -1 when the record is bad
  kKmsgStatus,  // KmsgStatus
  kKmsgRawLen,
  kKmsgMsgOff,
  kKmsgMsgLen,
  kKmsgPropsOff,  // props block runs from here to the record's end
  kKmsgBadProps,  // continuation lines that are not " KEY=value" (skipped)
  kKmsgLostBefore,  // seqs lost (ring overrun) right before this record
  kKmsgStride,
};

struct KmsgHeader {
  KmsgStatus status = KmsgStatus::kEmpty;
  double priority = 0, facility = 0, seq = 0, ts_us = 0;
  int flags = -1;
  size_t msg_start = 0;  // index after ';'
  size_t line_end = 0;   // index of the first '\n' or the record's size
};

// Parses the header of one record (the text before the first '\n' and ';').
KmsgHeader ParseKmsgHeader(std::string_view rec);

// Appends `in` to `out` with \xNN escapes undone as described above.
void KmsgUnescape(std::string_view in, std::string& out);

// Decodes one record (a trailing '\n' is ignored) and appends it to `out` (kKmsgStride numbers).
void AppendKmsgRecord(std::string_view rec, double lost_before, Batch& out);

// Splits a text of records into records: a line not starting with ' ' starts a record, following
// lines starting with ' ' continue it, empty lines end it. Feed any chunks, then Finish().
class KmsgTextSplitter {
 public:
  template <typename Sink>
  void Feed(std::string_view chunk, Sink&& sink) {
    pending_.append(chunk);
    size_t start = 0;
    for (;;) {
      size_t nl = pending_.find('\n', start);
      if (nl == std::string::npos) break;
      Line(std::string_view(pending_).substr(start, nl - start), sink);
      start = nl + 1;
    }
    pending_.erase(0, start);
  }
  template <typename Sink>
  void Finish(Sink&& sink) {
    if (!pending_.empty()) Line(pending_, sink);
    pending_.clear();
    if (has_cur_) sink(std::string_view(cur_));
    cur_.clear();
    has_cur_ = false;
  }

 private:
  template <typename Sink>
  void Line(std::string_view line, Sink& sink) {
    if (line.empty() || line[0] != ' ' || !has_cur_) {
      if (has_cur_) sink(std::string_view(cur_));
      cur_.clear();
      has_cur_ = !line.empty();
      cur_.append(line);
      return;
    }
    cur_.push_back('\n');
    cur_.append(line);
  }
  std::string pending_;
  std::string cur_;
  bool has_cur_ = false;
};

// Splits `text` with KmsgTextSplitter and appends every record.
void AppendKmsgText(std::string_view text, Batch& out);

}  // namespace storeventd
