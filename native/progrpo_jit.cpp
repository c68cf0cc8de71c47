// TorchScript modules through the shim's C ABI (the "TorchScript modules" section of progrpo_torch.h): load, call
// methods with tensors and simple values, list parameters and buffers as aliases, train/eval, copy, save.
// Builds unchanged against Debian's libtorch 1.13 and PyTorch 2.x; every entry point catches every exception.
#include "progrpo_torch.h"
#include "pt_internal.h"

#include <torch/script.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/version.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

struct pt_module_s { torch::jit::Module mod; };

namespace {

thread_local std::string text_result;  // BORROWED strings of pt_jit_method_names / pt_jit_method_schema

inline torch::jit::Module& M(pt_module m) {
  if (m == nullptr) throw std::invalid_argument("null module handle");
  return m->mod;
}
inline const at::Tensor& T(pt_tensor t) {
  if (t == nullptr) throw std::invalid_argument("null tensor handle");
  return *reinterpret_cast<at::Tensor*>(t);
}

std::string method_names(const torch::jit::Module& m) {
  std::string s;
  for (const auto& meth : m.get_methods()) {
    if (!s.empty()) s += ",";
    s += meth.name();
  }
  return s;
}

torch::jit::Method find(const torch::jit::Module& m, const char* name) {
  if (name == nullptr) throw std::invalid_argument("null method name");
  auto meth = m.find_method(name);
  if (!meth) {
    throw std::invalid_argument(std::string("the module has no method '") + name + "' (it has: " + method_names(m) + ")");
  }
  return *meth;
}

void collect_outputs(const c10::IValue& r, std::vector<at::Tensor>& out) {
  if (r.isNone()) return;
  if (r.isTensor()) {
    out.push_back(r.toTensor());
    return;
  }
  if (r.isTuple()) {
    for (const auto& e : r.toTupleRef().elements()) {
      if (!e.isTensor()) throw std::invalid_argument("the method returned a tuple with a " + e.tagKind() + " element; only tensors are supported");
      out.push_back(e.toTensor());
    }
    return;
  }
  if (r.isTensorList()) {
    for (const at::Tensor& t : r.toTensorVector()) out.push_back(t);
    return;
  }
  throw std::invalid_argument("the method returned a " + r.tagKind() + "; expected a tensor, a tuple or list of tensors, or None");
}

}  // namespace

