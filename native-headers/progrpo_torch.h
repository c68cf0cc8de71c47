/*
 * progrpo_torch.h -- the C ABI of the progrpo libtorch shim.
 *
 * This header is the single source of truth for the Java bindings (io.progrpo.tensor.internal.ffi), which are
 * generated from it mechanically (scripts/gen-bindings); a test fails when the committed bindings drift from it.
 *
 * Conventions (the same as PyTorch's AOTInductor C shim):
 *  - Every function returns an int32 status: PT_OK (0) or PT_ERROR (1). On PT_ERROR the message (libtorch's
 *    c10::Error text without its backtrace) is kept per thread; read it with pt_last_error. No C++ exception ever
 *    crosses this boundary, from a destructor neither (native/pt_internal.h has the rules).
 *  - Writers (pt_optimizer_save, pt_save_named, pt_jit_save) create or truncate the file at path; when the file
 *    system fails them (full disk, file-size limit, I/O error) they return PT_ERROR with "writing PATH failed after
 *    N bytes: <the OS error>" and leave the partial file to the caller (the Java API writes a temporary file beside
 *    the target and renames it only after success).
 *  - Handles are opaque pointers. "NEW" outputs are owned by the caller, who frees them with the matching *_free;
 *    "BORROWED" outputs stay owned by their source and are valid only as long as it is.
 *  - Only fixed-width integers, doubles and pointers cross the boundary. Arrays are (pointer, count) pairs.
 *  - dtype codes: see PT_DTYPE_*; device: (device_type PT_DEVICE_*, device_index).
 *  - PT_CRITICAL marks O(1) getters that never allocate, launch kernels, synchronize or take locks; only those are
 *    bound with Linker.Option.critical on the Java side.
 *
 * Declaration grammar (kept strict for the generator): one declaration per line,
 *   PT_API [PT_CRITICAL] int32_t name(type arg, ...);
 */
#ifndef PROGRPO_TORCH_H
#define PROGRPO_TORCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PT_API __attribute__((visibility("default")))
#define PT_CRITICAL

#define PT_ABI_VERSION 2
#define PT_OK 0
#define PT_ERROR 1

#define PT_DTYPE_FLOAT32 0
#define PT_DTYPE_FLOAT64 1
#define PT_DTYPE_FLOAT16 2
#define PT_DTYPE_BFLOAT16 3
#define PT_DTYPE_INT64 4
#define PT_DTYPE_INT32 5
#define PT_DTYPE_BOOL 6
#define PT_DTYPE_UINT8 7

#define PT_DEVICE_CPU 0
#define PT_DEVICE_CUDA 1

typedef struct pt_tensor_s* pt_tensor;
typedef struct pt_generator_s* pt_generator;
typedef struct pt_optimizer_s* pt_optimizer;
typedef struct pt_named_s* pt_named;
typedef struct pt_module_s* pt_module;
typedef struct pt_process_group_s* pt_process_group;

/* ---- runtime ------------------------------------------------------------------------------------------------ */
/* The message of this thread's last failed call (BORROWED, valid until this thread's next failing call). */
PT_API int32_t pt_last_error(const char** out);
PT_API PT_CRITICAL int32_t pt_abi_version(int32_t* out);
/* libtorch's version as major*10000 + minor*100 + patch. */
PT_API PT_CRITICAL int32_t pt_torch_version(int32_t* out);
PT_API int32_t pt_cuda_is_available(int32_t* out);
PT_API int32_t pt_cuda_device_count(int32_t* out);
/* 1 when the shim was compiled with CUDA support (caching-allocator statistics available). */
PT_API PT_CRITICAL int32_t pt_built_with_cuda(int32_t* out);
PT_API int32_t pt_set_num_threads(int32_t n);
PT_API int32_t pt_get_num_threads(int32_t* out);
PT_API int32_t pt_set_num_interop_threads(int32_t n);
/* Thread-local autograd mode (libtorch's GradMode). */
PT_API int32_t pt_set_grad_enabled(int32_t enabled);
PT_API PT_CRITICAL int32_t pt_is_grad_enabled(int32_t* out);
PT_API int32_t pt_manual_seed(uint64_t seed);
/* out[0..3] = allocated current, allocated peak, reserved current, reserved peak (bytes); zeros without CUDA. */
PT_API int32_t pt_cuda_memory_stats(int32_t device_index, int64_t* out);
PT_API int32_t pt_cuda_reset_peak(int32_t device_index);
PT_API int32_t pt_cuda_empty_cache(void);
PT_API int32_t pt_cuda_synchronize(int32_t device_index);

