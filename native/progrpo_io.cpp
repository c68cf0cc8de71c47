// Files through the shim's C ABI: named tensors (torch's pickle format), optimizer state (libtorch's archive), and
// the FileSink every writer of the shim streams into (progrpo_jit.cpp's module save too).
//
// Why a sink of our own: libtorch's file-based writers (torch::save(x, path), Module::save(path)) use an std::ofstream
// inside caffe2::serialize::PyTorchStreamWriter. On a full disk its write fails, the writer throws, and while that
// exception unwinds the stack the writer's destructor finalizes the archive, fails again and throws again:
// std::terminate, and the JVM dies with SIGABRT. Given a writer function that never fails, the writer never throws
// for I/O; the sink keeps the OS error and throws it after the writer is destroyed.
#include "progrpo_torch.h"
#include "pt_internal.h"

#include <torch/torch.h>
#include <torch/serialize.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using pt_internal::T;
using pt_internal::wrap;

// ---- FileSink ------------------------------------------------------------------------------------------------
pt_internal::FileSink::FileSink(const char* path) {
  if (path == nullptr) throw std::invalid_argument("null path");
  path_ = path;
  fd_ = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot open for writing: " + path_ + ": " + std::strerror(errno));
}

pt_internal::FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

size_t pt_internal::FileSink::write(const void* data, size_t n) noexcept {
  const char* p = static_cast<const char*>(data);
  size_t left = n;
  while (error_ == 0 && left > 0) {
    ssize_t w = ::write(fd_, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      error_ = errno;
    } else if (w == 0) {
      error_ = EIO;
    } else {
      p += w;
      left -= static_cast<size_t>(w);
      written_ += static_cast<uint64_t>(w);
    }
  }
  return n;  // never a short count: the zip writer must not see the failure (see the top of this file)
}

std::function<size_t(const void*, size_t)> pt_internal::FileSink::writer() {
  return [this](const void* data, size_t n) -> size_t { return write(data, n); };
}

void pt_internal::FileSink::finish() {
  if (fd_ >= 0) {
    struct stat st;
    // fsync where the data may still sit in the page cache (network and delayed-allocation file systems report
    // ENOSPC or EIO only then); devices such as /dev/full have nothing to sync
    if (error_ == 0 && ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && ::fsync(fd_) != 0) error_ = errno;
    if (::close(fd_) != 0 && error_ == 0) error_ = errno;
    fd_ = -1;
  }
  if (error_ != 0) {
    throw std::runtime_error("writing " + path_ + " failed after " + std::to_string(written_) + " bytes: " + std::strerror(error_));
  }
}

namespace {

// torch::pickle_save, less the type tag it wraps around every dict (torch.jit._pickle.restore_type_tag): PyTorch 2.6+
// torch.load defaults to weights_only=True, which refuses that global. A plain dict of str -> tensor in the same zip
// layout loads there, in older torch.load, and in torch::pickle_load alike. Streams into the sink.
void pickle_save_untagged(const c10::IValue& value, pt_internal::FileSink& sink) {
  std::vector<char> pickled;
  torch::jit::Pickler pickler([&](const char* buf, size_t size) { pickled.insert(pickled.end(), buf, buf + size); },
                              /*tensor_table=*/nullptr, /*type_renamer=*/nullptr, /*memoized_class_types=*/nullptr,
                              /*get_tensor_id=*/nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(value);
  pickler.stop();
  // On the heap, so that an error inside the writer (miniz out of memory: the sink itself never fails) can leave it
  // undestroyed: libtorch 1.13's destructor would finalize the archive again and throw from a destructor.
  auto writer = std::make_unique<caffe2::serialize::PyTorchStreamWriter>(sink.writer());
  try {
    torch::jit::writeArchiveAndTensors("data", pickled.data(), pickled.size(), pickler.tensorData(), *writer);
    writer->writeEndOfFile();
  } catch (...) {
    (void)writer.release();  // leaked on purpose (a few bytes of zip directory), see above
    throw;
  }
}

}  // namespace

extern "C" {

// ---- optimizer state -----------------------------------------------------------------------------------------
int32_t pt_optimizer_save(pt_optimizer o, const char* path) {
  PT_TRY
  if (o == nullptr) throw std::invalid_argument("null optimizer handle");
  pt_internal::FileSink sink(path);
  torch::save(*o->opt, sink.writer());  // the archive and its zip writer are gone when this returns
  sink.finish();
  PT_CATCH
}
int32_t pt_optimizer_load(pt_optimizer o, const char* path) {
  PT_TRY
  if (o == nullptr) throw std::invalid_argument("null optimizer handle");
  if (path == nullptr) throw std::invalid_argument("null path");
  torch::load(*o->opt, std::string(path));
  PT_CATCH
}

// ---- named tensors -------------------------------------------------------------------------------------------
int32_t pt_save_named(const char* path, const char* const* names, const pt_tensor* ts, int32_t n) {
  PT_TRY
  if (n < 0) throw std::invalid_argument("negative tensor count " + std::to_string(n));
  c10::Dict<std::string, at::Tensor> dict;
  for (int32_t i = 0; i < n; i++) {
    if (names[i] == nullptr) throw std::invalid_argument("null name for tensor " + std::to_string(i));
    dict.insert(std::string(names[i]), T(ts[i]).detach().to(at::kCPU));
  }
  pt_internal::FileSink sink(path);
  pickle_save_untagged(c10::IValue(dict), sink);
  sink.finish();
  PT_CATCH
}
int32_t pt_load_named(const char* path, pt_named* out) {
  PT_TRY
  if (path == nullptr) throw std::invalid_argument("null path");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(std::string("cannot open for reading: ") + path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw std::runtime_error(std::string("read failed: ") + path);
  c10::IValue v = torch::pickle_load(bytes);
  if (!v.isGenericDict()) throw std::runtime_error(std::string("not a dict of tensors: ") + path);
  auto list = std::make_unique<pt_named_s>();
  for (const auto& e : v.toGenericDict()) {
    if (!e.key().isString() || !e.value().isTensor()) throw std::runtime_error(std::string("entry is not str -> tensor in ") + path);
    list->names.push_back(e.key().toStringRef());
    list->tensors.push_back(e.value().toTensor());
  }
  *out = list.release();
  PT_CATCH
}
int32_t pt_named_size(pt_named l, int32_t* out) {
  PT_TRY
  if (l == nullptr) throw std::invalid_argument("null tensor list handle");
  *out = static_cast<int32_t>(l->names.size());
  PT_CATCH
}
int32_t pt_named_get(pt_named l, int32_t i, const char** name, pt_tensor* out) {
  PT_TRY
  if (l == nullptr) throw std::invalid_argument("null tensor list handle");
  size_t k = static_cast<size_t>(i);
  *name = l->names.at(k).c_str();
  *out = wrap(l->tensors.at(k));
  PT_CATCH
}
int32_t pt_named_free(pt_named l) { PT_TRY delete l; PT_CATCH }

}  // extern "C"
