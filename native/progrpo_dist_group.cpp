// The process group's machinery behind native/progrpo_dist.cpp's entry points (declared in pt_dist.h): store keys,
// the heartbeat, the diagnosis that names the rank that went missing, the checked collective, connecting and joining.
#include "pt_dist.h"
#include "pt_internal.h"
#include "pt_collective_check.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

std::string pt_dist::join_ranks(const std::vector<int>& r) {
  std::ostringstream s;
  for (size_t i = 0; i < r.size(); i++) s << (i == 0 ? "" : ", ") << r[i];
  return s.str();
}

#ifdef PT_WITH_C10D

namespace pt_dist {

namespace {
const char* kPrefix = "progrpo/";
}  // namespace

std::string key(const std::string& what, int rank) { return std::string(kPrefix) + what + "/" + std::to_string(rank); }

std::vector<uint8_t> bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }
std::string str(const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); }

pt_process_group_s& PG(pt_process_group p) {
  if (p == nullptr) throw std::invalid_argument("null process group handle");
  if (!p->pg && p->size > 1) throw std::invalid_argument("the process group is closed");
  return *p;
}

std::string where(const pt_process_group_s& g) {
  return "rendezvous " + g.host + ":" + std::to_string(g.port) + ", world size " + std::to_string(g.size);
}

// The heartbeat counter of every rank (-1 where it cannot be read).
std::vector<int64_t> heartbeats(pt_process_group_s& g) {
  std::vector<int64_t> v(static_cast<size_t>(g.size), -1);
  for (int q = 0; q < g.size; q++) {
    std::string k = key("hb", q);
    if (g.store->check({k})) v[static_cast<size_t>(q)] = g.store->add(k, 0);
  }
  return v;
}

// Ranks whose heartbeat did not advance over a few periods: their process is gone (or frozen whole).
std::vector<int> silent_ranks(pt_process_group_s& g) {
  auto a = heartbeats(g);
  std::this_thread::sleep_for(Millis(6 * kHeartbeatMs));
  auto b = heartbeats(g);
  std::vector<int> out;
  for (int q = 0; q < g.size; q++) {
    if (q != g.rank && b[static_cast<size_t>(q)] <= a[static_cast<size_t>(q)]) out.push_back(q);
  }
  return out;
}

// Turns a failed or timed-out collective into a message that names the rank(s) that went missing. Every check
// reads the store; when that fails too, rank 0 (its host) is the one gone.
std::string diagnose(pt_process_group_s& g, const std::string& op, const std::string& cause) {
  std::string head = "rank " + std::to_string(g.rank) + ": " + op + " (collective #" + std::to_string(g.seq) + ") failed";
  try {
    g.store->setTimeout(Millis(std::max<int64_t>(1000, std::min<int64_t>(g.timeout.count(), 5000))));
    std::vector<int> behind;
    for (int q = 0; q < g.size; q++) {
      if (q == g.rank) continue;
      std::string k = key("at", q);
      int64_t at = g.store->check({k}) ? std::stoll(str(g.store->get(k))) : -1;
      if (at < g.seq) behind.push_back(q);
    }
    if (!behind.empty()) {
      std::vector<int> silent = silent_ranks(g);
      bool dead = !silent.empty();
      return head + ": rank " + join_ranks(behind) + " never reached it (" + (dead ? "its process stopped" : "it hangs or runs behind")
          + ", timeout " + std::to_string(g.timeout.count()) + " ms, " + where(g) + "); cause: " + cause;
    }
    std::vector<int> silent = silent_ranks(g);
    if (!silent.empty()) {
      return head + ": rank " + join_ranks(silent) + " stopped during it (no heartbeat; " + where(g) + "); cause: " + cause;
    }
    return head + " (" + where(g) + "): " + cause;
  } catch (...) {
    if (g.rank == 0) return head + " and the store no longer answers (" + where(g) + "): " + cause;
    return head + ": rank 0 (host of the rendezvous store) is unreachable, its process stopped (" + where(g) + "); cause: " + cause;
  }
}

// The ranks passed different tensors to one collective: every rank raises this, none ran the collective.
struct Mismatch : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Every rank's descriptor, through one all-gather of kSlots int64 on `dev` (CPU for Gloo, the tensors' GPU for NCCL).
std::vector<std::vector<int64_t>> gather_descriptors(pt_process_group_s& g, const std::vector<int64_t>& mine, at::Device dev,
                                                     std::string& cause) {
  at::Tensor in = at::tensor(mine, at::TensorOptions().dtype(at::kLong)).to(dev);
  std::vector<std::vector<at::Tensor>> outs(1);
  for (int q = 0; q < g.size; q++) outs[0].push_back(at::empty({pt_collective::kSlots}, in.options()));
  std::vector<at::Tensor> ins{in};
  c10d::AllgatherOptions o;
  o.timeout = g.timeout;
  auto work = g.pg->allgather(outs, ins, o);
  if (!work->wait(g.timeout)) {
    cause = "timed out after " + std::to_string(g.timeout.count()) + " ms (exchanging the tensors' descriptors)";
    return {};
  }
  std::vector<std::vector<int64_t>> all;
  for (int q = 0; q < g.size; q++) {
    at::Tensor c = outs[0][static_cast<size_t>(q)].to(at::kCPU).contiguous();
    const int64_t* p = c.data_ptr<int64_t>();
    all.emplace_back(p, p + pt_collective::kSlots);
  }
  return all;
}