/* ---- tensor lifetime and metadata --------------------------------------------------------------------------- */
PT_API int32_t pt_tensor_free(pt_tensor t);
/* out[0..7] = dtype, device_type, device_index, dim, numel, storage_nbytes, storage_key, requires_grad.
 * storage_key identifies the storage (views share it); 0 for tensors without storage. */
PT_API PT_CRITICAL int32_t pt_tensor_info(pt_tensor t, int64_t* out);
PT_API PT_CRITICAL int32_t pt_tensor_sizes(pt_tensor t, int64_t* out, int32_t cap);
PT_API PT_CRITICAL int32_t pt_tensor_strides(pt_tensor t, int64_t* out, int32_t cap);
/* Data pointer of the tensor's first element (BORROWED; CPU or device memory). */
PT_API PT_CRITICAL int32_t pt_tensor_data_ptr(pt_tensor t, void** out);
/* NEW tensor holding a copy of nbytes at data, interpreted as a contiguous array of the given shape and dtype. */
PT_API int32_t pt_from_data(const void* data, const int64_t* sizes, int32_t ndim, int32_t dtype, pt_tensor* out);
/* NEW tensor viewing data without a copy; the caller keeps data alive and unmoved while the tensor lives. */
PT_API int32_t pt_from_blob(void* data, const int64_t* sizes, int32_t ndim, int32_t dtype, pt_tensor* out);
/* Copies the tensor's elements, in row-major order, to dst (nbytes must equal numel * element size). */
PT_API int32_t pt_copy_to(pt_tensor t, void* dst, int64_t nbytes);
/* Copies src into dst in place (broadcasting, dtype/device conversion). */
PT_API int32_t pt_copy_(pt_tensor dst, pt_tensor src);
PT_API int32_t pt_item_double(pt_tensor t, double* out);
PT_API int32_t pt_item_int64(pt_tensor t, int64_t* out);

/* ---- factories (all outputs NEW) --------------------------------------------------------------------------- */
PT_API int32_t pt_empty(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index, pt_tensor* out);
PT_API int32_t pt_full(const int64_t* sizes, int32_t ndim, double value, int32_t dtype, int32_t device_type, int32_t device_index, pt_tensor* out);
PT_API int32_t pt_arange(double start, double end, double step, int32_t dtype, int32_t device_type, int32_t device_index, pt_tensor* out);
PT_API int32_t pt_linspace(double start, double end, int64_t steps, int32_t dtype, int32_t device_type, int32_t device_index, pt_tensor* out);
/* N(0, 1) or U[0, 1) samples from gen (NULL: libtorch's default generator of the device). */
PT_API int32_t pt_randn(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index, pt_generator gen, pt_tensor* out);
PT_API int32_t pt_rand(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index, pt_generator gen, pt_tensor* out);
PT_API int32_t pt_randint(int64_t low, int64_t high, const int64_t* sizes, int32_t ndim, int32_t device_type, int32_t device_index, pt_generator gen, pt_tensor* out);
PT_API int32_t pt_randperm(int64_t n, int32_t device_type, int32_t device_index, pt_generator gen, pt_tensor* out);

/* ---- generators --------------------------------------------------------------------------------------------- */
PT_API int32_t pt_generator_new(uint64_t seed, int32_t device_type, int32_t device_index, pt_generator* out);
PT_API int32_t pt_generator_free(pt_generator g);
PT_API int32_t pt_generator_set_seed(pt_generator g, uint64_t seed);
/* NEW uint8 tensor with the generator's full state; pt_generator_set_state restores it. */
PT_API int32_t pt_generator_get_state(pt_generator g, pt_tensor* out);
PT_API int32_t pt_generator_set_state(pt_generator g, pt_tensor state);

