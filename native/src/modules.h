// Each native module exports its classes/functions through one Init function, called from addon.cc.
#pragma once
#include <napi.h>

namespace storeventd {
// What this build of the addon can do; `storeventd version` and `status` print it.
inline constexpr const char* kFeatures[] = {"line-reader", "pipe", "unix-dgram", "kmsg", "uevent", "events2",
#ifdef STOREVENTD_HAVE_SYSTEMD
                                            "journal",  // sd-journal reader (libsystemd found at build time)
#endif
};

void InitLineReader(Napi::Env env, Napi::Object exports);
void InitSys(Napi::Env env, Napi::Object exports);
void InitUnixDgram(Napi::Env env, Napi::Object exports);
void InitEvents2(Napi::Env env, Napi::Object exports);
void InitKmsg(Napi::Env env, Napi::Object exports);
void InitUevent(Napi::Env env, Napi::Object exports);
void InitJournal(Napi::Env env, Napi::Object exports);
}  // namespace storeventd
