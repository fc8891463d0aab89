#include "repo-server/worker_pool.h"

namespace pgbr::repo {

WorkerPool::WorkerPool(size_t threads) : threads_(threads < 1 ? 1 : threads), pool_(threads_) {}

WorkerPool::~WorkerPool() { pool_.join(); }

}  // namespace pgbr::repo
