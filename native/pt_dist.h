// Private to the shim: the process-group handle and the helpers of native/progrpo_dist.cpp's entry points (store
// keys, heartbeat, the diagnosis of failed collectives, the checked collective), defined in progrpo_dist_group.cpp.
#ifndef PROGRPO_PT_DIST_H
#define PROGRPO_PT_DIST_H

#include "progrpo_torch.h"

#include <torch/torch.h>
#include <torch/version.h>

#ifdef PT_WITH_C10D
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#ifdef PT_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef PT_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif
#endif

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace pt_dist {
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;
// "1, 2": ranks for messages.
std::string join_ranks(const std::vector<int>& r);
}  // namespace pt_dist

#ifdef PT_WITH_C10D

#if TORCH_VERSION_MAJOR >= 2
using PgBase = c10d::Backend;
#else
using PgBase = c10d::ProcessGroup;
#endif

struct pt_process_group_s {
  std::string host;
  int port = 0;
  int rank = 0;
  int size = 1;
  int backend = PT_DIST_BACKEND_GLOO;
  pt_dist::Millis timeout{30000};
  c10::intrusive_ptr<c10d::Store> store;      // this rank's client (rank 0's object also runs the server)
  c10::intrusive_ptr<c10d::Store> hb_store;   // a second connection, used only by the heartbeat thread
  c10::intrusive_ptr<PgBase> pg;
  int64_t seq = 0;       // collectives issued so far; the same on every rank while they stay in step
  int64_t barriers = 0;  // store barriers so far
  std::thread heartbeat;
  std::atomic<bool> stop{false};

  pt_process_group_s() = default;
  pt_process_group_s(const pt_process_group_s&) = delete;
  pt_process_group_s& operator=(const pt_process_group_s&) = delete;
  // Never leaves the heartbeat thread joinable (std::thread's destructor would call std::terminate), whichever
  // path destroys the group.
  ~pt_process_group_s() { stop_heartbeat(); }
  void stop_heartbeat() noexcept {
    stop = true;
    try {
      if (heartbeat.joinable()) heartbeat.join();
    } catch (...) {
      // join only throws for a thread that is not joinable or is this one: neither happens here
    }
  }
};

namespace pt_dist {
constexpr int kHeartbeatMs = 250;

std::string key(const std::string& what, int rank);
std::vector<uint8_t> bytes(const std::string& s);
std::string str(const std::vector<uint8_t>& b);
// The open group behind a handle (throws for null or closed).
pt_process_group_s& PG(pt_process_group p);
std::string where(const pt_process_group_s& g);
// Ranks whose heartbeat did not advance over a few periods: their process is gone (or frozen whole).
std::vector<int> silent_ranks(pt_process_group_s& g);
// One checked collective (see progrpo_dist_group.cpp): the descriptor exchange, then launch (none: only the check).
void run_collective(pt_process_group_s& g, const std::string& op, std::vector<int64_t> desc, at::Device dev,
                    const std::function<c10::intrusive_ptr<c10d::Work>()>& launch);
// Where the descriptor goes: the CPU for Gloo; for NCCL the device of the collective's tensors (a CUDA device).
at::Device descriptor_device(const pt_process_group_s& g, const at::Tensor* like);
// The heartbeat thread's body.
void beat(pt_process_group_s* g) noexcept;
c10::intrusive_ptr<c10d::TCPStore> connect(const std::string& host, int port, int rank, int size, Millis timeout, bool server);
c10::intrusive_ptr<PgBase> make_backend(pt_process_group_s& g);
// Waits until every rank joined through the store, failing after the timeout naming the missing ranks.
void join(pt_process_group_s& g);
}  // namespace pt_dist

#else  // !PT_WITH_C10D

struct pt_process_group_s { int rank = 0; };

#endif

#endif  // PROGRPO_PT_DIST_H
