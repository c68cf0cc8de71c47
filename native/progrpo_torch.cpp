// The progrpo libtorch shim: an extern "C" ABI (native-headers/progrpo_torch.h) over libtorch's C++ API.
// Builds unchanged against Debian's libtorch 1.13 and PyTorch 2.x. Every entry point catches every exception
// (PT_TRY/PT_CATCH, pt_internal.h); the message is kept per thread for pt_last_error. This file: that per-thread
// error and the runtime (versions, threads, grad mode, seeds, CUDA memory statistics). The other areas have a file
// each; pt_internal.h lists them.
#include "progrpo_torch.h"
#include "pt_internal.h"

#include <torch/torch.h>
#include <torch/version.h>

#ifdef PT_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

#include <string>

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

}  // extern "C"
