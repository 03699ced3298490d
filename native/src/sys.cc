// Small syscalls Bun does not expose: pipe2() for feeding child stdout to a reader thread.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "modules.h"

namespace storeventd {
namespace {

Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    Napi::Error::New(info.Env(), std::string("pipe2: ") + std::strerror(errno)).ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  auto arr = Napi::Array::New(info.Env(), 2);
  arr.Set(0u, fds[0]);
  arr.Set(1u, fds[1]);
  return arr;
}

}  // namespace

void InitSys(Napi::Env env, Napi::Object exports) { exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe")); }

}  // namespace storeventd
