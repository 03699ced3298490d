// AF_UNIX datagram send (sd_notify, the journald native protocol), which Bun does not offer,
// plus memfd_create for journald's large-entry path (the payload is passed as an fd).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fd.h"
#include "modules.h"

namespace storeventd {

// Pure helper: fills a sockaddr_un for a path (a leading '@' means the abstract namespace).
bool MakeUnixAddr(const std::string& path, sockaddr_un& addr, socklen_t& len) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path[0] == '@' ? 0 : 1));
  return true;
}

// Returns 0 or an errno. Passes `pass_fd` with SCM_RIGHTS when >= 0.
int UnixDgramSend(const std::string& path, const char* data, size_t size, int pass_fd, bool nonblock) {
  sockaddr_un addr;
  socklen_t len;
  if (!MakeUnixAddr(path, addr, len)) return ENAMETOOLONG;
  Fd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return errno;
  iovec iov{const_cast<char*>(data), size};
  msghdr msg{};
  msg.msg_name = &addr;
  msg.msg_namelen = len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (pass_fd >= 0) {
    msg.msg_iov = nullptr;  // journald: with an fd, the datagram carries no payload
    msg.msg_iovlen = 0;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
  }
  if (::sendmsg(sock.get(), &msg, MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0)) < 0) return errno;
  return 0;
}

namespace {

// unixDgramSend(path: string, data: Buffer|string, passFd?: number, nonblock?: boolean): 0 | errno
// (never throws for I/O errors: callers decide, e.g. EMSGSIZE -> retry through memfd, EAGAIN with
// nonblock -> retry later instead of blocking the JS thread while journald's queue is full).
Napi::Value SendJs(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 2 || !info[0].IsString()) {
    Napi::TypeError::New(env, "unixDgramSend(path, data, passFd?)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>();
  std::string data;
  if (info[1].IsBuffer()) {
    auto b = info[1].As<Napi::Buffer<char>>();
    data.assign(b.Data(), b.Length());
  } else {
    data = info[1].ToString().Utf8Value();
  }
  int pass_fd = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : -1;
  bool nonblock = info.Length() > 3 && info[3].ToBoolean().Value();
  return Napi::Number::New(env, UnixDgramSend(path, data.data(), data.size(), pass_fd, nonblock));
}

// memfdWrite(name, data): a sealed memfd holding data; returns the fd (caller closes) or -errno.
Napi::Value MemfdWriteJs(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBuffer()) {
    Napi::TypeError::New(env, "memfdWrite(name, buffer)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string name = info[0].As<Napi::String>();
  auto b = info[1].As<Napi::Buffer<char>>();
  int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return Napi::Number::New(env, -errno);
  size_t off = 0;
  while (off < b.Length()) {
    ssize_t w = ::write(fd, b.Data() + off, b.Length() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Napi::Number::New(env, -e);
    }
    off += static_cast<size_t>(w);
  }
  ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  return Napi::Number::New(env, fd);
}

Napi::Value CloseFdJs(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsNumber()) ::close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

}  // namespace

void InitUnixDgram(Napi::Env env, Napi::Object exports) {
  exports.Set("unixDgramSend", Napi::Function::New(env, SendJs, "unixDgramSend"));
  exports.Set("memfdWrite", Napi::Function::New(env, MemfdWriteJs, "memfdWrite"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFdJs, "closeFd"));
}

}  // namespace storeventd
