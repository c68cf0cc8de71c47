// The progrpo libtorch shim: an extern "C" ABI (native-headers/progrpo_torch.h) over libtorch's C++ API.
// Builds unchanged against Debian's libtorch 1.13 and PyTorch 2.x. Every entry point catches every exception
// (PT_TRY/PT_CATCH, pt_internal.h); the message is kept per thread for pt_last_error. Files: progrpo_io.cpp.
#include "progrpo_torch.h"
#include "pt_internal.h"

#include <torch/torch.h>
#include <torch/version.h>
#include <ATen/CPUGeneratorImpl.h>

#ifdef PT_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

#include <cstring>
#include <string>
#include <vector>

struct pt_generator_s { at::Generator gen; };

namespace {

inline at::Tensor& T(pt_tensor t) {
  if (t == nullptr) throw std::invalid_argument("null tensor handle");
  return *reinterpret_cast<at::Tensor*>(t);
}
inline c10::optional<at::Tensor> opt(pt_tensor t) {
  if (t == nullptr) return c10::nullopt;
  return *reinterpret_cast<at::Tensor*>(t);
}
inline pt_tensor wrap(at::Tensor t) { return reinterpret_cast<pt_tensor>(new at::Tensor(std::move(t))); }

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
c10::optional<at::Generator> gen_of(pt_generator g) {
  if (g == nullptr) return c10::nullopt;
  return g->gen;
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
at::IntArrayRef ints(const int64_t* p, int32_t n) {
  if (n < 0) throw std::invalid_argument("negative dimension count");
  return at::IntArrayRef(p, static_cast<size_t>(n));
}

}  // namespace

// This thread's last error. Every shim source reports through pt_internal::fail; recording never throws (without
// memory for the copy, a fixed message stands in).
namespace {
thread_local std::string last_error;
thread_local const char* last_error_fixed = nullptr;
}  // namespace

int32_t pt_internal::fail(const char* msg) noexcept {
  try {
    last_error = msg != nullptr ? msg : "(no message)";
    last_error_fixed = nullptr;
  } catch (...) {
    last_error_fixed = "out of memory while recording an error in the progrpo shim";
  }
  return PT_ERROR;
}

extern "C" {

// ---- runtime -------------------------------------------------------------------------------------------------
int32_t pt_last_error(const char** out) {
  PT_TRY
  *out = last_error_fixed != nullptr ? last_error_fixed : last_error.c_str();
  PT_CATCH
}
int32_t pt_abi_version(int32_t* out) { PT_TRY *out = PT_ABI_VERSION; PT_CATCH }
int32_t pt_torch_version(int32_t* out) {
  PT_TRY
  *out = TORCH_VERSION_MAJOR * 10000 + TORCH_VERSION_MINOR * 100 + TORCH_VERSION_PATCH;
  PT_CATCH
}
int32_t pt_cuda_is_available(int32_t* out) { PT_TRY *out = torch::cuda::is_available() ? 1 : 0; PT_CATCH }
int32_t pt_cuda_device_count(int32_t* out) { PT_TRY *out = static_cast<int32_t>(torch::cuda::device_count()); PT_CATCH }
int32_t pt_built_with_cuda(int32_t* out) {
  PT_TRY
#ifdef PT_WITH_CUDA
  *out = 1;
#else
  *out = 0;
#endif
  PT_CATCH
}
int32_t pt_set_num_threads(int32_t n) { PT_TRY at::set_num_threads(n); PT_CATCH }
int32_t pt_get_num_threads(int32_t* out) { PT_TRY *out = at::get_num_threads(); PT_CATCH }
int32_t pt_set_num_interop_threads(int32_t n) { PT_TRY at::set_num_interop_threads(n); PT_CATCH }
int32_t pt_set_grad_enabled(int32_t enabled) { PT_TRY at::GradMode::set_enabled(enabled != 0); PT_CATCH }
int32_t pt_is_grad_enabled(int32_t* out) { PT_TRY *out = at::GradMode::is_enabled() ? 1 : 0; PT_CATCH }
int32_t pt_manual_seed(uint64_t seed) { PT_TRY torch::manual_seed(seed); PT_CATCH }

int32_t pt_cuda_memory_stats(int32_t device_index, int64_t* out) {
  PT_TRY
  for (int i = 0; i < 4; i++) out[i] = 0;
#ifdef PT_WITH_CUDA
  if (torch::cuda::is_available()) {
    auto s = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device_index));
    // index 0 is StatType::AGGREGATE in every libtorch version
    out[0] = s.allocated_bytes[0].current;
    out[1] = s.allocated_bytes[0].peak;
    out[2] = s.reserved_bytes[0].current;
    out[3] = s.reserved_bytes[0].peak;
  }
#else
  (void)device_index;
#endif
  PT_CATCH
}
int32_t pt_cuda_reset_peak(int32_t device_index) {
  PT_TRY
#ifdef PT_WITH_CUDA
  if (torch::cuda::is_available())
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device_index));
#else
  (void)device_index;
