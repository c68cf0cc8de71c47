// Autograd and the optimizers (libtorch's AdamW and SGD) through the shim's C ABI. The optimizers' state on disk is
// in progrpo_io.cpp.
#include "progrpo_torch.h"
#include "pt_internal.h"

#include <torch/torch.h>

#include <memory>
#include <tuple>
#include <utility>

using pt_internal::T;
using pt_internal::tensors_of;
using pt_internal::wrap;

extern "C" {

// ---- autograd ------------------------------------------------------------------------------------------------
int32_t pt_set_requires_grad(pt_tensor t, int32_t rg) { PT_TRY T(t).set_requires_grad(rg != 0); PT_CATCH }
int32_t pt_tensor_version(pt_tensor t, int64_t* out) { PT_TRY *out = static_cast<int64_t>(T(t)._version()); PT_CATCH }
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

}  // extern "C"
