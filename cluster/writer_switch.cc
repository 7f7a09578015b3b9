#include "cluster/writer_switch.h"

namespace fundledger {

Status WriterSwitch::Append(const RecordGroup& group) {
  MutexLock lock(mu_);  // held across the append: Lead and Follow wait for a group in flight
  if (record_ != nullptr) return record_->Append(group);
  Status refused = Overloaded(
      "this node follows the log and does not write it" +
      (writer_.empty() ? std::string("; no writer is known yet") : "; the writer is " + writer_));
  refused.WithRule(std::string(kNotWriter));
  return refused;
}

Status WriterSwitch::KeepLease() {
  if (!mu_.TryLock()) return Status::Ok();
  Status s = record_ != nullptr ? record_->KeepLease() : Status::Ok();
  mu_.Unlock();
  return s;
}

void WriterSwitch::Lead(std::unique_ptr<PgLogOfRecord> record) {
  MutexLock lock(mu_);
  record_ = std::move(record);
  leading_.store(true, std::memory_order_release);
}

void WriterSwitch::Follow(std::string writer) {
  MutexLock lock(mu_);
  record_.reset();
  writer_ = std::move(writer);
  leading_.store(false, std::memory_order_release);
}

}  // namespace fundledger