#endif
  PT_CATCH
}
int32_t pt_cuda_empty_cache(void) {
  PT_TRY
#ifdef PT_WITH_CUDA
  if (torch::cuda::is_available()) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
  PT_CATCH
}
int32_t pt_cuda_synchronize(int32_t device_index) {
  PT_TRY
#ifdef PT_WITH_CUDA
  if (torch::cuda::is_available()) torch::cuda::synchronize(static_cast<int64_t>(device_index));
#else
  (void)device_index;
#endif
  PT_CATCH
}

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

// ---- elementwise ---------------------------------------------------------------------------------------------
// Small-tensor fast path of the four arithmetic ops. For a few hundred elements libtorch's dispatcher, type
// promotion and TensorIterator set-up cost more than the arithmetic (measured: at::add of 4x4 floats ~540 ns in C++,
// Python's torch.add ~900 ns). Same-shape contiguous float32 CPU operands that autograd does not need are computed
// with a plain loop into a fresh tensor: the same IEEE single-precision results, elementwise, as libtorch's kernels.
extern "C++" {
namespace {
constexpr int64_t kFastPathMaxElements = 4096;

inline bool fast_path_ok(const at::Tensor& a) {
  return a.device().is_cpu() && a.scalar_type() == at::kFloat && a.is_contiguous() && a.numel() <= kFastPathMaxElements
         && !(at::GradMode::is_enabled() && a.requires_grad());
}

template <typename F>
inline pt_tensor fast_binary(const at::Tensor& a, const at::Tensor& b, F f) {
  at::Tensor r = at::empty(a.sizes(), a.options());
  const float* x = a.data_ptr<float>();
  const float* y = b.data_ptr<float>();
  float* z = r.data_ptr<float>();
  const int64_t n = a.numel();
  for (int64_t i = 0; i < n; i++) z[i] = f(x[i], y[i]);
  return wrap(std::move(r));
}

template <typename F>
inline pt_tensor fast_scalar(const at::Tensor& a, float s, F f) {
  at::Tensor r = at::empty(a.sizes(), a.options());
  const float* x = a.data_ptr<float>();
  float* z = r.data_ptr<float>();
  const int64_t n = a.numel();
  for (int64_t i = 0; i < n; i++) z[i] = f(x[i], s);
  return wrap(std::move(r));
}
}  // namespace
}  // extern "C++"

