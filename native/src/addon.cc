// Entry point of the storeventd addon: version/capabilities plus each module's exports.
#include <napi.h>

#include "modules.h"

namespace storeventd {
namespace {

constexpr const char* kAbiVersion = "1";

Napi::Value Capabilities(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto obj = Napi::Object::New(env);
  obj.Set("abi", kAbiVersion);
  obj.Set("napi", NAPI_VERSION);
  auto features = Napi::Array::New(env);
  uint32_t i = 0;
  for (const char* name : kFeatures) features.Set(i++, name);
  obj.Set("features", features);
  return obj;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("capabilities", Napi::Function::New(env, Capabilities, "capabilities"));
  InitLineReader(env, exports);
  InitSys(env, exports);
  InitUnixDgram(env, exports);
  InitEvents2(env, exports);
  InitKmsg(env, exports);
  InitUevent(env, exports);
  InitJournal(env, exports);
  return exports;
}

}  // namespace storeventd

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return storeventd::Init(env, exports); }

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitAddon)