/* ---- conversion and views (outputs NEW) --------------------------------------------------------------------- */
PT_API int32_t pt_to(pt_tensor t, int32_t dtype, int32_t device_type, int32_t device_index, pt_tensor* out);
PT_API int32_t pt_clone(pt_tensor t, pt_tensor* out);
PT_API int32_t pt_contiguous(pt_tensor t, pt_tensor* out);
PT_API int32_t pt_detach(pt_tensor t, pt_tensor* out);
PT_API int32_t pt_reshape(pt_tensor t, const int64_t* sizes, int32_t ndim, pt_tensor* out);
PT_API int32_t pt_view(pt_tensor t, const int64_t* sizes, int32_t ndim, pt_tensor* out);
PT_API int32_t pt_expand(pt_tensor t, const int64_t* sizes, int32_t ndim, pt_tensor* out);
PT_API int32_t pt_permute(pt_tensor t, const int64_t* dims, int32_t ndim, pt_tensor* out);
PT_API int32_t pt_transpose(pt_tensor t, int64_t dim0, int64_t dim1, pt_tensor* out);
PT_API int32_t pt_squeeze(pt_tensor t, int64_t dim, pt_tensor* out);
PT_API int32_t pt_unsqueeze(pt_tensor t, int64_t dim, pt_tensor* out);
PT_API int32_t pt_narrow(pt_tensor t, int64_t dim, int64_t start, int64_t length, pt_tensor* out);
PT_API int32_t pt_select(pt_tensor t, int64_t dim, int64_t index, pt_tensor* out);
PT_API int32_t pt_index_select(pt_tensor t, int64_t dim, pt_tensor index, pt_tensor* out);
PT_API int32_t pt_gather(pt_tensor t, int64_t dim, pt_tensor index, pt_tensor* out);
PT_API int32_t pt_cat(const pt_tensor* ts, int32_t n, int64_t dim, pt_tensor* out);
PT_API int32_t pt_stack(const pt_tensor* ts, int32_t n, int64_t dim, pt_tensor* out);
PT_API int32_t pt_repeat_interleave(pt_tensor t, int64_t repeats, int64_t dim, pt_tensor* out);

/* ---- elementwise (outputs NEW; binary ops broadcast) -------------------------------------------------------- */
/* op codes of pt_binary: 0 add, 1 sub, 2 mul, 3 div, 4 pow, 5 maximum, 6 minimum, 7 eq, 8 ne, 9 lt, 10 le, 11 gt, 12 ge, 13 atan2 */
PT_API int32_t pt_binary(int32_t op, pt_tensor a, pt_tensor b, pt_tensor* out);
/* same op codes, with a scalar right operand; op 14 = rsub (s - a), 15 = rdiv (s / a) */
PT_API int32_t pt_binary_scalar(int32_t op, pt_tensor a, double s, pt_tensor* out);
/* op codes of pt_unary: 0 neg, 1 exp, 2 log, 3 sqrt, 4 abs, 5 tanh, 6 sigmoid, 7 silu, 8 gelu, 9 relu, 10 sin,
 * 11 cos, 12 square, 13 rsqrt, 14 reciprocal, 15 floor, 16 sign, 17 isnan, 18 isfinite, 19 log1p, 20 expm1, 21 logical_not */
PT_API int32_t pt_unary(int32_t op, pt_tensor a, pt_tensor* out);
/* a + alpha * b * c (fused multiply-add, used by the samplers) */
PT_API int32_t pt_addcmul(pt_tensor a, pt_tensor b, pt_tensor c, double alpha, pt_tensor* out);
PT_API int32_t pt_clamp(pt_tensor t, double lo, double hi, pt_tensor* out);
PT_API int32_t pt_where(pt_tensor cond, pt_tensor a, pt_tensor b, pt_tensor* out);
PT_API int32_t pt_softmax(pt_tensor t, int64_t dim, pt_tensor* out);
PT_API int32_t pt_log_softmax(pt_tensor t, int64_t dim, pt_tensor* out);
/* in place: t += alpha * other; t *= s; t.fill_(v) (autograd-aware where allowed) */
PT_API int32_t pt_add_(pt_tensor t, pt_tensor other, double alpha);
PT_API int32_t pt_mul_scalar_(pt_tensor t, double s);
PT_API int32_t pt_fill_(pt_tensor t, double v);