int32_t pt_binary(int32_t op, pt_tensor pa, pt_tensor pb, pt_tensor* out) {
  PT_TRY
  const at::Tensor& a = T(pa);
  const at::Tensor& b = T(pb);
  if (op >= 0 && op <= 3 && fast_path_ok(a) && fast_path_ok(b) && a.sizes() == b.sizes()) {
    switch (op) {
      case 0: *out = fast_binary(a, b, [](float x, float y) { return x + y; }); return PT_OK;
      case 1: *out = fast_binary(a, b, [](float x, float y) { return x - y; }); return PT_OK;
      case 2: *out = fast_binary(a, b, [](float x, float y) { return x * y; }); return PT_OK;
      default: *out = fast_binary(a, b, [](float x, float y) { return x / y; }); return PT_OK;
    }
  }
  at::Tensor r;
  switch (op) {
    case 0: r = at::add(a, b); break;
    case 1: r = at::sub(a, b); break;
    case 2: r = at::mul(a, b); break;
    case 3: r = at::div(a, b); break;
    case 4: r = at::pow(a, b); break;
    case 5: r = at::maximum(a, b); break;
    case 6: r = at::minimum(a, b); break;
    case 7: r = at::eq(a, b); break;
    case 8: r = at::ne(a, b); break;
    case 9: r = at::lt(a, b); break;
    case 10: r = at::le(a, b); break;
    case 11: r = at::gt(a, b); break;
    case 12: r = at::ge(a, b); break;
    case 13: r = at::atan2(a, b); break;
    default: throw std::invalid_argument("unknown binary op code " + std::to_string(op));
  }
  *out = wrap(std::move(r));
  PT_CATCH
}
int32_t pt_binary_scalar(int32_t op, pt_tensor pa, double s, pt_tensor* out) {
  PT_TRY
  const at::Tensor& a = T(pa);
  // libtorch computes float32 op double-scalar in float32 (the scalar is cast first): so does the fast path
  if (op >= 0 && op <= 3 && fast_path_ok(a)) {
    const float f = static_cast<float>(s);
    switch (op) {
      case 0: *out = fast_scalar(a, f, [](float x, float y) { return x + y; }); return PT_OK;
      case 1: *out = fast_scalar(a, f, [](float x, float y) { return x - y; }); return PT_OK;
      case 2: *out = fast_scalar(a, f, [](float x, float y) { return x * y; }); return PT_OK;
      default: *out = fast_scalar(a, f, [](float x, float y) { return x / y; }); return PT_OK;
    }
  }
  at::Tensor r;
  switch (op) {
    case 0: r = at::add(a, s); break;
    case 1: r = at::sub(a, s); break;
    case 2: r = at::mul(a, s); break;
    case 3: r = at::div(a, s); break;
    case 4: r = at::pow(a, s); break;
    case 5: r = at::clamp_min(a, s); break;
    case 6: r = at::clamp_max(a, s); break;
    case 7: r = at::eq(a, s); break;
    case 8: r = at::ne(a, s); break;
    case 9: r = at::lt(a, s); break;
    case 10: r = at::le(a, s); break;
    case 11: r = at::gt(a, s); break;
    case 12: r = at::ge(a, s); break;
    case 14: r = at::rsub(a, s); break;
    case 15: r = at::reciprocal(a) * s; break;
    default: throw std::invalid_argument("unknown scalar op code " + std::to_string(op));
  }
  *out = wrap(std::move(r));
  PT_CATCH
}
int32_t pt_unary(int32_t op, pt_tensor pa, pt_tensor* out) {
  PT_TRY
  const at::Tensor& a = T(pa);
  at::Tensor r;
  switch (op) {
    case 0: r = at::neg(a); break;
    case 1: r = at::exp(a); break;
    case 2: r = at::log(a); break;
    case 3: r = at::sqrt(a); break;
    case 4: r = at::abs(a); break;
    case 5: r = at::tanh(a); break;
    case 6: r = at::sigmoid(a); break;
    case 7: r = at::silu(a); break;
    case 8: r = at::gelu(a); break;
    case 9: r = at::relu(a); break;
    case 10: r = at::sin(a); break;
    case 11: r = at::cos(a); break;
    case 12: r = at::square(a); break;
    case 13: r = at::rsqrt(a); break;
    case 14: r = at::reciprocal(a); break;
    case 15: r = at::floor(a); break;
    case 16: r = at::sign(a); break;
    case 17: r = at::isnan(a); break;
    case 18: r = at::isfinite(a); break;
    case 19: r = at::log1p(a); break;
    case 20: r = at::expm1(a); break;
    case 21: r = at::logical_not(a); break;
    default: throw std::invalid_argument("unknown unary op code " + std::to_string(op));
  }
  *out = wrap(std::move(r));
  PT_CATCH
}
int32_t pt_addcmul(pt_tensor a, pt_tensor b, pt_tensor c, double alpha, pt_tensor* out) {
  PT_TRY *out = wrap(at::addcmul(T(a), T(b), T(c), alpha)); PT_CATCH
}
int32_t pt_clamp(pt_tensor t, double lo, double hi, pt_tensor* out) {
  PT_TRY
  c10::optional<at::Scalar> l = std::isinf(lo) && lo < 0 ? c10::nullopt : c10::optional<at::Scalar>(lo);
  c10::optional<at::Scalar> h = std::isinf(hi) && hi > 0 ? c10::nullopt : c10::optional<at::Scalar>(hi);
  *out = wrap(at::clamp(T(t), l, h));
  PT_CATCH
}
int32_t pt_where(pt_tensor c, pt_tensor a, pt_tensor b, pt_tensor* out) { PT_TRY *out = wrap(at::where(T(c), T(a), T(b))); PT_CATCH }
int32_t pt_softmax(pt_tensor t, int64_t d, pt_tensor* out) { PT_TRY *out = wrap(at::softmax(T(t), d)); PT_CATCH }
int32_t pt_log_softmax(pt_tensor t, int64_t d, pt_tensor* out) { PT_TRY *out = wrap(at::log_softmax(T(t), d)); PT_CATCH }
int32_t pt_add_(pt_tensor t, pt_tensor o, double alpha) { PT_TRY T(t).add_(T(o), alpha); PT_CATCH }
int32_t pt_mul_scalar_(pt_tensor t, double s) { PT_TRY T(t).mul_(s); PT_CATCH }
int32_t pt_fill_(pt_tensor t, double v) { PT_TRY T(t).fill_(v); PT_CATCH }

