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
#include "pt_dist.h"
#include "pt_collective_check.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef PT_WITH_C10D
using namespace pt_dist;
using pt_internal::T;
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
  // the collective wrote into x's storage behind ATen's back: bump its version counter as an in-place op would, so
  // caches keyed on it (LoraLinear's merged weight) see the change
  if (!buf.is_same(x)) x.detach().copy_(buf); else x.unsafeGetTensorImpl()->bump_version();
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
  // the collective wrote into x's storage behind ATen's back: bump its version counter as an in-place op would, so
  // caches keyed on it (LoraLinear's merged weight) see the change
  if (!buf.is_same(x)) x.detach().copy_(buf); else x.unsafeGetTensorImpl()->bump_version();
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
