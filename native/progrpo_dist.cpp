// Process groups for data-parallel training over libtorch's c10d: a TCP store rendezvous, Gloo on CPU, NCCL on CUDA
// where the libtorch build and the shim's build have it. Collectives are synchronous: each call waits for its work
// with the group's timeout, and a failure is rewritten into a message that names the rank that went missing.
// Before each collective the ranks all-gather a small fixed-size descriptor of what they pass (pt_collective_check.h)
// and run it only when all agree: Gloo aborts the process when the sizes differ.
//
// libtorch 1.13 (Debian) and PyTorch 2.x differ in one way that matters here: 2.x split ProcessGroup into a
// dispatching ProcessGroup and per-device Backend objects; ProcessGroupGloo and ProcessGroupNCCL derive from Backend
// there and from ProcessGroup in 1.13. The collective signatures (allreduce, allgather, broadcast over
// std::vector<at::Tensor>) and the options (ProcessGroupGloo::Options::create(timeout), TCPStoreOptions) are the same.
#include "progrpo_torch.h"
#include "pt_internal.h"
#include "pt_collective_check.h"

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

namespace {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

[[maybe_unused]] std::string join_ranks(const std::vector<int>& r) {
  std::ostringstream s;
  for (size_t i = 0; i < r.size(); i++) s << (i == 0 ? "" : ", ") << r[i];
  return s.str();
}

}  // namespace

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
  Millis timeout{30000};
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

namespace {

constexpr int kHeartbeatMs = 250;
const char* kPrefix = "progrpo/";

std::string key(const std::string& what, int rank) { return std::string(kPrefix) + what + "/" + std::to_string(rank); }

std::vector<uint8_t> bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }
std::string str(const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); }

pt_process_group_s& PG(pt_process_group p) {
  if (p == nullptr) throw std::invalid_argument("null process group handle");
  if (!p->pg && p->size > 1) throw std::invalid_argument("the process group is closed");
  return *p;
}

at::Tensor& T(pt_tensor t) {
  if (t == nullptr) throw std::invalid_argument("null tensor handle");
  return *reinterpret_cast<at::Tensor*>(t);
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

}  // namespace

#else  // !PT_WITH_C10D

struct pt_process_group_s { int rank = 0; };

#endif

