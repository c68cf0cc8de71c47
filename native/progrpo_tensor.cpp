// Tensors through the shim's C ABI: lifetime and metadata, data in and out, factories, generators, conversion and
// views; and the conversions of the ABI's dtype and device codes every source file shares (pt_internal.h).
#include "progrpo_torch.h"
#include "pt_internal.h"

#include <torch/torch.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cstring>
#include <mutex>
#include <string>
#include <vector>

using pt_internal::from_scalar_type;
using pt_internal::gen_of;
using pt_internal::ints;
using pt_internal::options;
using pt_internal::T;
using pt_internal::tensors_of;
using pt_internal::to_device;
using pt_internal::to_scalar_type;
using pt_internal::wrap;

namespace pt_internal {

at::ScalarType to_scalar_type(int32_t code) {
  switch (code) {
    case PT_DTYPE_FLOAT32: return at::kFloat;
    case PT_DTYPE_FLOAT64: return at::kDouble;
    case PT_DTYPE_FLOAT16: return at::kHalf;
    case PT_DTYPE_BFLOAT16: return at::kBFloat16;
    case PT_DTYPE_INT64: return at::kLong;
    case PT_DTYPE_INT32: return at::kInt;
    case PT_DTYPE_BOOL: return at::kBool;
    case PT_DTYPE_UINT8: return at::kByte;
  }
  throw std::invalid_argument("unknown dtype code " + std::to_string(code));
}
int32_t from_scalar_type(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return PT_DTYPE_FLOAT32;
    case at::kDouble: return PT_DTYPE_FLOAT64;
    case at::kHalf: return PT_DTYPE_FLOAT16;
    case at::kBFloat16: return PT_DTYPE_BFLOAT16;
    case at::kLong: return PT_DTYPE_INT64;
    case at::kInt: return PT_DTYPE_INT32;
    case at::kBool: return PT_DTYPE_BOOL;
    case at::kByte: return PT_DTYPE_UINT8;
    default: return -1;
  }
}
at::Device to_device(int32_t type, int32_t index) {
  switch (type) {
    case PT_DEVICE_CPU: return at::Device(at::kCPU);
    case PT_DEVICE_CUDA: return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw std::invalid_argument("unknown device type code " + std::to_string(type));
}
at::TensorOptions options(int32_t dtype, int32_t device_type, int32_t device_index) {
  return at::TensorOptions().dtype(to_scalar_type(dtype)).device(to_device(device_type, device_index));
}
std::vector<int64_t> all_dims(const at::Tensor& t) {
  std::vector<int64_t> d(static_cast<size_t>(t.dim()));
  for (size_t i = 0; i < d.size(); i++) d[i] = static_cast<int64_t>(i);
  return d;
}
std::vector<at::Tensor> tensors_of(const pt_tensor* ts, int32_t n) {
  if (n < 0) throw std::invalid_argument("negative tensor count");
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; i++) v.push_back(T(ts[i]));
  return v;
}

}  // namespace pt_internal