/* ---- reductions (outputs NEW) ------------------------------------------------------------------------------- */
/* op codes: 0 sum, 1 mean, 2 amax, 3 amin, 4 prod(all only), 5 any, 6 all; ndims == 0 reduces all dimensions */
PT_API int32_t pt_reduce(int32_t op, pt_tensor t, const int64_t* dims, int32_t ndims, int32_t keepdim, pt_tensor* out);
/* variance (std when take_sqrt) with the given correction (0 population, 1 sample) */
PT_API int32_t pt_var(pt_tensor t, const int64_t* dims, int32_t ndims, int64_t correction, int32_t keepdim, int32_t take_sqrt, pt_tensor* out);
PT_API int32_t pt_max_dim(pt_tensor t, int64_t dim, int32_t keepdim, pt_tensor* values, pt_tensor* indices);
PT_API int32_t pt_argmax(pt_tensor t, int64_t dim, int32_t keepdim, pt_tensor* out);
PT_API int32_t pt_norm(pt_tensor t, double p, pt_tensor* out);

/* ---- linear algebra and nn functionals (outputs NEW; optional tensors may be NULL) -------------------------- */
PT_API int32_t pt_matmul(pt_tensor a, pt_tensor b, pt_tensor* out);
PT_API int32_t pt_bmm(pt_tensor a, pt_tensor b, pt_tensor* out);
PT_API int32_t pt_linear(pt_tensor x, pt_tensor w, pt_tensor b, pt_tensor* out);
/* params = stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups */
PT_API int32_t pt_conv2d(pt_tensor x, pt_tensor w, pt_tensor b, const int64_t* params, pt_tensor* out);
PT_API int32_t pt_group_norm(pt_tensor x, int64_t groups, pt_tensor w, pt_tensor b, double eps, pt_tensor* out);
PT_API int32_t pt_layer_norm(pt_tensor x, const int64_t* normalized_shape, int32_t ndim, pt_tensor w, pt_tensor b, double eps, pt_tensor* out);
PT_API int32_t pt_embedding(pt_tensor weight, pt_tensor indices, pt_tensor* out);
/* softmax(q k^T / sqrt(d) + mask) v over the last two dims; mask may be NULL. Uses libtorch's fused kernel where
 * the linked libtorch has one (>= 2.0), a composed form otherwise. */
PT_API int32_t pt_sdpa(pt_tensor q, pt_tensor k, pt_tensor v, pt_tensor mask, int32_t is_causal, pt_tensor* out);
/* nearest/bilinear 2-d resize to (h, w); mode 0 nearest, 1 bilinear */
PT_API int32_t pt_interpolate(pt_tensor x, int64_t h, int64_t w, int32_t mode, pt_tensor* out);
PT_API int32_t pt_avg_pool2d(pt_tensor x, int64_t kernel, pt_tensor* out);
PT_API int32_t pt_mse_loss(pt_tensor a, pt_tensor b, pt_tensor* out);

/* ---- autograd ----------------------------------------------------------------------------------------------- */
PT_API int32_t pt_set_requires_grad(pt_tensor t, int32_t requires_grad);
/* t's version counter (t._version()): every in-place op on it or on a view of it increments it (ABI 2) */
PT_API PT_CRITICAL int32_t pt_tensor_version(pt_tensor t, int64_t* out);
/* grad may be NULL for a scalar t */
PT_API int32_t pt_backward(pt_tensor t, pt_tensor grad, int32_t retain_graph);
/* NEW handle to t.grad(), or *out = NULL when t has no gradient */
PT_API int32_t pt_grad(pt_tensor t, pt_tensor* out);
PT_API int32_t pt_zero_grad(pt_tensor t);
/* total 2-norm of the gradients, then scales them so it is at most max_norm (torch.nn.utils.clip_grad_norm_) */
PT_API int32_t pt_clip_grad_norm(const pt_tensor* params, int32_t n, double max_norm, double* total_norm);

