// Private to the shim's .cpp files (never installed, never read by the bindings generator): the per-thread error
// message, the PT_TRY/PT_CATCH pattern that keeps every C++ exception on this side of the ABI, the file sink every
// writer goes through, the handle structs and the argument conversions more than one source file needs.
//
// The shim's sources, by area (every one includes this header and follows the pattern below):
//   progrpo_torch.cpp            runtime: last error, versions, threads, grad mode, CUDA memory statistics
//   progrpo_tensor.cpp           tensors: lifetime, metadata, data in and out, factories, generators, views
//   progrpo_ops.cpp              element-wise ops (with the small-tensor fast path), reductions, linear algebra, nn
//   progrpo_autograd.cpp         autograd and the optimizers
//   progrpo_io.cpp               files: named tensors, optimizer state, and the FileSink
//   progrpo_jit.cpp              TorchScript modules
//   progrpo_dist.cpp, progrpo_dist_group.cpp, progrpo_collective_check.cpp   process groups (c10d)
//
// The exception barrier, for every extern "C" entry point (ShimExceptionBarrierTest checks the sources):
//  - the whole body sits between PT_TRY and PT_CATCH; PT_CATCH ends in a catch-all, and recording the message
//    cannot throw (pt_internal::fail is noexcept);
//  - every object whose destructor may throw is destroyed inside the try. libtorch's zip writer
//    (caffe2::serialize::PyTorchStreamWriter) is such an object: after a failed write its destructor finalizes the
//    archive again and throws, and a destructor that throws while the stack unwinds calls std::terminate (the JVM
//    dies with SIGABRT). So no writer is ever given a write that fails: files are written through FileSink, which
//    reports every write as complete, keeps the first OS error and throws it from finish(), after the writer is gone;
//  - the shim's own structs have destructors that cannot throw (threads are stopped and joined, never left joinable).
#ifndef PROGRPO_PT_INTERNAL_H
#define PROGRPO_PT_INTERNAL_H

#include "progrpo_torch.h"

#include <ATen/ATen.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct pt_named_s { std::vector<std::string> names; std::vector<at::Tensor> tensors; };
struct pt_optimizer_s { std::unique_ptr<torch::optim::Optimizer> opt; };
struct pt_generator_s { at::Generator gen; };

namespace pt_internal {
// Records msg as this thread's last error (never throws: without memory for the copy a fixed message stands in) and
// returns PT_ERROR.
int32_t fail(const char* msg) noexcept;

inline at::Tensor& T(pt_tensor t) {
  if (t == nullptr) throw std::invalid_argument("null tensor handle");
  return *reinterpret_cast<at::Tensor*>(t);
}
inline pt_tensor wrap(at::Tensor t) { return reinterpret_cast<pt_tensor>(new at::Tensor(std::move(t))); }
// An optional tensor argument: null is none.
inline c10::optional<at::Tensor> opt(pt_tensor t) {
  if (t == nullptr) return c10::nullopt;
  return *reinterpret_cast<at::Tensor*>(t);
}
// A generator argument: null is libtorch's default generator.
inline c10::optional<at::Generator> gen_of(pt_generator g) {
  if (g == nullptr) return c10::nullopt;
  return g->gen;
}
inline at::IntArrayRef ints(const int64_t* p, int32_t n) {
  if (n < 0) throw std::invalid_argument("negative dimension count");
  return at::IntArrayRef(p, static_cast<size_t>(n));
}

// The ABI's codes (PT_DTYPE_*, PT_DEVICE_*) to libtorch's types and back (progrpo_tensor.cpp). An unknown code
// throws std::invalid_argument naming it; from_scalar_type answers -1 for a dtype the ABI has no code for.
at::ScalarType to_scalar_type(int32_t code);
int32_t from_scalar_type(at::ScalarType s);
at::Device to_device(int32_t type, int32_t index);
at::TensorOptions options(int32_t dtype, int32_t device_type, int32_t device_index);
// The tensors of an array of n handles (each must be non-null), and the dimensions 0..dim-1 of t.
std::vector<at::Tensor> tensors_of(const pt_tensor* ts, int32_t n);
std::vector<int64_t> all_dims(const at::Tensor& t);

// A file that libtorch's writers stream into. write() never fails towards its caller: it writes what it can, keeps
// the first error (ENOSPC, EFBIG, EIO, ...) and drops the rest of the data; finish() flushes the file to disk
// (fsync, for regular files), closes it and throws a std::runtime_error naming the path, the bytes written and the OS
// error when any step failed. The destructor only closes.
class FileSink {
 public:
  explicit FileSink(const char* path);  // throws when the file cannot be created
  ~FileSink();
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  size_t write(const void* data, size_t n) noexcept;
  // The writer function for libtorch (PyTorchStreamWriter, OutputArchive::save_to, ExportModule); it refers to this.
  std::function<size_t(const void*, size_t)> writer();
  void finish();

 private:
  std::string path_;
  int fd_ = -1;
  int error_ = 0;         // errno of the first failure, 0 while none
  uint64_t written_ = 0;  // bytes that reached the file
};
}  // namespace pt_internal

#define PT_TRY try {
#define PT_CATCH                                                                         \
  return PT_OK;                                                                          \
  } catch (const c10::Error& e) {                                                        \
    return pt_internal::fail(e.what_without_backtrace());                                \
  } catch (const std::exception& e) {                                                    \
    return pt_internal::fail(e.what());                                                  \
  } catch (...) {                                                                        \
    return pt_internal::fail("unknown C++ exception in the progrpo shim");               \
  }

#endif  // PROGRPO_PT_INTERNAL_H
