// UeventReader: a reader thread on a NETLINK_KOBJECT_UEVENT socket (kernel group 1, udevd group 2).
// Records per batch, nums stride 4: [kind, sender pid, sender uid, size] with kind
//   1 = uevent from the kernel group, 2 = uevent from the udev group (bytes: packed record, see
//       uevent_parse.h), 3 = bad message (bytes: reason), 4 = untrusted sender dropped (bytes: why),
//   5 = ENOBUFS: the socket overflowed and uevents were lost (the sender rescans sysfs).
// size: for a block uevent other than remove, <sysroot><DEVPATH>/size in bytes read on this thread
// when the uevent arrived (-1: none or unreadable), so JS classifies it without touching sysfs.
// Trust: the kernel group only from the kernel (netlink port id 0 and SCM_CREDENTIALS pid 0), the
// udev group only from uid 0; unicast never. Delivery never blocks (NonBlocking TSFN): a full
// queue drops the batch and counts it in dropped().
#include <fcntl.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "modules.h"
#include "reader_thread.h"
#include "uevent_layout.h"
#include "uevent_parse.h"

namespace storeventd {
namespace {

enum RecordKind : int { kKernelGroup = 1, kUdevGroup = 2, kBadRecord = 3, kUntrusted = 4, kEnobufs = 5 };
constexpr uint32_t kGroupKernel = 1, kGroupUdev = 2;

class UeventSource : public Source {
 public:
  UeventSource(uint32_t groups, int rcvbuf, int slow_ms, std::string sys_root)
      : groups_(groups), rcvbuf_(rcvbuf), slow_ms_(slow_ms), sys_root_(std::move(sys_root)), buf_(1 << 16, '\0') {}

  int Open(std::string& err) override {
    fd_.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT));
    if (!fd_.valid()) { err = std::string("socket(NETLINK_KOBJECT_UEVENT): ") + std::strerror(errno); return -1; }
    int one = 1;
    if (::setsockopt(fd_.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0) {
      err = std::string("SO_PASSCRED: ") + std::strerror(errno);
      return -1;
    }
    if (rcvbuf_ > 0 && ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf_, sizeof rcvbuf_) != 0)
      (void)::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf_, sizeof rcvbuf_);  // no CAP_NET_ADMIN
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_groups = groups_;
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      err = std::string("bind(netlink uevent): ") + std::strerror(errno);
      return -1;
    }
    return fd_.get();
  }

  PumpResult Pump(Batch& out) override {
    if (slow_ms_ > 0) ::usleep(static_cast<useconds_t>(slow_ms_) * 1000);  // tests: a reader that falls behind
    sockaddr_nl addr{};
    iovec iov{buf_.data(), buf_.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    msghdr msg{};
    msg.msg_name = &addr;
    msg.msg_namelen = sizeof addr;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return PumpResult::kIdle;
      if (errno == ENOBUFS) {
        Add(out, kEnobufs, -1, -1, "receive buffer overflow (ENOBUFS)");
        return PumpResult::kMore;
      }
      out.error = std::string("recvmsg: ") + std::strerror(errno);
      return PumpResult::kEnd;
    }
    const ucred* cred = nullptr;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) cred = reinterpret_cast<const ucred*>(CMSG_DATA(c));
    double pid = cred ? cred->pid : -1, uid = cred ? cred->uid : -1;
    bool trusted = false;
    if (!cred) trusted = false;
    else if (addr.nl_groups == kGroupKernel) trusted = addr.nl_pid == 0 && cred->pid == 0;
    else if (addr.nl_groups == kGroupUdev) trusted = cred->uid == 0;
    if (!trusted) {
      char why[128];
      std::snprintf(why, sizeof why, "group=%u port=%u pid=%.0f uid=%.0f", addr.nl_groups, addr.nl_pid, pid, uid);
      Add(out, kUntrusted, pid, uid, why);
      return PumpResult::kMore;
    }
    if (msg.msg_flags & MSG_TRUNC) {
      Add(out, kBadRecord, pid, uid, "message truncated (larger than 64 KiB)");
      return PumpResult::kMore;
    }
    const char* reason = "";
    size_t start = out.bytes.size();
    UeventFormat f = ParseUevent(std::string_view(buf_.data(), static_cast<size_t>(n)), out.bytes, reason);
    if (f == UeventFormat::kBad) {
      Add(out, kBadRecord, pid, uid, reason);
    } else {
      double size = SizeBytes(std::string_view(out.bytes).substr(start));
      out.ends.push_back(static_cast<uint32_t>(out.bytes.size()));
      out.nums.insert(out.nums.end(), {addr.nl_groups == kGroupUdev ? double(kUdevGroup) : double(kKernelGroup), pid, uid, size});
    }
    return PumpResult::kMore;
  }

  int Stride() const override { return 4; }

 private:
  static void Add(Batch& out, int kind, double pid, double uid, std::string_view text) {
    out.Add(text);
    out.nums.insert(out.nums.end(), {double(kind), pid, uid, -1.0});
  }

  // The block device's size in bytes as sysfs has it now (512-byte sectors), or -1.
  double SizeBytes(std::string_view packed) const {
    std::string_view devpath = BlockSizeDevpath(packed);
    if (devpath.empty()) return -1;
    std::string path = sys_root_;
    path.append(devpath).append("/size");
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return -1;
    char text[32];
    ssize_t n = ::read(fd.get(), text, sizeof text - 1);
    if (n <= 0) return -1;
    text[n] = '\0';
    char* end = nullptr;
    unsigned long long sectors = std::strtoull(text, &end, 10);
    if (end == text) return -1;
    return double(sectors) * 512;
  }
  Fd fd_;
  uint32_t groups_;
  int rcvbuf_;
  int slow_ms_;
  std::string sys_root_;
  std::string buf_;
};