// ---- reductions ----------------------------------------------------------------------------------------------
int32_t pt_reduce(int32_t op, pt_tensor pt, const int64_t* dims, int32_t ndims, int32_t keepdim, pt_tensor* out) {
  PT_TRY
  const at::Tensor& t = T(pt);
  std::vector<int64_t> d = ndims == 0 ? all_dims(t) : std::vector<int64_t>(dims, dims + ndims);
  bool kd = keepdim != 0;
  at::Tensor r;
  switch (op) {
    case 0: r = ndims == 0 && !kd ? t.sum() : at::sum(t, d, kd); break;
    case 1: r = ndims == 0 && !kd ? t.mean() : at::mean(t, d, kd); break;
    case 2: r = at::amax(t, d, kd); break;
    case 3: r = at::amin(t, d, kd); break;
    case 4:
      if (ndims != 0) throw std::invalid_argument("prod reduces all dimensions only");
      r = t.prod();
      break;
    case 5:
    case 6: {
      r = t.to(at::kBool);
      if (ndims == 0 && !kd) { r = op == 5 ? r.any() : r.all(); break; }
      std::sort(d.begin(), d.end());
      for (auto it = d.rbegin(); it != d.rend(); ++it) r = op == 5 ? r.any(*it, kd) : r.all(*it, kd);
      break;
    }
    default: throw std::invalid_argument("unknown reduction op code " + std::to_string(op));
  }
  *out = wrap(std::move(r));
  PT_CATCH
}
int32_t pt_var(pt_tensor pt, const int64_t* dims, int32_t ndims, int64_t correction, int32_t keepdim, int32_t take_sqrt, pt_tensor* out) {
  PT_TRY
  const at::Tensor& t = T(pt);
  std::vector<int64_t> d = ndims == 0 ? all_dims(t) : std::vector<int64_t>(dims, dims + ndims);
#if TORCH_VERSION_MAJOR >= 2
  c10::optional<at::Scalar> corr = at::Scalar(correction);
#else
  c10::optional<int64_t> corr = correction;
#endif
  at::OptionalIntArrayRef od(d);
  *out = wrap(take_sqrt ? at::std(t, od, corr, keepdim != 0) : at::var(t, od, corr, keepdim != 0));
  PT_CATCH
}
int32_t pt_max_dim(pt_tensor t, int64_t d, int32_t keepdim, pt_tensor* values, pt_tensor* indices) {
  PT_TRY
  auto r = at::max(T(t), d, keepdim != 0);
  *values = wrap(std::get<0>(r));
  *indices = wrap(std::get<1>(r));
  PT_CATCH
}
int32_t pt_argmax(pt_tensor t, int64_t d, int32_t keepdim, pt_tensor* out) { PT_TRY *out = wrap(at::argmax(T(t), d, keepdim != 0)); PT_CATCH }
int32_t pt_norm(pt_tensor t, double p, pt_tensor* out) { PT_TRY *out = wrap(at::norm(T(t), p)); PT_CATCH }

