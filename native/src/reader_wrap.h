// The JS face of a reader thread: an ObjectWrap with start(cb) / close() / unref() / ref() that owns
// one ReaderThread. A reader class derives from ReaderWrap<Itself>, builds its ReaderThread in its
// constructor (into reader_) and defines itself with Define(env, "Name").
#pragma once
#include <napi.h>

#include <memory>

#include "reader_thread.h"

namespace storeventd {

template <typename T>
class ReaderWrap : public Napi::ObjectWrap<T> {
 public:
  using Method = Napi::Value (T::*)(const Napi::CallbackInfo&);
  static Napi::Function Define(Napi::Env env, const char* name) {
    return Napi::ObjectWrap<T>::DefineClass(
        env, name,
        {Napi::ObjectWrap<T>::InstanceMethod("start", static_cast<Method>(&ReaderWrap::Start)),
         Napi::ObjectWrap<T>::InstanceMethod("close", static_cast<Method>(&ReaderWrap::Close)),
         Napi::ObjectWrap<T>::InstanceMethod("unref", static_cast<Method>(&ReaderWrap::Unref)),
         Napi::ObjectWrap<T>::InstanceMethod("ref", static_cast<Method>(&ReaderWrap::Ref))});
  }
  explicit ReaderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<T>(info) {}
  ~ReaderWrap() override {
    if (reader_) reader_->Close();
  }

 protected:
  // The fd argument of a reader constructor `new X(fd, maxLine?)`; false (and a pending TypeError) if absent.
  static bool FdArgs(const Napi::CallbackInfo& info, const char* usage, int& fd, size_t& max_line) {
    if (info.Length() < 1 || !info[0].IsNumber()) {
      Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
      return false;
    }
    fd = info[0].As<Napi::Number>().Int32Value();
    int64_t m = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int64Value() : 1 << 20;
    max_line = m > 0 ? static_cast<size_t>(m) : 1;
    return true;
  }
  std::unique_ptr<ReaderThread> reader_;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    std::string err;
    if (!reader_ || info.Length() < 1 || !info[0].IsFunction()) {
      Napi::TypeError::New(info.Env(), "start(callback)").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    if (!reader_->Start(info.Env(), info[0].As<Napi::Function>(), err))
      Napi::Error::New(info.Env(), err).ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (reader_) reader_->Close();
    return info.Env().Undefined();
  }
  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (reader_) reader_->Unref(info.Env());
    return info.Env().Undefined();
  }
  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (reader_) reader_->Ref(info.Env());
    return info.Env().Undefined();
  }
};

}  // namespace storeventd
