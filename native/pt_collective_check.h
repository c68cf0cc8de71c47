// Private to the shim: the descriptor every rank contributes before a collective (progrpo_dist.cpp), so that ranks
// whose tensors differ in dtype or shape fail together with a TorchException instead of handing Gloo buffers of
// different sizes (Gloo aborts the process in its IO thread; equal byte counts of different dtypes or shapes mix
// silently). Pure functions, without c10d: progrpo_collective_check.cpp.
#ifndef PROGRPO_PT_COLLECTIVE_CHECK_H
#define PROGRPO_PT_COLLECTIVE_CHECK_H

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pt_collective {

// The fixed-size int64 descriptor: one all-gather of kSlots values per collective.
constexpr int kSlots = 16;
constexpr int kListed = 8;  // sizes (or parameter element counts) written out; the hash covers the rest

enum Kind : int64_t { kAllReduce = 1, kAllGather = 2, kBroadcast = 3, kGradients = 4 };

// A tensor's descriptor for collective `kind` with argument `arg` (reduce op code, broadcast root, or 0).
std::vector<int64_t> of_tensor(Kind kind, int64_t arg, const at::Tensor& t);
// The descriptor of a gradient all-reduce over `params` (their count, element counts, dtypes and shapes).
std::vector<int64_t> of_parameters(const std::vector<at::Tensor>& params);

// Sets the collective's sequence number (the same on every rank while they stay in step).
void set_sequence(std::vector<int64_t>& d, int64_t seq);

// "" when every rank's descriptor equals this rank's; otherwise the message every rank raises, naming what each
// rank had. `all` is indexed by rank; `op` names the collective as the caller does ("all_reduce").
std::string mismatch(const std::vector<std::vector<int64_t>>& all, int rank, const std::string& op, int64_t seq);

}  // namespace pt_collective

#endif  // PROGRPO_PT_COLLECTIVE_CHECK_H