class UeventReader : public ReaderWrap<UeventReader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineReader(env, "UeventReader", {InstanceMethod<&UeventReader::Dropped>("dropped")});
  }
  // new UeventReader(groups = 3, rcvbuf = 16 MiB, slowMs = 0, sysRoot = "/sys"): slowMs delays each
  // receive (tests); sysRoot is where block sizes are read.
  UeventReader(const Napi::CallbackInfo& info) : ReaderWrap<UeventReader>(info) {
    uint32_t groups = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 3;
    int rcvbuf = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 16 << 20;
    int slow_ms = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 0;
    std::string sys_root = info.Length() > 3 && info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "/sys";
    if (groups == 0 || groups > 3) {
      Napi::RangeError::New(info.Env(), "UeventReader(groups: 1 kernel | 2 udev | 3 both, rcvbuf?)").ThrowAsJavaScriptException();
      return;
    }
    reader_ = std::make_unique<ReaderThread>(std::make_unique<UeventSource>(groups, rcvbuf, slow_ms, std::move(sys_root)), /*blocking=*/false);
  }

 private:
  Napi::Value Dropped(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), reader_ ? reader_->dropped() : 0);
  }
};

// The layout arrays of one batch (see ueventLayout below), filled record by record.
struct BatchLayout {
  std::vector<uint32_t> props{0}, offs, heads;
  std::vector<uint8_t> keys, values, actions;
  explicit BatchLayout(size_t n) {
    props.reserve(n + 1);
    heads.reserve(2 * n);
    actions.reserve(n);
    offs.reserve(n * 24);
    keys.reserve(n * 12);
    values.reserve(n * 12);
  }
  // Lays out rec (a packed record when `packed`, else left alone) and turns it into raw text in place.
  void Add(char* rec, size_t size, bool packed) {
    UeventLayout l;
    bool laid = packed && LayoutPacked(std::string_view(rec, size), l, offs, keys, values);
    if (laid) PackedToRaw(rec, size);
    actions.push_back(laid ? static_cast<uint8_t>(l.action + 1) : 0);
    heads.push_back(l.action_end);
    heads.push_back(l.devpath_end);
    props.push_back(static_cast<uint32_t>(keys.size()));
  }
  Napi::Object ToJs(Napi::Env env) const {
    auto res = Napi::Object::New(env);
    res.Set("props", CopyToTypedArray(env, props));
    res.Set("offs", CopyToTypedArray(env, offs));
    res.Set("heads", CopyToTypedArray(env, heads));
    res.Set("keys", CopyToTypedArray(env, keys));
    res.Set("values", CopyToTypedArray(env, values));
    res.Set("actions", CopyToTypedArray(env, actions));
    return res;
  }
};

