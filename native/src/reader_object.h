// The JS object every native reader exposes: start(cb), close(), unref(), ref(), owning one
// ReaderThread. A reader class derives from ReaderObject<Self>, builds its Source in the
// constructor and calls DefineReader() with any extra methods.
#pragma once
#include <napi.h>

#include <memory>
#include <vector>

#include "reader_thread.h"

namespace storeventd {

template <class Derived>
class ReaderObject : public Napi::ObjectWrap<Derived> {
 public:
  explicit ReaderObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {}
  ~ReaderObject() override { if (reader_) reader_->Close(); }

 protected:
  using Wrap = Napi::ObjectWrap<Derived>;
  using Method = Napi::Value (Derived::*)(const Napi::CallbackInfo&);

  static Napi::Function DefineReader(Napi::Env env, const char* name,
                                     std::vector<typename Wrap::PropertyDescriptor> extra = {}) {
    std::vector<typename Wrap::PropertyDescriptor> props = {
        Wrap::InstanceMethod("start", static_cast<Method>(&ReaderObject::Start)),
        Wrap::InstanceMethod("close", static_cast<Method>(&ReaderObject::Close)),
        Wrap::InstanceMethod("unref", static_cast<Method>(&ReaderObject::Unref)),
        Wrap::InstanceMethod("ref", static_cast<Method>(&ReaderObject::Ref)),
    };
    props.insert(props.end(), extra.begin(), extra.end());
    return Wrap::DefineClass(env, name, props);
  }

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

  std::unique_ptr<ReaderThread> reader_;
};

}  // namespace storeventd