extern "C" {

int32_t pt_dist_backend_available(int32_t backend, int32_t* out) {
  PT_TRY
  *out = 0;
#ifdef PT_WITH_GLOO
  if (backend == PT_DIST_BACKEND_GLOO) *out = 1;
#endif
#ifdef PT_WITH_NCCL
  if (backend == PT_DIST_BACKEND_NCCL) *out = 1;
#endif
  PT_CATCH
}

#ifdef PT_WITH_C10D

int32_t pt_pg_init(const char* host, int32_t port, int32_t rank, int32_t world_size, int32_t backend, int64_t timeout_ms, pt_process_group* out) {
  PT_TRY
  *out = nullptr;
  if (host == nullptr || *host == '\0') throw std::invalid_argument("empty rendezvous host (MASTER_ADDR)");
  if (port < 1 || port > 65535) throw std::invalid_argument("rendezvous port must be in [1, 65535], got " + std::to_string(port));
  if (world_size < 1) throw std::invalid_argument("world size must be >= 1, got " + std::to_string(world_size));
  if (rank < 0 || rank >= world_size) {
    throw std::invalid_argument("rank must be in [0, " + std::to_string(world_size) + "), got " + std::to_string(rank));
  }
  if (timeout_ms < 1) throw std::invalid_argument("timeout must be >= 1 ms, got " + std::to_string(timeout_ms));
  if (backend != PT_DIST_BACKEND_GLOO && backend != PT_DIST_BACKEND_NCCL) {
    throw std::invalid_argument("unknown backend code " + std::to_string(backend) + " (expected 0 = gloo or 1 = nccl)");
  }
  int32_t available = 0;
  pt_dist_backend_available(backend, &available);
  if (!available && world_size > 1) {
    // before the rendezvous, so every rank reports this rather than a peer's closed store
    throw std::runtime_error(backend == PT_DIST_BACKEND_NCCL
        ? "the NCCL backend is not available in this libtorch build (the shim was compiled without CUDA or without "
          "c10d's NCCL process group); use Gloo"
        : "the Gloo backend is not available in this build of the shim (Gloo's headers were not found when it was "
          "compiled; install libgloo-dev and rebuild native/)");
  }
  auto g = std::make_unique<pt_process_group_s>();
  g->host = host;
  g->port = port;
  g->rank = rank;
  g->size = world_size;
  g->backend = backend;
  g->timeout = Millis(timeout_ms);
  if (world_size == 1) {
    // one process: collectives are identities, no store, no sockets
    *out = g.release();
    return PT_OK;
  }
  try {
    g->store = connect(g->host, port, rank, world_size, g->timeout, rank == 0);
  } catch (const std::exception& e) {
    std::string why = rank == 0 ? "rank 0 could not start the rendezvous store on port " + std::to_string(port) + " (in use?)"
                                : "rank " + std::to_string(rank) + " could not reach the rendezvous store of rank 0 within "
                                      + std::to_string(timeout_ms) + " ms (rank 0 not started, or a wrong MASTER_ADDR/MASTER_PORT)";
    const auto* ce = dynamic_cast<const c10::Error*>(&e);
    throw std::runtime_error(why + " (" + where(*g) + "): " + (ce ? ce->what_without_backtrace() : e.what()));
  }
  g->hb_store = connect(g->host, port, rank, world_size, g->timeout, false);
  g->hb_store->add(key("hb", rank), 1);
  pt_process_group_s* raw = g.get();
  g->heartbeat = std::thread(beat, raw);
  join(*g);  // on failure the group's destructor stops the heartbeat
  g->store->set(key("at", rank), bytes("0"));
  g->pg = make_backend(*g);
  *out = g.release();
  PT_CATCH
}

int32_t pt_pg_free(pt_process_group p) {
  PT_TRY
  if (p == nullptr) return PT_OK;
  std::unique_ptr<pt_process_group_s> g(p);
  g->stop_heartbeat();
  g->pg.reset();
  g->hb_store.reset();
  g->store.reset();
  PT_CATCH
}

int32_t pt_pg_rank(pt_process_group p, int32_t* out) { PT_TRY *out = PG(p).rank; PT_CATCH }
int32_t pt_pg_world_size(pt_process_group p, int32_t* out) { PT_TRY *out = PG(p).size; PT_CATCH }

int32_t pt_pg_all_reduce(pt_process_group p, pt_tensor t, int32_t op) {
  PT_TRY
  auto& g = PG(p);
  at::Tensor& x = T(t);
  c10d::ReduceOp rop;
  switch (op) {
    case PT_REDUCE_SUM: case PT_REDUCE_AVG: rop = c10d::ReduceOp::SUM; break;
    case PT_REDUCE_MIN: rop = c10d::ReduceOp::MIN; break;
    case PT_REDUCE_MAX: rop = c10d::ReduceOp::MAX; break;
    default: throw std::invalid_argument("unknown reduce op code " + std::to_string(op) + " (expected 0 sum, 1 avg, 2 min, 3 max)");
  }
  at::NoGradGuard ng;
  at::Tensor buf = x.detach().contiguous();
  std::vector<at::Tensor> v{buf};
  c10d::AllreduceOptions o;
  o.reduceOp = rop;
  o.timeout = g.timeout;
  run_collective(g, "all_reduce", pt_collective::of_tensor(pt_collective::kAllReduce, op, buf), descriptor_device(g, &buf),
                 [&] { return g.pg->allreduce(v, o); });
  if (op == PT_REDUCE_AVG) buf.div_(static_cast<double>(g.size));
  if (!buf.is_same(x)) x.detach().copy_(buf);
  PT_CATCH
}

int32_t pt_pg_all_gather(pt_process_group p, pt_tensor t, pt_tensor* out) {
  PT_TRY
  auto& g = PG(p);
  at::NoGradGuard ng;
  at::Tensor x = T(t).detach().contiguous();
  std::vector<int64_t> shape{g.size};
  for (auto s : x.sizes()) shape.push_back(s);
  at::Tensor all = at::empty(shape, x.options());
  if (g.size == 1) {
    all.select(0, 0).copy_(x);
  } else {
    std::vector<std::vector<at::Tensor>> outs(1);
    for (int q = 0; q < g.size; q++) outs[0].push_back(all.select(0, q));
    std::vector<at::Tensor> in{x};
    c10d::AllgatherOptions o;
    o.timeout = g.timeout;
    run_collective(g, "all_gather", pt_collective::of_tensor(pt_collective::kAllGather, 0, x), descriptor_device(g, &x),
                   [&] { return g.pg->allgather(outs, in, o); });
    // Gloo writes into its own buffers when the outputs are views; copy what it returned into place
    for (int q = 0; q < g.size; q++) {
      if (!outs[0][static_cast<size_t>(q)].is_same(all.select(0, q))) all.select(0, q).copy_(outs[0][static_cast<size_t>(q)]);
    }
  }
  *out = reinterpret_cast<pt_tensor>(new at::Tensor(std::move(all)));
  PT_CATCH
}

int32_t pt_pg_broadcast(pt_process_group p, pt_tensor t, int32_t root) {
  PT_TRY
  auto& g = PG(p);
  if (root < 0 || root >= g.size) {
    throw std::invalid_argument("broadcast root must be in [0, " + std::to_string(g.size) + "), got " + std::to_string(root));
  }
  at::Tensor& x = T(t);
  at::NoGradGuard ng;
  at::Tensor buf = x.detach().contiguous();
  std::vector<at::Tensor> v{buf};
  c10d::BroadcastOptions o;
  o.rootRank = root;
  o.rootTensor = 0;
  o.timeout = g.timeout;
  run_collective(g, "broadcast", pt_collective::of_tensor(pt_collective::kBroadcast, root, buf), descriptor_device(g, &buf),
                 [&] { return g.pg->broadcast(v, o); });
  if (!buf.is_same(x)) x.detach().copy_(buf);
  PT_CATCH
}

int32_t pt_pg_barrier(pt_process_group p, int64_t timeout_ms) {
  PT_TRY
  auto& g = PG(p);
  if (g.size == 1) return PT_OK;
  Millis timeout = timeout_ms > 0 ? Millis(timeout_ms) : g.timeout;
  // Through the store rather than the backend: any timeout works, and the missing ranks can be named.
  int64_t n = ++g.barriers;
  std::string name = "barrier" + std::to_string(n);
  std::string cause;
  try {
    g.store->set(key(name, g.rank), bytes("1"));
    std::vector<std::string> keys;
    for (int q = 0; q < g.size; q++) keys.push_back(key(name, q));
    auto deadline = Clock::now() + timeout;
    auto next_check = Clock::now() + Millis(2000);
    while (!g.store->check(keys)) {
      auto now = Clock::now();
      std::vector<int> missing;
      if (now > deadline || now > next_check) {
        for (int q = 0; q < g.size; q++) if (!g.store->check({keys[static_cast<size_t>(q)]})) missing.push_back(q);
      }
      if (now > deadline) {
        throw std::runtime_error("rank " + std::to_string(g.rank) + ": barrier #" + std::to_string(n) + " timed out after "
                                 + std::to_string(timeout.count()) + " ms waiting for rank " + join_ranks(missing) + " (" + where(g) + ")");
      }
      if (now > next_check) {
        // a rank that died will never come: fail now rather than at the deadline
        std::vector<int> silent = silent_ranks(g);
        std::vector<int> gone;
        for (int q : missing) for (int s : silent) if (q == s) gone.push_back(q);
        if (!gone.empty()) {
          throw std::runtime_error("rank " + std::to_string(g.rank) + ": barrier #" + std::to_string(n) + " failed: rank "
                                   + join_ranks(gone) + " stopped before reaching it (no heartbeat; " + where(g) + ")");
        }
        next_check = Clock::now() + Millis(2000);
      }
      std::this_thread::sleep_for(Millis(10));
    }
    return PT_OK;
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find("barrier #") != std::string::npos) throw;
    cause = e.what();
  }
  if (g.rank == 0) throw std::runtime_error("rank 0: barrier #" + std::to_string(n) + " failed (" + where(g) + "): " + cause);
  throw std::runtime_error("rank " + std::to_string(g.rank) + ": barrier #" + std::to_string(n)
                           + " failed: rank 0 (host of the rendezvous store) is unreachable, its process stopped (" + where(g) + "); cause: " + cause);
  PT_CATCH
}