// ueventParse(bytes, ends, layout = false) -> { bytes, ends, kinds, layout? }: the pure parser over
// many messages in one call (differential tests, replay, bench). kinds[i]: 1 kernel format, 2 udev
// format, 3 bad (record i is then the reason). With layout, each record is laid out right after it
// is parsed, while it is in cache (as ueventLayout() would, raw text in bytes): replay's one pass.
Napi::Value ParseMany(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray()) {
    Napi::TypeError::New(env, "ueventParse(bytes: Uint8Array, ends: Uint32Array, layout?: boolean)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bool with_layout = info.Length() > 2 && info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  auto in = info[0].As<Napi::Uint8Array>();
  auto in_ends = info[1].As<Napi::Uint32Array>();
  const char* base = reinterpret_cast<const char*>(in.Data());
  std::string out;
  out.reserve(in.ByteLength());
  std::vector<uint32_t> ends;
  std::vector<uint8_t> kinds;
  ends.reserve(in_ends.ElementLength());
  kinds.reserve(in_ends.ElementLength());
  BatchLayout layout(with_layout ? in_ends.ElementLength() : 0);
  size_t prev = 0;
  for (size_t i = 0; i < in_ends.ElementLength(); i++) {
    size_t end = in_ends[i];
    if (end < prev || end > in.ByteLength()) {
      Napi::RangeError::New(env, "ends out of range").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const char* reason = "";
    size_t start = out.size();
    UeventFormat f = ParseUevent(std::string_view(base + prev, end - prev), out, reason);
    if (f == UeventFormat::kBad) out.append(reason);
    if (with_layout) layout.Add(out.data() + start, out.size() - start, f != UeventFormat::kBad);
    ends.push_back(static_cast<uint32_t>(out.size()));
    kinds.push_back(static_cast<uint8_t>(f));
    prev = end;
  }
  auto res = Napi::Object::New(env);
  res.Set("bytes", Napi::Buffer<char>::Copy(env, out.data(), out.size()));
  res.Set("ends", CopyToTypedArray(env, ends));
  res.Set("kinds", CopyToTypedArray(env, kinds));
  if (with_layout) res.Set("layout", layout.ToJs(env));
  return res;
}

// ueventLayout(bytes, ends, kinds) -> { props, offs, heads, keys, values, actions }: lays out each
// packed record of kind 1 or 2 (see uevent_layout.h) and turns it into its raw text IN PLACE (NUL
// -> '@' then '\n'), so JS makes one string per uevent and cuts the fields out of it at these
// offsets. actions[i]: 0 = record i left as it was (not plain, or another kind), else 1 + its
// ACTION's value code; props[i]..props[i + 1]: its properties in offs (2 each: key start, '=';
// relative to the record's start), keys and values (codes, see ueventNames()). heads: 2 per
// record, ACTION's end and DEVPATH's end.
Napi::Value LayoutMany(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray()) {
    Napi::TypeError::New(env, "ueventLayout(bytes: Uint8Array, ends: Uint32Array, kinds: Uint8Array)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto bytes = info[0].As<Napi::Uint8Array>();
  auto ends = info[1].As<Napi::Uint32Array>();
  auto kinds = info[2].As<Napi::Uint8Array>();
  size_t n = ends.ElementLength();
  if (kinds.ElementLength() < n) {
    Napi::RangeError::New(env, "kinds shorter than ends").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  char* base = reinterpret_cast<char*>(bytes.Data());
  BatchLayout layout(n);
  size_t prev = 0;
  for (size_t i = 0; i < n; i++) {
    size_t end = ends[i];
    if (end < prev || end > bytes.ByteLength()) {
      Napi::RangeError::New(env, "ends out of range").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    layout.Add(base + prev, end - prev, kinds[i] == 1 || kinds[i] == 2);
    prev = end;
  }
  return layout.ToJs(env);
}

// ueventNames() -> { keys, values }: the names behind ueventLayout's codes (code i = [i - 1]).
Napi::Value Names(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto list = [&](const std::string_view* names, size_t count) {
    auto a = Napi::Array::New(env, count);
    for (size_t i = 0; i < count; i++) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, names[i].data(), names[i].size()));
    return a;
  };
  auto res = Napi::Object::New(env);
  res.Set("keys", list(kUeventKeys, kUeventKeyCount));
  res.Set("values", list(kUeventValues, kUeventValueCount));
  return res;
}

}  // namespace

void InitUevent(Napi::Env env, Napi::Object exports) {
  exports.Set("UeventReader", UeventReader::Define(env));
  exports.Set("ueventParse", Napi::Function::New(env, ParseMany, "ueventParse"));
  exports.Set("ueventLayout", Napi::Function::New(env, LayoutMany, "ueventLayout"));
  exports.Set("ueventNames", Napi::Function::New(env, Names, "ueventNames"));
}

}  // namespace storeventd
