#include "ledger/domain_state.h"

namespace fundledger {

std::string FundAccount(std::string_view fund, std::string_view bucket) {
  std::string s = "fund/";
  s += fund;
  s += "/";
  s += bucket;
  return s;
}
std::string BeneficiaryAccount(std::string_view beneficiary) { return "ben/" + std::string(beneficiary); }
std::string ExternalAccount(std::string_view name) { return "ext/" + std::string(name); }
bool IsFundAccount(std::string_view account) { return account.starts_with("fund/"); }

const StandardTerm* ProgramState::TermAt(int32_t month) const {
  const StandardTerm* found = nullptr;
  for (const StandardTerm& t : terms) {
    if (t.effective_month <= month) found = &t;
  }
  return found;
}

fb::BeneficiaryStatus BeneficiaryState::StatusOn(int32_t date) const {
  fb::BeneficiaryStatus status = fb::BeneficiaryStatus::active;
  for (const StatusChange& c : statuses) {
    if (c.effective_date <= date) status = c.status;
  }
  return status;
}

int32_t BeneficiaryState::DeathDate() const {
  for (const StatusChange& c : statuses) {
    if (c.status == fb::BeneficiaryStatus::deceased) return c.effective_date;
  }
  return 0;
}

std::string_view LineStateName(LineState state) {
  switch (state) {
    case LineState::kPending: return "pending";
    case LineState::kPaid: return "paid";
    case LineState::kReturned: return "returned";
    case LineState::kReissued: return "reissued";
    case LineState::kReversed: return "reversed";
    case LineState::kRecovered: return "recovered";
    case LineState::kRejected: return "rejected";
  }
  return "unknown";
}

std::string_view BatchStatusName(BatchStatus status) {
  switch (status) {
    case BatchStatus::kPrepared: return "prepared";
    case BatchStatus::kApproved: return "approved";
    case BatchStatus::kRejected: return "rejected";
  }
  return "unknown";
}

const Balance& DomainState::BalanceOf(const std::string& account) const {
  static const Balance kZero;
  auto it = balances.find(account);
  return it == balances.end() ? kZero : it->second;
}

std::string EnrollmentKey(std::string_view beneficiary, std::string_view program) {
  std::string s(beneficiary);
  s += '\x1f';
  s += program;
  return s;
}

std::string PaymentSlotKey(std::string_view beneficiary, std::string_view program, int32_t period) {
  std::string s = EnrollmentKey(beneficiary, program);
  s += '\x1f';
  s += std::to_string(period);
  return s;
}

}  // namespace fundledger