// ---- linear algebra and nn functionals -----------------------------------------------------------------------
int32_t pt_matmul(pt_tensor a, pt_tensor b, pt_tensor* out) { PT_TRY *out = wrap(at::matmul(T(a), T(b))); PT_CATCH }
int32_t pt_bmm(pt_tensor a, pt_tensor b, pt_tensor* out) { PT_TRY *out = wrap(at::bmm(T(a), T(b))); PT_CATCH }
int32_t pt_linear(pt_tensor x, pt_tensor w, pt_tensor b, pt_tensor* out) { PT_TRY *out = wrap(at::linear(T(x), T(w), opt(b))); PT_CATCH }
int32_t pt_conv2d(pt_tensor x, pt_tensor w, pt_tensor b, const int64_t* p, pt_tensor* out) {
  PT_TRY
  *out = wrap(at::conv2d(T(x), T(w), opt(b), {p[0], p[1]}, {p[2], p[3]}, {p[4], p[5]}, p[6]));
  PT_CATCH
}
int32_t pt_group_norm(pt_tensor x, int64_t groups, pt_tensor w, pt_tensor b, double eps, pt_tensor* out) {
  PT_TRY *out = wrap(at::group_norm(T(x), groups, opt(w), opt(b), eps)); PT_CATCH
}
int32_t pt_layer_norm(pt_tensor x, const int64_t* shape, int32_t ndim, pt_tensor w, pt_tensor b, double eps, pt_tensor* out) {
  PT_TRY *out = wrap(at::layer_norm(T(x), ints(shape, ndim), opt(w), opt(b), eps)); PT_CATCH
}
int32_t pt_embedding(pt_tensor weight, pt_tensor idx, pt_tensor* out) { PT_TRY *out = wrap(at::embedding(T(weight), T(idx))); PT_CATCH }
int32_t pt_sdpa(pt_tensor q, pt_tensor k, pt_tensor v, pt_tensor mask, int32_t is_causal, pt_tensor* out) {
  PT_TRY
#if TORCH_VERSION_MAJOR >= 2
  *out = wrap(at::scaled_dot_product_attention(T(q), T(k), T(v), opt(mask), 0.0, is_causal != 0));
#else
  const at::Tensor& Q = T(q);
  const at::Tensor& K = T(k);
  double scale = 1.0 / std::sqrt(static_cast<double>(Q.size(-1)));
  at::Tensor s = at::matmul(Q, K.transpose(-2, -1)) * scale;
  if (is_causal != 0) {
    auto L = Q.size(-2), S = K.size(-2);
    auto keep = at::ones({L, S}, Q.options().dtype(at::kBool)).tril();
    s = s.masked_fill(keep.logical_not(), -std::numeric_limits<double>::infinity());
  }
  if (mask != nullptr) {
    const at::Tensor& m = T(mask);
    s = m.scalar_type() == at::kBool ? s.masked_fill(m.logical_not(), -std::numeric_limits<double>::infinity()) : s + m;
  }
  *out = wrap(at::matmul(at::softmax(s, -1), T(v)));
#endif
  PT_CATCH
}
int32_t pt_interpolate(pt_tensor x, int64_t h, int64_t w, int32_t mode, pt_tensor* out) {
  PT_TRY
  namespace F = torch::nn::functional;
  auto o = F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w});
  if (mode == 0) o = o.mode(torch::kNearest);
  else if (mode == 1) o = o.mode(torch::kBilinear).align_corners(false);
  else throw std::invalid_argument("unknown interpolation mode " + std::to_string(mode));
  *out = wrap(F::interpolate(T(x), o));
  PT_CATCH
}
int32_t pt_avg_pool2d(pt_tensor x, int64_t kernel, pt_tensor* out) { PT_TRY *out = wrap(at::avg_pool2d(T(x), {kernel, kernel})); PT_CATCH }
int32_t pt_mse_loss(pt_tensor a, pt_tensor b, pt_tensor* out) { PT_TRY *out = wrap(at::mse_loss(T(a), T(b))); PT_CATCH }

