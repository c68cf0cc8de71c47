// Private to the shim's .cpp files (never installed, never read by the bindings generator): the per-thread error
// message, the PT_TRY/PT_CATCH pattern that keeps every C++ exception on this side of the ABI, and the handle
// structs more than one source file needs.
#ifndef PROGRPO_PT_INTERNAL_H
#define PROGRPO_PT_INTERNAL_H

#include "progrpo_torch.h"

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>
#include <vector>

struct pt_named_s { std::vector<std::string> names; std::vector<at::Tensor> tensors; };

namespace pt_internal {
// This thread's last error message (defined in progrpo_torch.cpp, read by pt_last_error).
std::string& last_error();
}  // namespace pt_internal

#define PT_INTERNAL_TRY try {
#define PT_INTERNAL_CATCH                                                                \
  return PT_OK;                                                                          \
  } catch (const c10::Error& e) {                                                        \
    pt_internal::last_error() = e.what_without_backtrace();                              \
    return PT_ERROR;                                                                     \
  } catch (const std::exception& e) {                                                    \
    pt_internal::last_error() = e.what();                                                \
    return PT_ERROR;                                                                     \
  } catch (...) {                                                                        \
    pt_internal::last_error() = "unknown C++ exception in the progrpo shim";             \
    return PT_ERROR;                                                                     \
  }

#endif  // PROGRPO_PT_INTERNAL_H