extern "C" {

// ---- tensor lifetime and metadata ----------------------------------------------------------------------------
int32_t pt_tensor_free(pt_tensor t) { PT_TRY delete reinterpret_cast<at::Tensor*>(t); PT_CATCH }

int32_t pt_tensor_info(pt_tensor t, int64_t* out) {
  PT_TRY
  const at::Tensor& x = T(t);
  out[0] = from_scalar_type(x.scalar_type());
  out[1] = x.device().is_cuda() ? PT_DEVICE_CUDA : PT_DEVICE_CPU;
  out[2] = x.device().has_index() ? x.device().index() : 0;
  out[3] = x.dim();
  out[4] = x.numel();
  if (x.has_storage()) {
    out[5] = static_cast<int64_t>(x.storage().nbytes());
    out[6] = reinterpret_cast<int64_t>(x.storage().unsafeGetStorageImpl());
  } else {
    out[5] = 0;
    out[6] = 0;
  }
  out[7] = x.requires_grad() ? 1 : 0;
  PT_CATCH
}
int32_t pt_tensor_sizes(pt_tensor t, int64_t* out, int32_t cap) {
  PT_TRY
  const at::Tensor& x = T(t);
  if (x.dim() > cap) throw std::invalid_argument("sizes buffer too small");
  for (int64_t i = 0; i < x.dim(); i++) out[i] = x.size(i);
  PT_CATCH
}
int32_t pt_tensor_strides(pt_tensor t, int64_t* out, int32_t cap) {
  PT_TRY
  const at::Tensor& x = T(t);
  if (x.dim() > cap) throw std::invalid_argument("strides buffer too small");
  for (int64_t i = 0; i < x.dim(); i++) out[i] = x.stride(i);
  PT_CATCH
}
int32_t pt_tensor_data_ptr(pt_tensor t, void** out) { PT_TRY *out = T(t).data_ptr(); PT_CATCH }

int32_t pt_from_data(const void* data, const int64_t* sizes, int32_t ndim, int32_t dtype, pt_tensor* out) {
  PT_TRY
  auto view = torch::from_blob(const_cast<void*>(data), ints(sizes, ndim), at::TensorOptions().dtype(to_scalar_type(dtype)));
  *out = wrap(view.clone());
  PT_CATCH
}
int32_t pt_from_blob(void* data, const int64_t* sizes, int32_t ndim, int32_t dtype, pt_tensor* out) {
  PT_TRY *out = wrap(torch::from_blob(data, ints(sizes, ndim), at::TensorOptions().dtype(to_scalar_type(dtype)))); PT_CATCH
}
int32_t pt_copy_to(pt_tensor t, void* dst, int64_t nbytes) {
  PT_TRY
  at::Tensor c = T(t).detach().to(at::kCPU).contiguous();
  if (static_cast<int64_t>(c.nbytes()) != nbytes)
    throw std::invalid_argument("copy_to: tensor has " + std::to_string(c.nbytes()) + " bytes, destination " + std::to_string(nbytes));
  if (nbytes > 0) std::memcpy(dst, c.data_ptr(), static_cast<size_t>(nbytes));
  PT_CATCH
}
int32_t pt_copy_(pt_tensor dst, pt_tensor src) { PT_TRY T(dst).copy_(T(src)); PT_CATCH }
int32_t pt_item_double(pt_tensor t, double* out) { PT_TRY *out = T(t).item<double>(); PT_CATCH }
int32_t pt_item_int64(pt_tensor t, int64_t* out) { PT_TRY *out = T(t).item<int64_t>(); PT_CATCH }

// ---- factories -----------------------------------------------------------------------------------------------
int32_t pt_empty(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t dt, int32_t di, pt_tensor* out) {
  PT_TRY *out = wrap(at::empty(ints(sizes, ndim), options(dtype, dt, di))); PT_CATCH
}
int32_t pt_full(const int64_t* sizes, int32_t ndim, double value, int32_t dtype, int32_t dt, int32_t di, pt_tensor* out) {
  PT_TRY *out = wrap(at::full(ints(sizes, ndim), value, options(dtype, dt, di))); PT_CATCH
}
int32_t pt_arange(double start, double end, double step, int32_t dtype, int32_t dt, int32_t di, pt_tensor* out) {
  PT_TRY *out = wrap(at::arange(start, end, step, options(dtype, dt, di))); PT_CATCH
}
int32_t pt_linspace(double start, double end, int64_t steps, int32_t dtype, int32_t dt, int32_t di, pt_tensor* out) {
  PT_TRY *out = wrap(at::linspace(start, end, steps, options(dtype, dt, di))); PT_CATCH
}
int32_t pt_randn(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t dt, int32_t di, pt_generator g, pt_tensor* out) {
  PT_TRY *out = wrap(at::randn(ints(sizes, ndim), gen_of(g), options(dtype, dt, di))); PT_CATCH
}
int32_t pt_rand(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t dt, int32_t di, pt_generator g, pt_tensor* out) {
  PT_TRY *out = wrap(at::rand(ints(sizes, ndim), gen_of(g), options(dtype, dt, di))); PT_CATCH
}
int32_t pt_randint(int64_t low, int64_t high, const int64_t* sizes, int32_t ndim, int32_t dt, int32_t di, pt_generator g, pt_tensor* out) {
  PT_TRY *out = wrap(at::randint(low, high, ints(sizes, ndim), gen_of(g), options(PT_DTYPE_INT64, dt, di))); PT_CATCH
}
int32_t pt_randperm(int64_t n, int32_t dt, int32_t di, pt_generator g, pt_tensor* out) {
  PT_TRY *out = wrap(at::randperm(n, gen_of(g), options(PT_DTYPE_INT64, dt, di))); PT_CATCH
}

// ---- generators ----------------------------------------------------------------------------------------------
int32_t pt_generator_new(uint64_t seed, int32_t dt, int32_t di, pt_generator* out) {
  PT_TRY
  at::Device d = to_device(dt, di);
  at::Generator g = d.is_cpu() ? at::make_generator<at::CPUGeneratorImpl>(seed)
                               : at::globalContext().defaultGenerator(d).clone();
  g.set_current_seed(seed);
  *out = new pt_generator_s{g};
  PT_CATCH
}
int32_t pt_generator_free(pt_generator g) { PT_TRY delete g; PT_CATCH }
int32_t pt_generator_set_seed(pt_generator g, uint64_t seed) {
  PT_TRY
  std::lock_guard<std::mutex> lock(g->gen.mutex());
  g->gen.set_current_seed(seed);
  PT_CATCH
}
int32_t pt_generator_get_state(pt_generator g, pt_tensor* out) {
  PT_TRY
  std::lock_guard<std::mutex> lock(g->gen.mutex());
  *out = wrap(g->gen.get_state());
  PT_CATCH
}
int32_t pt_generator_set_state(pt_generator g, pt_tensor state) {
  PT_TRY
  std::lock_guard<std::mutex> lock(g->gen.mutex());
  g->gen.set_state(T(state));
  PT_CATCH
}

// ---- conversion and views ------------------------------------------------------------------------------------
int32_t pt_to(pt_tensor t, int32_t dtype, int32_t dt, int32_t di, pt_tensor* out) {
  PT_TRY *out = wrap(T(t).to(to_device(dt, di), to_scalar_type(dtype))); PT_CATCH
}
int32_t pt_clone(pt_tensor t, pt_tensor* out) { PT_TRY *out = wrap(T(t).clone()); PT_CATCH }
int32_t pt_contiguous(pt_tensor t, pt_tensor* out) { PT_TRY *out = wrap(T(t).contiguous()); PT_CATCH }
int32_t pt_detach(pt_tensor t, pt_tensor* out) { PT_TRY *out = wrap(T(t).detach()); PT_CATCH }
int32_t pt_reshape(pt_tensor t, const int64_t* s, int32_t n, pt_tensor* out) { PT_TRY *out = wrap(T(t).reshape(ints(s, n))); PT_CATCH }
int32_t pt_view(pt_tensor t, const int64_t* s, int32_t n, pt_tensor* out) { PT_TRY *out = wrap(T(t).view(ints(s, n))); PT_CATCH }
int32_t pt_expand(pt_tensor t, const int64_t* s, int32_t n, pt_tensor* out) { PT_TRY *out = wrap(T(t).expand(ints(s, n))); PT_CATCH }
int32_t pt_permute(pt_tensor t, const int64_t* d, int32_t n, pt_tensor* out) { PT_TRY *out = wrap(T(t).permute(ints(d, n))); PT_CATCH }
int32_t pt_transpose(pt_tensor t, int64_t a, int64_t b, pt_tensor* out) { PT_TRY *out = wrap(T(t).transpose(a, b)); PT_CATCH }
int32_t pt_squeeze(pt_tensor t, int64_t d, pt_tensor* out) { PT_TRY *out = wrap(T(t).squeeze(d)); PT_CATCH }
int32_t pt_unsqueeze(pt_tensor t, int64_t d, pt_tensor* out) { PT_TRY *out = wrap(T(t).unsqueeze(d)); PT_CATCH }
int32_t pt_narrow(pt_tensor t, int64_t d, int64_t s, int64_t l, pt_tensor* out) { PT_TRY *out = wrap(T(t).narrow(d, s, l)); PT_CATCH }
int32_t pt_select(pt_tensor t, int64_t d, int64_t i, pt_tensor* out) { PT_TRY *out = wrap(T(t).select(d, i)); PT_CATCH }
int32_t pt_index_select(pt_tensor t, int64_t d, pt_tensor idx, pt_tensor* out) { PT_TRY *out = wrap(T(t).index_select(d, T(idx))); PT_CATCH }
int32_t pt_gather(pt_tensor t, int64_t d, pt_tensor idx, pt_tensor* out) { PT_TRY *out = wrap(T(t).gather(d, T(idx))); PT_CATCH }
int32_t pt_cat(const pt_tensor* ts, int32_t n, int64_t d, pt_tensor* out) { PT_TRY *out = wrap(at::cat(tensors_of(ts, n), d)); PT_CATCH }
int32_t pt_stack(const pt_tensor* ts, int32_t n, int64_t d, pt_tensor* out) { PT_TRY *out = wrap(at::stack(tensors_of(ts, n), d)); PT_CATCH }
int32_t pt_repeat_interleave(pt_tensor t, int64_t r, int64_t d, pt_tensor* out) { PT_TRY *out = wrap(T(t).repeat_interleave(r, d)); PT_CATCH }

}  // extern "C"
