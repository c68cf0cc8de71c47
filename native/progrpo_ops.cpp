// Operations through the shim's C ABI: element-wise ops (with the small-tensor fast path of add, sub, mul and div),
// reductions, linear algebra and the nn functionals.
#include "progrpo_torch.h"
#include "pt_internal.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

using pt_internal::all_dims;
using pt_internal::ints;
using pt_internal::opt;
using pt_internal::T;
using pt_internal::wrap;

// ---- elementwise ---------------------------------------------------------------------------------------------
// Small-tensor fast path of the four arithmetic ops. For a few hundred elements libtorch's dispatcher, type
// promotion and TensorIterator set-up cost more than the arithmetic (measured: at::add of 4x4 floats ~540 ns in C++,
// Python's torch.add ~900 ns). Same-shape contiguous float32 CPU operands that autograd does not need are computed
// with a plain loop into a fresh tensor: the same IEEE single-precision results, elementwise, as libtorch's kernels.
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

extern "C" {

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

}  // extern "C"