/* ---- optimizers ----------------------------------------------------------------------------------------------- */
/* The optimizer keeps its own references to the parameters. options = lr, beta1, beta2, eps, weight_decay */
PT_API int32_t pt_adamw_new(const pt_tensor* params, int32_t n, const double* options, pt_optimizer* out);
/* options = lr, momentum, dampening, weight_decay, nesterov (0/1) */
PT_API int32_t pt_sgd_new(const pt_tensor* params, int32_t n, const double* options, pt_optimizer* out);
/* Adds a parameter group with its own lr and weight decay (other options copied from the defaults). */
PT_API int32_t pt_optimizer_add_group(pt_optimizer o, const pt_tensor* params, int32_t n, double lr, double weight_decay);
PT_API int32_t pt_optimizer_group_count(pt_optimizer o, int32_t* out);
PT_API int32_t pt_optimizer_set_lr(pt_optimizer o, int32_t group, double lr);
PT_API int32_t pt_optimizer_get_lr(pt_optimizer o, int32_t group, double* out);
PT_API int32_t pt_optimizer_step(pt_optimizer o);
PT_API int32_t pt_optimizer_zero_grad(pt_optimizer o);
/* libtorch's own archive format of the optimizer state (for resume; not meant for Python). Fsynced before PT_OK. */
PT_API int32_t pt_optimizer_save(pt_optimizer o, const char* path);
PT_API int32_t pt_optimizer_load(pt_optimizer o, const char* path);
PT_API int32_t pt_optimizer_free(pt_optimizer o);

/* ---- named tensors (state dicts) ---------------------------------------------------------------------------- */
/* Writes {name: tensor} with torch's pickle format, so Python's torch.load(path) returns a dict of tensors. Fsynced
 * before PT_OK. */
PT_API int32_t pt_save_named(const char* path, const char* const* names, const pt_tensor* ts, int32_t n);
/* Reads a file written by pt_save_named or by Python's torch.save({str: tensor}); NEW list. */
PT_API int32_t pt_load_named(const char* path, pt_named* out);
PT_API int32_t pt_named_size(pt_named list, int32_t* out);
/* *name is BORROWED from the list; *out is NEW. */
PT_API int32_t pt_named_get(pt_named list, int32_t i, const char** name, pt_tensor* out);
PT_API int32_t pt_named_free(pt_named list);

/* ---- TorchScript modules (torch.jit) ------------------------------------------------------------------------ */
/* A pt_module is a loaded TorchScript module (torch.jit.save of a scripted or traced nn.Module). It is not
 * thread-safe for concurrent calls that change it (train mode, parameter updates); forward calls only read it. */
/* Loads a TorchScript file onto the device; NEW module. Fails with libtorch's message for a missing file or a file
 * that is not a TorchScript archive. */
PT_API int32_t pt_jit_load(const char* path, int32_t device_type, int32_t device_index, pt_module* out);
PT_API int32_t pt_jit_free(pt_module m);
/* NEW independent copy: every parameter and buffer cloned (a frozen reference policy costs one more model). */
PT_API int32_t pt_jit_deepcopy(pt_module m, pt_module* out);
/* Writes the module with its current parameter values; Python's torch.jit.load reads it. Fsynced before PT_OK. */
PT_API int32_t pt_jit_save(pt_module m, const char* path);
/* Training mode of the module and all its submodules (dropout, batch norm), as nn.Module.train(on). */
PT_API int32_t pt_jit_train(pt_module m, int32_t on);
PT_API int32_t pt_jit_is_training(pt_module m, int32_t* out);
/* *out = 1 when the module has a method of that name, else 0. */
PT_API int32_t pt_jit_has_method(pt_module m, const char* method, int32_t* out);
/* The methods' names separated by commas (BORROWED, valid until this thread's next pt_jit_method_* call). */
PT_API int32_t pt_jit_method_names(pt_module m, const char** out);
/* The method's schema, e.g. "forward(__torch__.M self, Tensor x) -> Tensor" (BORROWED, same validity). */
PT_API int32_t pt_jit_method_schema(pt_module m, const char* method, const char** out);
/* Named parameters (kind 0) or buffers (kind 1) of the module and its submodules, with dotted names; NEW list whose
 * tensors ALIAS the module's own: requires_grad and in-place updates through them change the module. */
