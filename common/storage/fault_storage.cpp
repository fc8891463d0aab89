#include "common/storage/fault_storage.h"

#include "common/error.h"

#include <algorithm>

namespace pgbr {
namespace {

class FaultWriter final : public StorageWriter {
public:
  FaultWriter(FaultStorage& owner, std::unique_ptr<StorageWriter> inner, std::string name)
      : owner_(owner), inner_(std::move(inner)), name_(std::move(name)) {}

  void write(std::span<const uint8_t> data) override {
    if (failed_) fail(ErrorCode::Internal, "write to '{}' after it failed", name_);
    auto [allowed, injectFailure] = owner_.admitWrite(data.size());
    if (allowed > 0) inner_->write(data.first(allowed));
    if (injectFailure) {
      failed_ = true;
      failErrno(ErrorCode::FileWrite, "cannot write", name_, owner_.error());
    }
  }
  void finish() override {
    if (failed_) fail(ErrorCode::Internal, "finish of '{}' after it failed", name_);
    if (!owner_.admitFinish()) {
      failed_ = true;
      failErrno(ErrorCode::FileWrite, "cannot sync", name_, owner_.error());
    }
    inner_->finish();
  }
  void cancel() noexcept override { inner_->cancel(); }
  WriteResult result() const override { return inner_->result(); }

private:
  FaultStorage& owner_;
  std::unique_ptr<StorageWriter> inner_;
  std::string name_;
  bool failed_ = false;
};

}  // namespace

std::unique_ptr<StorageWriter> FaultStorage::openWrite(std::string_view path, WriteMode mode) {
  return std::make_unique<FaultWriter>(*this, inner_.openWrite(path, mode), inner_.describe(path));
}

FaultStorage::Admission FaultStorage::admitWrite(size_t size) {
  uint64_t call = ++writeCalls_;
  if (plan_.failWriteCall != 0 && call == plan_.failWriteCall) return {0, true};
  uint64_t before = bytesWritten_.fetch_add(size);
  if (before + size <= plan_.byteBudget) return {size, false};
  size_t allowed = before >= plan_.byteBudget ? 0 : static_cast<size_t>(plan_.byteBudget - before);
  bytesWritten_ -= size - allowed;
  return {allowed, true};
}

bool FaultStorage::admitFinish() {
  uint64_t call = ++finishCalls_;
  return plan_.failFinishCall == 0 || call != plan_.failFinishCall;
}

}  // namespace pgbr