// ---- autograd ------------------------------------------------------------------------------------------------
int32_t pt_set_requires_grad(pt_tensor t, int32_t rg) { PT_TRY T(t).set_requires_grad(rg != 0); PT_CATCH }
int32_t pt_backward(pt_tensor t, pt_tensor grad, int32_t retain_graph) {
  PT_TRY
  at::Tensor g = grad == nullptr ? at::Tensor() : T(grad);
  T(t).backward(g, retain_graph != 0 ? c10::optional<bool>(true) : c10::nullopt);
  PT_CATCH
}
int32_t pt_grad(pt_tensor t, pt_tensor* out) {
  PT_TRY
  const at::Tensor& g = T(t).grad();
  *out = g.defined() ? wrap(g) : nullptr;
  PT_CATCH
}
int32_t pt_zero_grad(pt_tensor t) { PT_TRY T(t).mutable_grad().reset(); PT_CATCH }
int32_t pt_clip_grad_norm(const pt_tensor* params, int32_t n, double max_norm, double* total_norm) {
  PT_TRY
  auto ps = tensors_of(params, n);
  *total_norm = torch::nn::utils::clip_grad_norm_(ps, max_norm);
  PT_CATCH
}

// ---- optimizers ----------------------------------------------------------------------------------------------
int32_t pt_adamw_new(const pt_tensor* params, int32_t n, const double* o, pt_optimizer* out) {
  PT_TRY
  auto opts = torch::optim::AdamWOptions(o[0]).betas(std::make_tuple(o[1], o[2])).eps(o[3]).weight_decay(o[4]);
  auto h = std::make_unique<pt_optimizer_s>();
  h->opt = std::make_unique<torch::optim::AdamW>(tensors_of(params, n), opts);
  *out = h.release();
  PT_CATCH
}
int32_t pt_sgd_new(const pt_tensor* params, int32_t n, const double* o, pt_optimizer* out) {
  PT_TRY
  auto opts = torch::optim::SGDOptions(o[0]).momentum(o[1]).dampening(o[2]).weight_decay(o[3]).nesterov(o[4] != 0.0);
  auto h = std::make_unique<pt_optimizer_s>();
  h->opt = std::make_unique<torch::optim::SGD>(tensors_of(params, n), opts);
  *out = h.release();
  PT_CATCH
}
int32_t pt_optimizer_add_group(pt_optimizer o, const pt_tensor* params, int32_t n, double lr, double wd) {
  PT_TRY
  auto opts = o->opt->defaults().clone();
  opts->set_lr(lr);
  if (auto* a = dynamic_cast<torch::optim::AdamWOptions*>(opts.get())) a->weight_decay(wd);
  else if (auto* s = dynamic_cast<torch::optim::SGDOptions*>(opts.get())) s->weight_decay(wd);
  o->opt->add_param_group(torch::optim::OptimizerParamGroup(tensors_of(params, n), std::move(opts)));
  PT_CATCH
}
int32_t pt_optimizer_group_count(pt_optimizer o, int32_t* out) { PT_TRY *out = static_cast<int32_t>(o->opt->param_groups().size()); PT_CATCH }
int32_t pt_optimizer_set_lr(pt_optimizer o, int32_t g, double lr) { PT_TRY o->opt->param_groups().at(static_cast<size_t>(g)).options().set_lr(lr); PT_CATCH }
int32_t pt_optimizer_get_lr(pt_optimizer o, int32_t g, double* out) { PT_TRY *out = o->opt->param_groups().at(static_cast<size_t>(g)).options().get_lr(); PT_CATCH }
int32_t pt_optimizer_step(pt_optimizer o) { PT_TRY o->opt->step(); PT_CATCH }
int32_t pt_optimizer_zero_grad(pt_optimizer o) {
  PT_TRY
  for (auto& group : o->opt->param_groups())
    for (auto& p : group.params()) p.mutable_grad().reset();
  PT_CATCH
}
int32_t pt_optimizer_free(pt_optimizer o) { PT_TRY delete o; PT_CATCH }

// Optimizer state and named tensors on disk: progrpo_io.cpp.

}  // extern "C"