// One collective: the descriptor exchange, then (when every rank passed the same) `launch`, each waited for with the
// group's timeout. An empty `launch` only checks (a gradient sync without parameters). A failure is diagnosed into a
// message naming the missing rank; a mismatch raises on every rank naming what each rank had.
void run_collective(pt_process_group_s& g, const std::string& op, std::vector<int64_t> desc, at::Device dev,
                    const std::function<c10::intrusive_ptr<c10d::Work>()>& launch) {
  if (g.size == 1) return;
  g.seq++;
  pt_collective::set_sequence(desc, g.seq);
  std::string cause;
  try {
    g.store->set(key("at", g.rank), bytes(std::to_string(g.seq)));
    auto all = gather_descriptors(g, desc, dev, cause);
    if (cause.empty()) {
      std::string bad = pt_collective::mismatch(all, g.rank, op, g.seq);
      if (!bad.empty()) throw Mismatch(bad);
      if (!launch) return;
      auto work = launch();
      if (work->wait(g.timeout)) return;
      cause = "timed out after " + std::to_string(g.timeout.count()) + " ms";
    }
  } catch (const Mismatch&) {
    throw;
  } catch (const c10::Error& e) {
    cause = e.what_without_backtrace();
  } catch (const std::exception& e) {
    cause = e.what();
  }
  throw std::runtime_error(diagnose(g, op, cause));
}

// Where the descriptor goes: the CPU for Gloo; for NCCL the device of the collective's tensors (a CUDA device).
at::Device descriptor_device(const pt_process_group_s& g, const at::Tensor* like) {
  if (g.backend == PT_DIST_BACKEND_NCCL) return like != nullptr ? like->device() : at::Device(at::kCUDA);
  return at::Device(at::kCPU);
}

// The heartbeat thread's body. Nothing may leave it: an exception escaping a thread's function calls std::terminate.
void beat(pt_process_group_s* g) noexcept {
  try {
    std::string k = key("hb", g->rank);
    while (!g->stop.load()) {
      g->hb_store->add(k, 1);
      for (int i = 0; i < 5 && !g->stop.load(); i++) std::this_thread::sleep_for(Millis(kHeartbeatMs / 5));
    }
  } catch (...) {
    // the store is gone (rank 0 stopped): the beat stops, and the next collective reports it
  }
}

c10::intrusive_ptr<c10d::TCPStore> connect(const std::string& host, int port, int rank, int size, Millis timeout, bool server) {
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(port);
  o.isServer = server;
  o.numWorkers = static_cast<std::size_t>(size);
  o.waitWorkers = false;  // the join below names the ranks that do not come
  o.timeout = timeout;
#ifdef PT_TCPSTORE_HAS_LIBUV_OPTION
  // PyTorch 2.4+ defaults the store's server to libuv; builds without it (Debian's 2.x) refuse that default. The
  // classic socket server then does the same job.
  try {
    return c10::make_intrusive<c10d::TCPStore>(host, o);
  } catch (const std::exception& e) {
    if (std::string(e.what()).find("libuv") == std::string::npos) throw;
    o.useLibUV = false;
    return c10::make_intrusive<c10d::TCPStore>(host, o);
  }
#else
  return c10::make_intrusive<c10d::TCPStore>(host, o);
#endif
}

bool is_loopback(const std::string& h) { return h == "127.0.0.1" || h == "localhost" || h == "::1"; }

c10::intrusive_ptr<PgBase> make_backend(pt_process_group_s& g) {
  auto store = c10::make_intrusive<c10d::PrefixStore>("pg", g.store);
  if (g.backend == PT_DIST_BACKEND_GLOO) {
#ifdef PT_WITH_GLOO
    auto opts = c10d::ProcessGroupGloo::Options::create(g.timeout);
    // Loopback jobs bind to 127.0.0.1; otherwise GLOO_SOCKET_IFNAME picks the interface, as in PyTorch
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    if (ifname != nullptr && *ifname != '\0') {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (is_loopback(g.host)) {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    return c10::make_intrusive<c10d::ProcessGroupGloo>(store, g.rank, g.size, opts);
#else
    throw std::runtime_error("the Gloo backend is not available in this build of the shim (Gloo's headers were not found "
                             "when it was compiled; install libgloo-dev and rebuild native/)");
#endif
  }
  if (g.backend == PT_DIST_BACKEND_NCCL) {
#ifdef PT_WITH_NCCL
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = g.timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, g.rank, g.size, opts);
#else
    throw std::runtime_error("the NCCL backend is not available in this libtorch build (the shim was compiled without "
                             "CUDA or without c10d's NCCL process group); use Gloo");
#endif
  }
  throw std::invalid_argument("unknown backend code " + std::to_string(g.backend) + " (expected 0 = gloo or 1 = nccl)");
}

void join(pt_process_group_s& g) {
  g.store->set(key("join", g.rank), bytes("1"));
  std::vector<std::string> keys;
  for (int q = 0; q < g.size; q++) keys.push_back(key("join", q));
  auto deadline = Clock::now() + g.timeout;
  while (!g.store->check(keys)) {
    if (Clock::now() > deadline) {
      std::vector<int> missing;
      for (int q = 0; q < g.size; q++) if (!g.store->check({keys[static_cast<size_t>(q)]})) missing.push_back(q);
      throw std::runtime_error("rank " + join_ranks(missing) + " did not join the process group within "
                               + std::to_string(g.timeout.count()) + " ms (" + where(g) + ")");
    }
    std::this_thread::sleep_for(Millis(20));
  }
}

}  // namespace pt_dist

#endif  // PT_WITH_C10D