extern "C" {

int32_t pt_jit_load(const char* path, int32_t device_type, int32_t device_index, pt_module* out) {
  PT_TRY
  if (path == nullptr) throw std::invalid_argument("null path");
  at::Device d = pt_internal::to_device(device_type, device_index);
  *out = new pt_module_s{torch::jit::load(std::string(path), d)};
  PT_CATCH
}

int32_t pt_jit_free(pt_module m) { PT_TRY delete m; PT_CATCH }

int32_t pt_jit_deepcopy(pt_module m, pt_module* out) {
  PT_TRY
  // deepcopy() clones every tensor slot (2.x adds an optional device argument that defaults to none). Cloned without
  // autograd history, so the copies are leaves; then they take the originals' requires_grad flags.
  torch::jit::Module copy;
  {
    torch::NoGradGuard no_grad;
    copy = M(m).deepcopy();
  }
  std::vector<at::Tensor> src;
  for (const auto& p : M(m).named_parameters(true)) src.push_back(p.value);
  size_t i = 0;
  for (const auto& p : copy.named_parameters(true)) {
    if (i < src.size()) p.value.set_requires_grad(src[i].requires_grad());
    i++;
  }
  *out = new pt_module_s{std::move(copy)};
  PT_CATCH
}

int32_t pt_jit_save(pt_module m, const char* path) {
  PT_TRY
  // what Module::save(path) does, through the shim's sink: libtorch's own file writer aborts the process on a full
  // disk (see native/progrpo_io.cpp)
  const torch::jit::Module& mod = M(m);
  pt_internal::FileSink sink(path);
  torch::jit::ExportModule(mod, sink.writer());
  sink.finish();
  PT_CATCH
}

int32_t pt_jit_train(pt_module m, int32_t on) { PT_TRY M(m).train(on != 0); PT_CATCH }
int32_t pt_jit_is_training(pt_module m, int32_t* out) { PT_TRY *out = M(m).is_training() ? 1 : 0; PT_CATCH }

int32_t pt_jit_has_method(pt_module m, const char* method, int32_t* out) {
  PT_TRY
  if (method == nullptr) throw std::invalid_argument("null method name");
  *out = M(m).find_method(method).has_value() ? 1 : 0;
  PT_CATCH
}

int32_t pt_jit_method_names(pt_module m, const char** out) {
  PT_TRY
  text_result = method_names(M(m));
  *out = text_result.c_str();
  PT_CATCH
}

int32_t pt_jit_method_schema(pt_module m, const char* method, const char** out) {
  PT_TRY
  auto meth = find(M(m), method);
  std::ostringstream s;
  s << meth.function().getSchema();
  text_result = s.str();
  *out = text_result.c_str();
  PT_CATCH
}

int32_t pt_jit_named_tensors(pt_module m, int32_t kind, pt_named* out) {
  PT_TRY
  if (kind != 0 && kind != 1) throw std::invalid_argument("kind must be 0 (parameters) or 1 (buffers), got " + std::to_string(kind));
  auto list = std::make_unique<pt_named_s>();
  if (kind == 0) {
    for (const auto& p : M(m).named_parameters(true)) {
      list->names.push_back(p.name);
      list->tensors.push_back(p.value);  // same TensorImpl: an alias, not a copy
    }
  } else {
    for (const auto& b : M(m).named_buffers(true)) {
      list->names.push_back(b.name);
      list->tensors.push_back(b.value);
    }
  }
  *out = list.release();
  PT_CATCH
}

int32_t pt_jit_call(pt_module m, const char* method, const int32_t* kinds, const pt_tensor* tensors, const double* doubles,
                    const int64_t* ints, int32_t nargs, pt_tensor* outs, int32_t cap, int32_t* n_out) {
  PT_TRY
  if (nargs < 0) throw std::invalid_argument("negative argument count");
  auto meth = find(M(m), method);
  std::vector<c10::IValue> stack;
  stack.reserve(static_cast<size_t>(nargs));
  for (int32_t i = 0; i < nargs; i++) {
    switch (kinds[i]) {
      case PT_JIT_ARG_TENSOR: stack.emplace_back(T(tensors[i])); break;
      case PT_JIT_ARG_DOUBLE: stack.emplace_back(doubles[i]); break;
      case PT_JIT_ARG_INT64: stack.emplace_back(ints[i]); break;
      case PT_JIT_ARG_BOOL: stack.emplace_back(ints[i] != 0); break;
      case PT_JIT_ARG_NONE: stack.emplace_back(); break;
      default: throw std::invalid_argument("argument " + std::to_string(i) + " has unknown kind " + std::to_string(kinds[i]));
    }
  }
  // Method::operator() checks the arguments against the schema and fills in defaults of missing trailing ones.
  c10::IValue r = meth(std::move(stack));
  std::vector<at::Tensor> results;
  collect_outputs(r, results);
  if (static_cast<int64_t>(results.size()) > cap) {
    throw std::invalid_argument("the method returned " + std::to_string(results.size()) + " tensors; room for " + std::to_string(cap));
  }
  // every handle allocated before any is handed out: a failed allocation leaks none
  std::vector<std::unique_ptr<at::Tensor>> handles;
  for (at::Tensor& r : results) handles.push_back(std::make_unique<at::Tensor>(std::move(r)));
  for (size_t i = 0; i < handles.size(); i++) outs[i] = reinterpret_cast<pt_tensor>(handles[i].release());
  *n_out = static_cast<int32_t>(results.size());
  PT_CATCH
}

}  // extern "C"