PT_API int32_t pt_jit_named_tensors(pt_module m, int32_t kind, pt_named* out);
/* argument kinds of pt_jit_call */
#define PT_JIT_ARG_TENSOR 0
#define PT_JIT_ARG_DOUBLE 1
#define PT_JIT_ARG_INT64 2
#define PT_JIT_ARG_BOOL 3
#define PT_JIT_ARG_NONE 4
/* Calls method with nargs positional arguments (after self): argument i is tensors[i], doubles[i] or ints[i] as
 * kinds[i] says (the other arrays' entry i is ignored); missing trailing arguments take the schema's defaults.
 * The result is a tensor (1 output), a tuple or list of tensors (every element, in order) or None (0 outputs); other
 * results fail. Outputs are NEW, written to outs[0..*n_out); more than cap outputs fail without leaking. */
PT_API int32_t pt_jit_call(pt_module m, const char* method, const int32_t* kinds, const pt_tensor* tensors, const double* doubles, const int64_t* ints, int32_t nargs, pt_tensor* outs, int32_t cap, int32_t* n_out);

/* ---- distributed: c10d process groups ----------------------------------------------------------------------- */
/* A pt_process_group is one rank's membership in a data-parallel job: a TCP store rendezvous hosted by rank 0 and a
 * Gloo (CPU) or NCCL (CUDA) backend. Collectives are synchronous and wait at most the group's timeout; a failure's
 * message names the rank that did not reach the collective or whose process stopped. Before each collective the
 * ranks all-gather a descriptor of 16 int64 (collective, reduce op or root, dtype, shape; for gradients the parameter
 * set); when any rank's differs, every rank fails naming what each rank had and none runs it. One thread at a time,
 * and never pt_pg_free during a call on another thread (the Java ProcessGroup enforces both). */
#define PT_DIST_BACKEND_GLOO 0
#define PT_DIST_BACKEND_NCCL 1
#define PT_REDUCE_SUM 0
#define PT_REDUCE_AVG 1
#define PT_REDUCE_MIN 2
#define PT_REDUCE_MAX 3
/* *out = 1 when this build of the shim can create the backend (Gloo headers / CUDA with c10d's NCCL), else 0. */
PT_API int32_t pt_dist_backend_available(int32_t backend, int32_t* out);
/* Joins the job: rank 0 hosts the store on host:port, the others connect; returns once all world_size ranks joined
 * and the backend connected, or fails after timeout_ms naming the ranks that did not join. world_size 1 needs no
 * store. NEW group. */
PT_API int32_t pt_pg_init(const char* host, int32_t port, int32_t rank, int32_t world_size, int32_t backend, int64_t timeout_ms, pt_process_group* out);
PT_API int32_t pt_pg_free(pt_process_group pg);
PT_API int32_t pt_pg_rank(pt_process_group pg, int32_t* out);
PT_API int32_t pt_pg_world_size(pt_process_group pg, int32_t* out);
/* In place: t = op over every rank's t (PT_REDUCE_*; AVG = SUM / world size). */
PT_API int32_t pt_pg_all_reduce(pt_process_group pg, pt_tensor t, int32_t op);
/* NEW tensor [world_size, ...t.shape]: row r is rank r's t (same shape and dtype on every rank). */
PT_API int32_t pt_pg_all_gather(pt_process_group pg, pt_tensor t, pt_tensor* out);
/* In place: t = rank root's t. */
PT_API int32_t pt_pg_broadcast(pt_process_group pg, pt_tensor t, int32_t root);
/* Waits until every rank arrives, at most timeout_ms (<= 0: the group's timeout); through the store, so long waits
 * (a rank pretraining a model) are fine, and a rank that stopped fails it early. */
PT_API int32_t pt_pg_barrier(pt_process_group pg, int64_t timeout_ms);
/* Gradient sync of n parameters in one bucket: grad = scale * sum over ranks (scale 1/world_size averages). A rank
 * without a gradient contributes zeros; a parameter no rank has a gradient for keeps none. */
PT_API int32_t pt_pg_all_reduce_grads(pt_process_group pg, const pt_tensor* params, int32_t n, double scale);

#ifdef __cplusplus
}
#endif

#endif /* PROGRPO_TORCH_H */