int32_t pt_pg_all_reduce_grads(pt_process_group p, const pt_tensor* params, int32_t n, double scale) {
  PT_TRY
  auto& g = PG(p);
  if (n < 0) throw std::invalid_argument("negative parameter count " + std::to_string(n));
  at::NoGradGuard ng;
  std::vector<at::Tensor> ps;
  for (int32_t i = 0; i < n; i++) ps.push_back(T(params[i]));
  if (ps.empty()) {
    // nothing to sync here; the ranks still check that none of them has parameters
    run_collective(g, "all_reduce(gradients)", pt_collective::of_parameters(ps), descriptor_device(g, nullptr), {});
    return PT_OK;
  }
  // one flat float32 bucket: every gradient (zeros where a rank has none) and, at the end, one has-gradient flag per
  // parameter, so a parameter no rank touched keeps no gradient (the optimizer then skips it, as in one process)
  auto dev = ps[0].device();
  std::vector<at::Tensor> parts;
  at::Tensor flags = at::zeros({static_cast<int64_t>(ps.size())}, at::TensorOptions().dtype(at::kFloat).device(dev));
  for (size_t i = 0; i < ps.size(); i++) {
    const at::Tensor& gr = ps[i].grad();
    if (gr.defined()) {
      parts.push_back(gr.detach().reshape({-1}).to(dev, at::kFloat));
      flags[static_cast<int64_t>(i)].fill_(1.0);
    } else {
      parts.push_back(at::zeros({ps[i].numel()}, at::TensorOptions().dtype(at::kFloat).device(dev)));
    }
  }
  parts.push_back(flags);
  at::Tensor bucket = at::cat(parts);
  if (g.size > 1) {
    std::vector<at::Tensor> v{bucket};
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    o.timeout = g.timeout;
    run_collective(g, "all_reduce(gradients)", pt_collective::of_parameters(ps), descriptor_device(g, &bucket),
                   [&] { return g.pg->allreduce(v, o); });
  }
  int64_t off = 0;
  int64_t nflags = static_cast<int64_t>(ps.size());
  at::Tensor gflags = bucket.narrow(0, bucket.numel() - nflags, nflags).cpu();
  for (size_t i = 0; i < ps.size(); i++) {
    at::Tensor& pr = ps[i];
    int64_t k = pr.numel();
    at::Tensor slice = bucket.narrow(0, off, k);
    off += k;
    if (gflags[static_cast<int64_t>(i)].item<float>() == 0) continue;
    at::Tensor val = slice.mul(scale).view(pr.sizes()).to(pr.device(), pr.scalar_type());
    if (pr.grad().defined()) {
      pr.mutable_grad().detach().copy_(val);
    } else {
      pr.mutable_grad() = val;
    }
  }
  PT_CATCH
}

