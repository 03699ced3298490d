// A reader-thread Source over a pipe or file fd whose records are lines: it makes the fd
// non-blocking, reads what is ready, splits lines (LineSplitter, cut at max_line) and hands each
// line to OnLine(), which packs it into the batch its own way (LineReader: the line; Events2Reader:
// the tokenised line). End of file or a read error ends the source ("eof" / "read: ...").
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "fd.h"
#include "line_split.h"
#include "reader_thread.h"

namespace storeventd {

class FdLineSource : public Source {
 public:
  FdLineSource(int fd, size_t max_line) : fd_(fd), split_(max_line) {}
  int Open(std::string& err) override {
    int fl = ::fcntl(fd_.get(), F_GETFL);
    if (fl < 0 || ::fcntl(fd_.get(), F_SETFL, fl | O_NONBLOCK) < 0) {
      err = std::string("fcntl: ") + std::strerror(errno);
      return -1;
    }
    return fd_.get();
  }
  PumpResult Pump(Batch& out) override {
    char buf[65536];
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    auto sink = [this, &out](std::string_view line, bool truncated) { OnLine(out, line, truncated); };
    if (n > 0) {
      split_.Feed(std::string_view(buf, static_cast<size_t>(n)), sink);
      return PumpResult::kMore;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return PumpResult::kIdle;
    split_.Finish(sink);
    out.error = n < 0 ? std::string("read: ") + std::strerror(errno) : "eof";
    return PumpResult::kEnd;
  }

 protected:
  virtual void OnLine(Batch& out, std::string_view line, bool truncated) = 0;

 private:
  Fd fd_;
  LineSplitter split_;
};

}  // namespace storeventd
