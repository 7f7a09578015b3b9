#include "ledger/payment_slots.h"

#include <cassert>

#include "ledger/events.h"
#include "ledger/rule_code.h"

namespace fundledger {

std::string_view LineStateName(LineState state) {
  switch (state) {
    case LineState::kPending:
      return "pending";
    case LineState::kPaid:
      return "paid";
    case LineState::kReturned:
      return "returned";
    case LineState::kReissued:
      return "reissued";
    case LineState::kReversed:
      return "reversed";
    case LineState::kRecovered:
      return "recovered";
    case LineState::kRejected:
      return "rejected";
  }
  return "unknown";
}

std::optional<SlotKey> PaymentSlots::Find(const Names& names, std::string_view beneficiary,
                                          std::string_view program, int32_t period) {
  std::optional<NameId> b = names.Find(beneficiary), p = names.Find(program);
  if (!b || !p) return std::nullopt;
  return SlotKey{*b, *p, period};
}

const SlotHolder* PaymentSlots::HolderOf(const SlotKey& key) const {
  auto group = groups_.find(GroupKey(key));
  if (group == groups_.end()) return nullptr;
  auto it = group->second.find(key.beneficiary);
  return it == group->second.end() ? nullptr : &it->second;
}

Status PaymentSlots::CheckFree(const Names& names, const SlotKey& key,
                               std::string_view field) const {
  const SlotHolder* holder = HolderOf(key);
  if (holder == nullptr) return Status::Ok();
  return RuleError(RuleCode::kDuplicatePayment,
                   "beneficiary '" + names[key.beneficiary] + "' is already paid '" +
                       names[key.program] + "' for " + FormatMonth(key.period) + " (batch '" +
                       names[holder->batch] + "' line " + std::to_string(holder->line_no) + ")",
                   field);
}

Status PaymentSlots::CheckFree(const Names& names, std::string_view beneficiary,
                               std::string_view program, int32_t period,
                               std::string_view field) const {
  std::optional<SlotKey> key = Find(names, beneficiary, program, period);
  return key ? CheckFree(names, *key, field) : Status::Ok();
}

void PaymentSlots::TakeForPreparedLine(const SlotKey& key, SlotHolder line, UndoLog* undo) {
  if (HolderOf(key) == nullptr) Set(key, line, undo);
}

void PaymentSlots::ReleaseForRejectedLine(const SlotKey& key, SlotHolder line, UndoLog* undo) {
  const SlotHolder* holder = HolderOf(key);
  if (holder != nullptr && *holder == line) Erase(key, undo);
}

void PaymentSlots::OnLineState(const SlotKey& key, SlotHolder line, LineState from, LineState to,
                               UndoLog* undo) {
  bool held = HoldsPaymentSlot(from), holds = HoldsPaymentSlot(to);
  if (held && !holds) {
    Erase(key, undo);
  } else if (!held && holds) {
    Set(key, line, undo);
  }
}

void PaymentSlots::Set(const SlotKey& key, SlotHolder holder, UndoLog* undo) {
  auto [it, added] = GroupOf(key).try_emplace(key.beneficiary, holder);
  if (!added) {
    if (undo != nullptr) undo->Push([this, key, old = it->second] { Restore(key, old); });
    it->second = holder;
    return;
  }
  ++size_;
  if (undo != nullptr) undo->Push([this, key] { Erase(key, nullptr); });
}

void PaymentSlots::Erase(const SlotKey& key, UndoLog* undo) {
  auto group = groups_.find(GroupKey(key));
  if (group == groups_.end()) return;
  auto it = group->second.find(key.beneficiary);
  if (it == group->second.end()) return;
  if (undo != nullptr) undo->Push([this, key, old = it->second] { Restore(key, old); });
  group->second.erase(it);
  --size_;
  if (group->second.empty()) groups_.erase(group);
}

size_t RollSlots::RefHash::operator()(const Ref& r) const {
  size_t h = std::hash<std::string_view>{}(r.beneficiary);
  boost::hash_combine(h, std::hash<std::string_view>{}(r.program));
  boost::hash_combine(h, r.period);
  return h;
}

bool RollSlots::TakeById(const Line& line) {
  const uint64_t group = uint64_t{line.program_id} << 32 | static_cast<uint32_t>(line.period);
  if (last_bits_ == nullptr || group != last_group_) {
    auto [it, added] = taken_by_id_.try_emplace(group);
    if (added) it->second.assign((size_t{end_person_} - first_person_ + 63) / 64, 0);
    last_group_ = group;
    last_bits_ = &it->second;  // a flat map moves its values when it grows: found again above
  }
  assert(line.beneficiary_id >= first_person_ && line.beneficiary_id < end_person_);
  const size_t at = line.beneficiary_id - first_person_;
  uint64_t& word = (*last_bits_)[at / 64];
  const uint64_t bit = uint64_t{1} << (at % 64);
  if ((word & bit) != 0) return false;
  word |= bit;
  return true;
}

Status RollSlots::Take(const Line& line) {
  const bool interned = line.beneficiary_id != kNoNameId && line.program_id != kNoNameId;
  if (interned ? TakeById(line)
               : taken_by_name_.insert(Ref{line.beneficiary, line.program, line.period}).second)
    return Status::Ok();
  return RuleError(RuleCode::kDuplicatePayment,
                   "beneficiary '" + std::string(line.beneficiary) + "' appears twice for '" +
                       std::string(line.program) + "' in " + FormatMonth(line.period) +
                       " in this batch",
                   "beneficiary_id");
}

std::string PaymentSlotKey(std::string_view beneficiary, std::string_view program, int32_t period) {
  std::string s(beneficiary);
  s += '\x1f';
  s += program;
  s += '\x1f';
  s += std::to_string(period);
  return s;
}

}  // namespace fundledger