#else  // !PT_WITH_C10D: every entry point says why

constexpr const char* kNoC10d =
    "distributed training is not available: this build of the shim has no c10d (libtorch's distributed headers were not found)";
int32_t pt_pg_init(const char*, int32_t, int32_t, int32_t, int32_t, int64_t, pt_process_group* out) {
  PT_TRY
  *out = nullptr;
  throw std::runtime_error(kNoC10d);
  PT_CATCH
}
int32_t pt_pg_free(pt_process_group) { PT_TRY PT_CATCH }
int32_t pt_pg_rank(pt_process_group, int32_t*) { PT_TRY throw std::runtime_error(kNoC10d); PT_CATCH }
int32_t pt_pg_world_size(pt_process_group, int32_t*) { PT_TRY throw std::runtime_error(kNoC10d); PT_CATCH }
int32_t pt_pg_all_reduce(pt_process_group, pt_tensor, int32_t) { PT_TRY throw std::runtime_error(kNoC10d); PT_CATCH }
int32_t pt_pg_all_gather(pt_process_group, pt_tensor, pt_tensor*) { PT_TRY throw std::runtime_error(kNoC10d); PT_CATCH }
int32_t pt_pg_broadcast(pt_process_group, pt_tensor, int32_t) { PT_TRY throw std::runtime_error(kNoC10d); PT_CATCH }
int32_t pt_pg_barrier(pt_process_group, int64_t) { PT_TRY throw std::runtime_error(kNoC10d); PT_CATCH }
int32_t pt_pg_all_reduce_grads(pt_process_group, const pt_tensor*, int32_t, double) { PT_TRY throw std::runtime_error(kNoC10d); PT_CATCH }

#endif

}  // extern "C"
