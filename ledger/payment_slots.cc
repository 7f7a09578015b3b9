#include "ledger/payment_slots.h"

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
  auto it = holders_.find(key);
  return it == holders_.end() ? nullptr : &it->second;
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
  if (!holders_.contains(key)) Set(key, line, undo);
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
  auto [it, added] = holders_.try_emplace(key, holder);
  if (!added) {
    if (undo != nullptr) undo->Push([this, key, old = it->second] { holders_[key] = old; });
    it->second = holder;
  } else if (undo != nullptr) {
    undo->Push([this, key] { holders_.erase(key); });
  }
}

void PaymentSlots::Erase(const SlotKey& key, UndoLog* undo) {
  auto it = holders_.find(key);
  if (it == holders_.end()) return;
  if (undo != nullptr) undo->Push([this, key, old = it->second] { holders_[key] = old; });
  holders_.erase(it);
}

size_t RollSlots::RefHash::operator()(const Ref& r) const {
  size_t h = std::hash<std::string_view>{}(r.beneficiary);
  boost::hash_combine(h, std::hash<std::string_view>{}(r.program));
  boost::hash_combine(h, r.period);
  return h;
}

Status RollSlots::Take(std::string_view beneficiary, std::string_view program, int32_t period) {
  if (taken_.insert(Ref{beneficiary, program, period}).second) return Status::Ok();
  return RuleError(RuleCode::kDuplicatePayment,
                   "beneficiary '" + std::string(beneficiary) + "' appears twice for '" +
                       std::string(program) + "' in " + FormatMonth(period) + " in this batch",
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
