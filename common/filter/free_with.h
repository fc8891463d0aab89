// A unique_ptr deleter that calls a C library's free function, so each C handle (EVP_MD_CTX,
// ZSTD_CCtx, LZ4F_dctx, ...) is owned RAII-style with one line: UniqueC<EVP_MD, EVP_MD_free>.
#pragma once

#include <memory>

namespace pgbr {

template <auto Free>
struct FreeWith {
  template <typename T>
  void operator()(T* handle) const {
    Free(handle);
  }
};

template <typename T, auto Free>
using UniqueC = std::unique_ptr<T, FreeWith<Free>>;

}  // namespace pgbr
