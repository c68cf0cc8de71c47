// The per-collective descriptor check (pt_collective_check.h): build, compare, describe.
//
// Layout of the kSlots int64 values:
//   [0] layout version   [1] collective number   [2] kind   [3] argument (reduce op, broadcast root)
//   tensor collectives:  [4] dtype code  [5] dim  [6..13] the first 8 sizes  [14] numel  [15] hash of dtype and shape
//   gradient all-reduce: [4] parameter count  [5] listed count  [6..13] the first 8 element counts  [14] total
//                        elements  [15] hash of every parameter's dtype and shape, in order
#include "pt_collective_check.h"

#include "progrpo_torch.h"

#include <sstream>
#include <stdexcept>

namespace pt_collective {
namespace {

constexpr int64_t kVersion = 1;

int64_t dtype_code(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return PT_DTYPE_FLOAT32;
    case at::kDouble: return PT_DTYPE_FLOAT64;
    case at::kHalf: return PT_DTYPE_FLOAT16;
    case at::kBFloat16: return PT_DTYPE_BFLOAT16;
    case at::kLong: return PT_DTYPE_INT64;
    case at::kInt: return PT_DTYPE_INT32;
    case at::kBool: return PT_DTYPE_BOOL;
    case at::kByte: return PT_DTYPE_UINT8;
    default: return 100 + static_cast<int64_t>(s);  // any other dtype still compares, by libtorch's own code
  }
}

std::string dtype_name(int64_t code) {
  switch (code) {
    case PT_DTYPE_FLOAT32: return "float32";
    case PT_DTYPE_FLOAT64: return "float64";
    case PT_DTYPE_FLOAT16: return "float16";
    case PT_DTYPE_BFLOAT16: return "bfloat16";
    case PT_DTYPE_INT64: return "int64";
    case PT_DTYPE_INT32: return "int32";
    case PT_DTYPE_BOOL: return "bool";
    case PT_DTYPE_UINT8: return "uint8";
    default: return "dtype#" + std::to_string(code);
  }
}

// FNV-1a over 64-bit words: the same value in every process.
struct Hash {
  uint64_t h = 1469598103934665603ULL;
  void add(int64_t v) {
    uint64_t u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; i++) {
      h ^= (u >> (8 * i)) & 0xff;
      h *= 1099511628211ULL;
    }
  }
  void add(const at::Tensor& t) {
    add(dtype_code(t.scalar_type()));
    add(t.dim());
    for (int64_t s : t.sizes()) add(s);
  }
};

std::vector<int64_t> blank(Kind kind, int64_t arg) {
  std::vector<int64_t> d(kSlots, 0);
  d[0] = kVersion;
  d[2] = kind;
  d[3] = arg;
  return d;
}

std::string kind_name(const std::vector<int64_t>& d) {
  switch (d[2]) {
    case kAllReduce: {
      const char* ops[] = {"sum", "avg", "min", "max"};
      std::string op = d[3] >= 0 && d[3] < 4 ? ops[d[3]] : "op " + std::to_string(d[3]);
      return "all_reduce(" + op + ")";
    }
    case kAllGather: return "all_gather";
    case kBroadcast: return "broadcast(root " + std::to_string(d[3]) + ")";
    case kGradients: return "all_reduce(gradients)";
    default: return "collective kind " + std::to_string(d[2]);
  }
}

std::string list(const std::vector<int64_t>& d, int64_t shown, int64_t total) {
  std::ostringstream s;
  s << "[";
  for (int64_t i = 0; i < shown; i++) s << (i == 0 ? "" : ", ") << d[static_cast<size_t>(6 + i)];
  if (total > shown) s << (shown == 0 ? "" : ", ") << "... " << total << " in all";
  s << "]";
  return s.str();
}

std::string hex(int64_t v) {
  std::ostringstream s;
  s << std::hex << static_cast<uint64_t>(v);
  return s.str();
}

// What one rank contributed, in words: "all_reduce(sum) of float32[10]".
std::string describe(const std::vector<int64_t>& d, bool with_hash) {
  if (d.size() != static_cast<size_t>(kSlots) || d[0] != kVersion) return "a descriptor of another layout (another shim build?)";
  std::string s = kind_name(d) + " of ";
  if (d[2] == kGradients) {
    s += std::to_string(d[4]) + (d[4] == 1 ? " parameter" : " parameters") + " with " + list(d, d[5], d[4]) + " elements ("
         + std::to_string(d[14]) + " in all)";
  } else {
    s += dtype_name(d[4]) + list(d, std::min<int64_t>(d[5], kListed), d[5] > kListed ? d[5] : 0);
  }
  if (with_hash) s += " (layout hash " + hex(d[15]) + ")";
  return s;
}

}  // namespace

std::vector<int64_t> of_tensor(Kind kind, int64_t arg, const at::Tensor& t) {
  std::vector<int64_t> d = blank(kind, arg);
  d[4] = dtype_code(t.scalar_type());
  d[5] = t.dim();
  for (int64_t i = 0; i < t.dim() && i < kListed; i++) d[static_cast<size_t>(6 + i)] = t.size(i);
  d[14] = t.numel();
  Hash h;
  h.add(t);
  d[15] = static_cast<int64_t>(h.h);
  return d;
}

std::vector<int64_t> of_parameters(const std::vector<at::Tensor>& params) {
  std::vector<int64_t> d = blank(kGradients, 0);
  d[4] = static_cast<int64_t>(params.size());
  d[5] = std::min<int64_t>(d[4], kListed);
  Hash h;
  for (size_t i = 0; i < params.size(); i++) {
    if (i < static_cast<size_t>(kListed)) d[6 + i] = params[i].numel();
    d[14] += params[i].numel();
    h.add(params[i]);
  }
  d[15] = static_cast<int64_t>(h.h);
  return d;
}

void set_sequence(std::vector<int64_t>& d, int64_t seq) { d[1] = seq; }

std::string mismatch(const std::vector<std::vector<int64_t>>& all, int rank, const std::string& op, int64_t seq) {
  const std::vector<int64_t>& mine = all.at(static_cast<size_t>(rank));
  bool same = true, same_seq = true;
  for (const auto& d : all) {
    if (d != mine) same = false;
    if (d.size() != mine.size() || d[1] != mine[1]) same_seq = false;
  }
  if (same) return "";
  std::string head = "rank " + std::to_string(rank) + ": " + op + " (collective #" + std::to_string(seq) + ") not run: ";
  std::ostringstream s;
  if (!same_seq) {
    s << head << "the ranks are out of step (";
    for (size_t q = 0; q < all.size(); q++) {
      s << (q == 0 ? "" : ", ") << "rank " << q << " is at collective #" << (all[q].size() > 1 ? all[q][1] : -1) << " with "
        << describe(all[q], false);
    }
    s << "); every rank must issue the same collectives in the same order";
    return s.str();
  }
  // the words can be equal where only the hash differs (shapes beyond the listed sizes, parameter shapes of equal
  // element counts): then the hash is shown too
  bool words_differ = false;
  for (const auto& d : all) if (describe(d, false) != describe(mine, false)) words_differ = true;
  s << head << "the ranks disagree (";
  for (size_t q = 0; q < all.size(); q++) s << (q == 0 ? "" : ", ") << "rank " << q << " has " << describe(all[q], !words_differ);
  s << "); every rank must issue the same collective with tensors of the same dtype and shape";
  if (!words_differ) s << " (here the shapes or dtypes differ beyond what is listed: see the layout hashes)";
  return s.str();
}

}  // namespace pt_collective
